"""The Facebook publisher: posts to one Page, reconciles after an unknown outcome."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from bot import USER_AGENT
from bot.clock import Clock, SystemClock
from bot.errors import PermanentError, PublishError, UnknownOutcomeError
from bot.models import (
    FacebookPost,
    Post,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
)
from bot.publishers.boundary import chained, wrong_post
from bot.publishers.facebook.client import GraphClient
from bot.publishers.facebook.errors import DuplicatePostError, GraphFailure, map_failure
from bot.publishers.facebook.match import post_matches
from bot.settings import ChannelSettings, FacebookSettings
from bot.telegram_bot.messages import Lang, plain

log = logging.getLogger(__name__)

# published_posts: what reconcile asks for. `link` is deprecated on Page posts since v3.3
# (error #12); the shared link is the attachment's `unshimmed_url` (`url` is the l.facebook.com
# redirect), and a photo post carries the link in its caption (`message`).
RECONCILE_FIELDS: Final = (
    "id,message,created_time,permalink_url,attachments{type,url,unshimmed_url,target{url}}"
)
RECONCILE_PAGE_SIZE: Final = 25
RECONCILE_MAX_POSTS: Final = 100
RECONCILE_MARGIN: Final = timedelta(minutes=5)
DUPLICATE_LOOKBACK: Final = timedelta(days=2)


def _permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


class FacebookPublisher:
    """Publishes to one Facebook Page with its Page access token (Publisher protocol); `lang`
    is the site's language, that of the errors the admins read."""

    def __init__(
        self,
        channel: ChannelSettings,
        fb: FacebookSettings,
        *,
        clock: Clock | None = None,
        lang: Lang = "fr",
        user_agent: str = USER_AGENT,
    ) -> None:
        if not channel.page_id or channel.token is None:
            raise ValueError(f"channel {channel.id!r}: a facebook channel needs page_id and token")
        self.channel_id = channel.id
        self.page_id = channel.page_id
        self.rescrape = channel.rescrape
        self._clock: Clock = clock or SystemClock()
        self._client = GraphClient(channel.token.get_secret_value(), fb, user_agent)
        self._lang: Lang = lang

    async def edit(self, remote_id: str, post: Post, methods: Sequence[str]) -> PublishResult:
        """Bring a Page post up to date: its text with `POST /{post-id}` and `message`
        ("facebook_message"), its link card by asking Facebook to re-read the link
        ("facebook_rescrape"). An edit repeated shows the same text: nothing is doubled."""
        if not isinstance(post, FacebookPost):
            raise wrong_post(self.channel_id, post, "Facebook", self._lang)
        if "facebook_message" in methods:
            outcome = await self._client.call(
                "request",
                f"{self._client.version}/{remote_id}",
                post_args={"message": post.message},  # post_args: the SDK sends a POST
            )
            if isinstance(outcome, GraphFailure):
                raise self._map(outcome, may_have_posted=False)
        if "facebook_rescrape" in methods and post.link:
            await self._rescrape(post.link)
        return PublishResult(remote_id=remote_id, link=_permalink(remote_id))

    async def delete(self, remote_id: str) -> None:
        """DELETE /{post-id}."""
        outcome = await self._client.call("delete_object", remote_id)
        if isinstance(outcome, GraphFailure):
            raise self._map(outcome, may_have_posted=False)

    async def pin(self, remote_id: str) -> None:
        """A Page's posts are not pinned through the Graph API: breaking news only rings."""
        return None

    async def unpin(self, remote_id: str) -> None:
        return None

    async def aclose(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ publish

    async def publish(self, post: Post) -> PublishResult:
        if not isinstance(post, FacebookPost):
            raise wrong_post(self.channel_id, post, "Facebook", self._lang)
        if post.endpoint == "photos":
            if not post.url:
                raise PermanentError(plain(self._lang, "fb_error_photo_without_url"))
            outcome = await self._client.call(
                "put_object", self.page_id, "photos", url=post.url, caption=post.message
            )
        else:
            if self.rescrape and post.link:
                await self._rescrape(post.link)
            data = {"message": post.message}
            if post.link:
                data["link"] = post.link
            outcome = await self._client.call("put_object", self.page_id, "feed", **data)
        if isinstance(outcome, GraphFailure):
            error = self._map(outcome, may_have_posted=True)
            if isinstance(error, DuplicatePostError):
                return await self._after_duplicate(post, error)
            raise error
        return self._result(outcome.value, post.endpoint)

    def _map(self, failure: GraphFailure, *, may_have_posted: bool) -> PublishError:
        error = map_failure(
            failure,
            channel_id=self.channel_id,
            page_id=self.page_id,
            version=self._client.version,
            may_have_posted=may_have_posted,
            lang=self._lang,
        )
        return chained(error, failure.cause)

    def _result(self, value: Any, endpoint: str) -> PublishResult:
        post_id: Any = None
        if isinstance(value, dict):
            post_id = value.get("post_id") if endpoint == "photos" else None
            post_id = post_id or value.get("id")
        if not isinstance(post_id, str) or not post_id:
            raise UnknownOutcomeError(plain(self._lang, "fb_error_no_post_id"))
        return PublishResult(remote_id=post_id, link=_permalink(post_id))

    async def _rescrape(self, link: str) -> None:
        """Ask Facebook to re-read the article's Open Graph tags; a failure never blocks."""
        outcome = await self._client.call(
            "request", f"{self._client.version}/", post_args={"id": link, "scrape": "true"}
        )
        if isinstance(outcome, GraphFailure):
            log.warning(
                "Canal %s : Facebook n'a pas relu la carte de %s (%s) ; la publication continue.",
                self.channel_id,
                link,
                outcome.describe(),
            )

    async def _after_duplicate(
        self, post: FacebookPost, error: DuplicatePostError
    ) -> PublishResult:
        """#506: the same post is already on the Page, most likely from a lost earlier answer."""
        found = await self.reconcile(post, self._clock.now() - DUPLICATE_LOOKBACK)
        if found.outcome is ReconcileOutcome.FOUND and found.result is not None:
            log.info(
                "Canal %s : doublon refusé par Facebook, publication déjà présente (%s).",
                self.channel_id,
                found.result.remote_id,
            )
            return found.result
        if found.outcome is ReconcileOutcome.CANNOT_TELL:
            message = plain(self._lang, "fb_error_page_unreadable", error=error)
            raise chained(UnknownOutcomeError(message), error.__cause__)
        raise error

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        if not isinstance(post, FacebookPost):
            return Reconciliation(ReconcileOutcome.CANNOT_TELL)
        args: dict[str, str] = {
            "fields": RECONCILE_FIELDS,
            "since": str(int((since - RECONCILE_MARGIN).timestamp())),
            "limit": str(RECONCILE_PAGE_SIZE),
        }
        seen = 0
        while True:
            outcome = await self._client.call(
                "get_connections", self.page_id, "published_posts", **args
            )
            if isinstance(outcome, GraphFailure):
                log.warning(
                    "Canal %s : lecture des publications de la Page impossible (%s).",
                    self.channel_id,
                    outcome.describe(),
                )
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            page = outcome.value
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                log.warning("Canal %s : réponse de published_posts illisible.", self.channel_id)
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            for entry in data:
                if not isinstance(entry, dict):
                    continue
                seen += 1
                if post_matches(entry, post) and isinstance(entry.get("id"), str):
                    permalink = entry.get("permalink_url")
                    link = permalink if isinstance(permalink, str) else _permalink(entry["id"])
                    return Reconciliation(
                        ReconcileOutcome.FOUND, PublishResult(remote_id=entry["id"], link=link)
                    )
            paging = page.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not isinstance(next_url, str) or not next_url:
                return Reconciliation(ReconcileOutcome.ABSENT)
            if seen >= RECONCILE_MAX_POSTS:
                log.warning(
                    "Canal %s : plus de %d publications depuis %s ; impossible de conclure.",
                    self.channel_id,
                    RECONCILE_MAX_POSTS,
                    since.isoformat(),
                )
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            args = {
                k: v[-1]
                for k, v in parse_qs(urlsplit(next_url).query).items()
                if k != "access_token"
            }
