"""How a post is shown to a person: one description for the console, previews, demo and /preview."""

from __future__ import annotations

from bot.content.telegram_html import escape_html
from bot.models import FacebookPost, Post, TelegramPost

__all__ = ["describe_post", "describe_post_html"]


def _head(post: Post) -> str:
    """What the platform is asked to do: the method or endpoint, the photo, the link."""
    if isinstance(post, TelegramPost):
        return post.method + (f" · photo {post.photo}" if post.photo else "")
    if isinstance(post, FacebookPost):
        return f"/{post.endpoint} · link {post.link}" + (f" · photo {post.url}" if post.url else "")
    return ""


def _body(post: Post) -> str:
    return post.message if isinstance(post, FacebookPost) else post.text


def _extras(post: Post) -> list[str]:
    if isinstance(post, TelegramPost):
        return [f"[{label}] → {url}" for row in post.buttons for (label, url) in row]
    return []


def describe_post(post: Post) -> list[str]:
    """The lines a person reads to see a post as the platform would get it: what is asked of
    the platform, the text (Telegram HTML as sent), the buttons."""
    head = _head(post)
    return ([head] if head else []) + _body(post).splitlines() + _extras(post)


def describe_post_html(post: Post) -> str:
    """The same description as Telegram HTML (an admin's /preview): a Telegram post's text is
    shown formatted, as the channel will show it; everything else is escaped."""
    body = post.text if isinstance(post, TelegramPost) else escape_html(_body(post))
    head = _head(post)
    blocks = [escape_html(head)] if head else []
    blocks.append(body)
    if _extras(post):
        blocks.append("\n".join(escape_html(line) for line in _extras(post)))
    return "\n\n".join(blocks)
