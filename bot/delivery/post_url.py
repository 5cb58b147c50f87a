"""An admin's /post: the article at a URL of the site, queued once for each channel that takes it.

`PostUrl` is what the admin commands' hooks (`telegram_bot.context.AdminHooks`) call: the bot
fetches nothing itself. It fetches only from the site's and the configured feeds' origins (scheme,
host and port), and every redirect hop must stay on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.clock import Clock
from bot.delivery.priority import urgent_verdict
from bot.delivery.route import route
from bot.errors import FeedError
from bot.feeds.fetch import Fetcher, fetch_and_parse
from bot.feeds.identity import (
    Origin,
    allowed_origins,
    article_key,
    canonical_url,
    normalise_title,
    safe_link,
    url_origin,
)
from bot.feeds.page import page_article
from bot.models import Article, NewArticle, SkipReason, Start
from bot.settings import ChannelSettings, Settings
from bot.storage.store import Storage

PAGE_MAX_BYTES = 2 * 1024 * 1024  # an article's own page, read for its Open Graph tags

Decisions = list[tuple[str, SkipReason | None]]  # (channel id, skip reason or None to queue)


def on_site(article: Article, origins: set[Origin]) -> bool:
    """Whether a page's article and its canonical link both belong to the allowed origins."""
    return url_origin(article.url) in origins and url_origin(article.canonical_url) in origins


def decisions_for(
    article: Article, channels: Sequence[ChannelSettings], has: set[str]
) -> Decisions:
    """Each channel's routing decision, for the channels that do not have the article yet."""
    return [(c.id, route(article, c)) for c in channels if c.id not in has]


class PostUrl:
    """Finds an article by URL (`fetch_article`) and queues it for the channels (`enqueue`)."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        fetcher: Fetcher,
        *,
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.fetcher = fetcher
        self.clock = clock
        self._wake = wake

    def origins(self) -> set[Origin]:
        """Where an admin may /post from: the site's and every configured feed's origin."""
        return allowed_origins(self.settings.site.url, [f.url for f in self.settings.feeds])

    async def fetch_article(self, url: str) -> Article | None:
        """The article at `url` of a configured site: the one already recorded, else the entry
        of a configured feed, else what the page's own Open Graph tags say. Fetches nothing
        from another host."""
        link = safe_link(url, None)
        origins = self.origins()
        if link is None or url_origin(link) not in origins:
            return None
        key = article_key(canonical_url(link))
        if key in self.storage.seen([key]):
            return self.storage.article(key)
        return await self._from_feeds(key) or await self._from_page(link, key, origins)

    async def _from_feeds(self, key: str) -> Article | None:
        for feed in self.settings.feeds:
            try:
                parsed = await fetch_and_parse(self.fetcher, feed.url, feed.id, feed.max_bytes)
            except FeedError:
                continue
            for article in parsed.articles:
                if article.key == key:
                    return article
        return None

    async def _from_page(self, link: str, key: str, origins: set[Origin]) -> Article | None:
        try:  # every redirect hop must stay on a configured origin
            page = await self.fetcher.fetch(link, max_bytes=PAGE_MAX_BYTES, origins=origins)
        except FeedError:
            return None
        text = page.body.decode("utf-8", "replace")
        found = page_article(text, page.final_url or link, feed_id=self.settings.feeds[0].id)
        if found is None or not on_site(found, origins):
            return None
        if found.key != key and found.key in self.storage.seen([found.key]):
            return self.storage.article(found.key)  # a variant of a link already recorded
        return found

    async def urgent(self, article: Article) -> list[tuple[str, str]]:
        """An admin's /urgent: on every channel whose filters take the article, create its
        delivery as urgent, promote the one that waits, or refuse (`priority.urgent_verdict`).
        Returns (channel id, what was done) for each."""
        now = self.clock.now()
        known = self.storage.known_keys([article])
        key = known.get(article.key, article.key)
        states = self.storage.states_of(key) if known else {}
        channels = [c for c in self.settings.channels if route(article, c) is None]
        verdicts = {
            c.id: urgent_verdict(states[c.id].value if c.id in states else None) for c in channels
        }
        create = [c for c, v in verdicts.items() if v.action == "create"]
        starts = {c: Start(urgent=True) for c in create}
        if create and known:
            more = [(key, c, None) for c in create]
            self.storage.record(
                [], now, more=more, more_starts={(key, c): Start(urgent=True) for c in create}
            )
        elif create:
            decisions: Decisions = [(c, None) for c in create]
            item = NewArticle(article, normalise_title(article.title), decisions, starts=starts)
            self.storage.record([item], now)
        answers: list[tuple[str, str]] = []
        for channel_id, verdict in verdicts.items():
            if verdict.action == "promote" and not self.storage.promote_urgent(
                key, channel_id, now
            ):
                verdict = urgent_verdict("sending")  # it left the queue meanwhile
            answers.append((channel_id, verdict.message))
        if any(v.action != "refuse" for v in verdicts.values()):
            self._wake()
        return answers

    async def enqueue(self, article: Article) -> list[str]:
        """Queue the article for every channel whose filters take it (once per channel, ever:
        a channel that already has it gets nothing); returns those channels' ids."""
        now = self.clock.now()
        known = self.storage.known_keys([article])
        key = known.get(article.key, article.key)
        has = self.storage.seen([key]).get(key, (now, set()))[1]
        decisions = decisions_for(article, self.settings.channels, has)
        if known:
            self.storage.record([], now, more=[(key, c, r) for c, r in decisions])
        else:
            item = NewArticle(article, normalise_title(article.title), decisions)
            self.storage.record([item], now)
        self._wake()
        return [c for c, reason in decisions if reason is None]
