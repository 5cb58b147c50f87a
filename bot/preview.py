"""`relais preview` and the demo's rendering: what each channel would get, without state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.content.describe import describe_post
from bot.content.render import Rendered, preview_record, render
from bot.content.teaser import article_teaser
from bot.delivery.route import follows, route
from bot.feeds.parse import ParsedFeed
from bot.models import Article
from bot.settings import ChannelSettings, Settings, settings_from_mapping


def default_preview_settings(feed: ParsedFeed | None = None, language: str = "fr") -> Settings:
    """No config: one Telegram and one Facebook channel with the built-in templates, for the
    site the feed says it is (its title and link), so that the call to action names it."""
    site_name = (feed.title.strip() if feed else "") or _host(feed.link if feed else None)
    site_url = feed.link if feed and feed.link and feed.link.startswith("http") else ""
    return settings_from_mapping(
        {
            "site": {"name": site_name or "Relais", "url": site_url, "language": language},
            "channels": [
                # a numeric chat: the Facebook call to action has no public channel to invite to
                {"id": "telegram", "type": "telegram", "chat": "-1000000000000"},
                {"id": "facebook", "type": "facebook", "page_id": "0", "token": "preview"},
            ],
            "telegram": {"token": "preview"},
        },
        source="(built-in preview settings)",
        env={},
    )


def _host(url: str | None) -> str:
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else ""


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """One article as one channel would get it: the rendered post, or why it cannot be."""

    feed_id: str
    channel: ChannelSettings
    article: Article
    rendered: Rendered | None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        if self.rendered is None:
            raise ValueError(self.error or "no post")
        return preview_record(
            self.feed_id, self.channel, self.article, self.rendered.post, self.rendered.teaser
        )


def render_for(
    feed_id: str,
    article: Article,
    channel: ChannelSettings,
    settings: Settings,
    strip: Sequence[str] = (),
) -> PreviewItem | None:
    """What one channel would get for one article; None when its filters leave it out."""
    if route(article, channel, text=article_teaser(article, 1000, extra_patterns=strip)):
        return None
    try:
        done = render(article, channel, settings.site, extra_patterns=strip)
    except ValueError as err:
        return PreviewItem(feed_id, channel, article, None, str(err))
    return PreviewItem(feed_id, channel, article, done)


def render_feed(
    parsed: ParsedFeed,
    settings: Settings,
    *,
    feed_id: str,
    strip: Sequence[str] = (),
    channel_id: str | None = None,
    limit: int | None = None,
    every_channel: bool = False,
) -> list[PreviewItem]:
    """Render the articles of a parsed feed for every channel that would take them;
    `every_channel`: for every channel, whichever feeds it follows (a file given by hand)."""
    out: list[PreviewItem] = []
    articles = list(parsed.articles)[:limit] if limit else list(parsed.articles)
    for article in articles:
        for channel in settings.channels:
            if channel_id is not None and channel.id != channel_id:
                continue
            if channel_id is None and not every_channel and not follows(channel, feed_id):
                continue
            rendered = render_for(feed_id, article, channel, settings, strip)
            if rendered is not None:
                out.append(rendered)
    return out


def human(item: PreviewItem) -> str:
    """A terminal-friendly block for one rendered post."""
    head = f"── {item.channel.id} ({item.channel.type.value}) · {item.article.title}"
    if item.rendered is None:
        return f"{head}\n   cannot render: {item.error}\n"
    body = "\n".join("   " + line for line in describe_post(item.rendered.post))
    return f"{head}\n{body}\n"
