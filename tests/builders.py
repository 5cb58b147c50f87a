"""Test data builders: articles, queued deliveries and settings of a francophone news site.

Every builder gives a valid record with sensible defaults (a Malian news site's article, a
console channel that posts at once) and takes keyword overrides for what a test is about.
Two sites: `SAHEL_ACTU` (the default) and `BAMADA` (the reader bot's tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.queue_order import Waiting
from bot.feeds.identity import article_key, canonical_url, normalise_title
from bot.models import Article, NewArticle, SkipReason
from bot.settings import ChannelSettings, Settings, settings_from_mapping

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning in Bamako (UTC+0)
BAMAKO = ZoneInfo("Africa/Bamako")
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class NewsSite:
    """A news site the builders write for: its name, address and feed, and how its articles
    look by default (permalink, guid, headline and lead of article `n`, usual category, and
    `hours_before`: article `n` is published `hours_before - n` hours before BASE)."""

    name: str
    url: str
    feed: str
    categories: tuple[str, ...] = ()
    permalink: str = "/2026/11/article-{n}/"
    guid_offset: int = 1000
    headline: str = "Article numéro {n} : le conseil des ministres se réunit"
    lead: str = (
        "<p>Le gouvernement a annoncé mardi la mesure numéro {n}. Elle entre en vigueur "
        "dès la semaine prochaine dans tout le pays.</p>"
    )
    hours_before: int = 10

    def article(self, n: int, **fields: Any) -> Article:
        """`article(n, site=self, ...)`."""
        return article(n, site=self, **fields)


SAHEL_ACTU = NewsSite("Sahel Actu", "https://sahel-actu.example", "site")
BAMADA = NewsSite(
    "Bamada.net",
    "https://bamada.net",
    "bamada",
    categories=("Politique",),
    permalink="/2026/11/{n:04d}/article-{n}/",
    guid_offset=0,
    headline="Article {n} : le conseil des ministres s'est réuni à Koulouba",
    lead="<p>Le gouvernement a adopté mardi le projet numéro {n}. Il entre en vigueur dès la "
    "semaine prochaine sur tout le territoire national.</p>",
    hours_before=50,
)


# --------------------------------------------------------------------------- articles


def article(
    n: int,
    *,
    site: NewsSite = SAHEL_ACTU,
    feed: str | None = None,
    title: str | None = None,
    content: str | None = None,
    **fields: Any,
) -> Article:
    """Article number `n` of `site`, in the site's default style; any field overrides
    (`content` is `content_html`)."""
    url = fields.pop("url", site.url + site.permalink.format(n=n))
    canon = canonical_url(url)
    if content is not None:
        fields["content_html"] = content
    return Article(
        feed_id=feed or site.feed,
        key=article_key(canon),
        guid=fields.pop("guid", f"{site.url}/?p={site.guid_offset + n}"),
        url=url,
        canonical_url=canon,
        title=title or site.headline.format(n=n),
        published=fields.pop("published", BASE - timedelta(hours=site.hours_before - n)),
        categories=tuple(fields.pop("categories", site.categories)),
        content_html=fields.pop("content_html", site.lead.format(n=n)),
        **fields,
    )


def new_article(
    item: Article, channels: Iterable[str] = (), reason: SkipReason | None = None, **kw: Any
) -> NewArticle:
    """What ingest hands to `Storage.record`: the article and one decision per channel (None:
    queue it; else the skip reason)."""
    return NewArticle(item, normalise_title(item.title), [(c, reason) for c in channels], **kw)


# --------------------------------------------------------------------------- deliveries


def waiting(
    n: int, due: datetime, *, published: datetime | None = None, urgent: bool = False, **kw: Any
) -> Waiting:
    """A delivery waiting in a channel's queue, as the schedule sees it: article `n`, due."""
    return Waiting(n, article(n, published=published or due, **kw), due, urgent=urgent)


def overnight(count: int, day: int = 3, tz: ZoneInfo = BAMAKO) -> list[Waiting]:
    """`count` articles published and queued between 00:10 and 05:50 local time."""
    start = local(day, 0, 10, tz=tz)
    step = timedelta(minutes=340) / max(count - 1, 1)
    return [waiting(i + 1, start + step * i) for i in range(count)]


def local(
    day: int, hour: int, minute: int = 0, *, month: int = 11, tz: ZoneInfo = BAMAKO
) -> datetime:
    """An aware UTC instant from a local wall-clock time (year 2026)."""
    return datetime(2026, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


# --------------------------------------------------------------------------- settings

CONSOLE: Mapping[str, Any] = {"id": "out", "type": "console", "min_gap": "0s", "max_age": None}


def site_config(
    *,
    site: NewsSite = SAHEL_ACTU,
    feeds: Sequence[Mapping[str, Any]] | None = None,
    channels: Sequence[Mapping[str, Any]] | None = None,
    **sections: Any,
) -> dict[str, Any]:
    """A `relais.yaml` as a mapping: the site, its feed, one console channel; `sections` add
    or replace top-level keys (`site=` is the site record: override its keys with `about`)."""
    about = dict(sections.pop("about", {}))
    return {
        "site": {"name": site.name, "url": site.url, "timezone": "UTC", **about},
        "feeds": list(feeds)
        if feeds is not None
        else [{"id": site.feed, "url": f"{site.url}/feed"}],
        "channels": list(channels) if channels is not None else [dict(CONSOLE)],
        **sections,
    }


def settings(
    channels: Sequence[Mapping[str, Any]] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **sections: Any,
) -> Settings:
    """`site_config(...)` validated into Settings (secrets from `env`, never the real one)."""
    return settings_from_mapping(site_config(channels=channels, **sections), env=dict(env or {}))


def site_settings(tz: str = "Africa/Bamako", **channel: Any) -> Settings:
    """A site in `tz` with one console channel `tg`, planned by the `channel` keys."""
    base: dict[str, Any] = {"id": "tg", "type": "console", "max_age": None, "min_gap": "0s"}
    return settings([{**base, **channel}], about={"timezone": tz})


def channel(**kw: Any) -> ChannelSettings:
    """The channel of `site_settings(**kw)`."""
    return site_settings(**kw).channels[0]


def telegram_site(
    tg: Any, feed_url: str, db: str, *, first_run: str = "all", **telegram: Any
) -> dict[str, Any]:
    """The config of a site whose feed posts to @sahel_actu through the fake Bot API `tg`."""
    config = site_config(
        feeds=[{"id": "sahel", "url": feed_url, "first_run": first_run, "every": "1m"}],
        channels=[
            {
                "id": "tg-main",
                "type": "telegram",
                "chat": "@sahel_actu",
                "max_age": None,
                "min_gap": "0s",
            }
        ],
        storage=db,
        telegram={"token": tg.token, "api_url": tg.base_url, **telegram},
        about={"name": "Sahel-Actu"},
    )
    return config


def claim_due(
    storage: Any,
    channel_id: str,
    now: datetime,
    *,
    n: int,
    worker: str,
    gap: timedelta | None = None,
    day_start: datetime | None = None,
    window: Any = None,
) -> tuple[list[Any], datetime | None]:
    """Claim up to `n` deliveries of a channel, oldest first, through the real schedule
    (`next_step`) with a `gap` and nothing else; one claim is one turn, this takes several.
    Returns the claimed deliveries and, when none came, when the channel may post next.
    `window`: a platform's rate (`telegram_rates.window_opens`), as the outbox passes it."""
    from bot.delivery.next_post import next_step

    settings = channel(
        order="oldest", max_age=None, min_gap=f"{int((gap or timedelta()).total_seconds())}s"
    )

    def decide(facts: Any) -> Any:
        tally = facts.tally(now, BAMAKO)
        return next_step(
            now,
            facts.items,
            channel=settings,
            tz=BAMAKO,
            tally=tally,
            last_roundup=facts.last_roundup,
        )

    claimed: list[Any] = []
    later = None
    for _ in range(n):
        turn = storage.claim(
            channel_id, now, day_start=day_start or now, decide=decide, worker=worker, window=window
        )
        if turn.delivery is None:
            later = turn.later
            break
        claimed.append(turn.delivery)
    return claimed, (later if not claimed else None)
