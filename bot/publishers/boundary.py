"""What both adapters do at the library boundary: short texts, scrubbed causes."""

from __future__ import annotations

from typing import TypeVar

from bot.errors import PermanentError, PublishError
from bot.models import Post
from bot.telegram_bot.messages import Lang, plain

E = TypeVar("E", bound=PublishError)


def short(text: str, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chained(error: E, cause: BaseException | None) -> E:
    """`error`, ready to raise, chained to `cause` only (never to what was being handled).

    The cause is the library's exception when it prints no secret, a scrubbed stand-in, or
    None: a logged traceback then shows nothing that holds a token.
    """
    error.__cause__ = cause
    error.__suppress_context__ = True
    return error


def wrong_post(channel_id: str, post: Post, platform: str, lang: Lang) -> PermanentError:
    """A post rendered for another platform reached this one's publisher (a bug upstream)."""
    return PermanentError(
        plain(
            lang,
            "error_wrong_post",
            channel=channel_id,
            kind=type(post).__name__,
            platform=platform,
        )
    )
