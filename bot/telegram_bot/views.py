"""Pure rendering of the bot's messages: article lists, broadcasts, digests, status and queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.content.telegram_html import TELEGRAM_MESSAGE_LIMIT, escape_html, telegram_length
from bot.models import (
    Article,
    ChannelCounts,
    ChannelState,
    ChannelType,
    DeliveryState,
    FeedState,
    QueueRow,
)
from bot.settings import ChannelSettings
from bot.telegram_bot.messages import MONTHS, Html, Lang, text

TITLE_MAX = 300  # characters of a title shown in a list (titles are short; feeds are not always)


def when(moment: datetime | None, lang: Lang, tz: ZoneInfo) -> str:
    """'2 nov. 09:15' / 'Nov 2, 09:15' in the site's time zone; '—' for no time."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    month = MONTHS[lang][local.month - 1]
    if lang == "en":
        return f"{month} {local.day}, {local:%H:%M}"
    return f"{local.day} {month} {local:%H:%M}"


def day_label(day: date, lang: Lang) -> str:
    month = MONTHS[lang][day.month - 1]
    return f"{month} {day.day}, {day.year}" if lang == "en" else f"{day.day} {month} {day.year}"


def _short(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """An HTML link whose label and address are escaped."""
    return f'<a href="{escape_html(url)}">{escape_html(label)}</a>'


def article_lines(
    articles: Sequence[Article], lang: Lang, tz: ZoneInfo, *, first_number: int = 1
) -> list[str]:
    """One numbered entry per article: linked title, then date and first category."""
    lines: list[str] = []
    for number, article in enumerate(articles, start=first_number):
        title = _short(article.title, TITLE_MAX) or article.url
        details = [when(article.published, lang, tz)] if article.published else []
        if article.categories:
            details.append(_short(article.categories[0], 60))
        entry = f"{number}. {link(article.url, title)}"
        if details:
            entry += f"\n   <i>{escape_html(' · '.join(details))}</i>"
        lines.append(entry)
    return lines


def fit(lines: Sequence[str], limit: int = TELEGRAM_MESSAGE_LIMIT) -> str:
    """Join lines (each valid HTML on its own) and drop whole lines from the end until the
    message is within Telegram's limit, marking the cut with '…'."""
    kept = list(lines)
    message = "\n".join(kept)
    while kept and telegram_length(message) > limit:
        kept.pop()
        message = "\n".join([*kept, "…"])
    return message


def broadcast_text(article: Article, topic: str, teaser: str, lang: Lang) -> str:
    """The private message a subscriber gets for a new article in one of their topics."""
    blocks = [
        text(lang, "broadcast_head", topic=_short(topic, 100)),
        f"<b>{escape_html(_short(article.title, TITLE_MAX))}</b>",
    ]
    if teaser:
        blocks.append(escape_html(teaser))
    return fit(["\n\n".join(blocks)])


def digest_text(
    articles: Sequence[Article], lang: Lang, tz: ZoneInfo, *, site: str, day: date
) -> str:
    head = text(lang, "digest_title", site=site, date=day_label(day, lang))
    footer = text(lang, "digest_footer")
    body = article_lines(articles, lang, tz)
    message = fit([head, "", *body], TELEGRAM_MESSAGE_LIMIT - telegram_length(footer) - 2)
    return f"{message}\n\n{footer}"


# ---- admins ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelLine:
    settings: ChannelSettings
    counts: ChannelCounts | None
    state: ChannelState


_SHOWN_STATES = (
    DeliveryState.QUEUED,
    DeliveryState.SENDING,
    DeliveryState.SENT,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
)


def counts_text(counts: Mapping[str, int], lang: Lang) -> str:
    parts = [
        text(lang, f"state_{state.value}", n=counts[state.value])
        for state in _SHOWN_STATES
        if counts.get(state.value)
    ]
    return ", ".join(parts) if parts else text(lang, "nothing")


def status_text(
    *,
    lang: Lang,
    tz: ZoneInfo,
    site: str,
    feeds: Sequence[tuple[str, FeedState | None]],
    channels: Sequence[ChannelLine],
    readers: int,
    digest_readers: int,
    broadcasts: Mapping[str, int],
) -> str:
    lines = [text(lang, "status_title", site=site), "", text(lang, "status_feeds")]
    if not feeds:
        lines.append(text(lang, "status_no_feeds"))
    for feed_id, state in feeds:
        if state is None or state.last_poll is None:
            lines.append(text(lang, "status_feed_never", feed=feed_id))
            continue
        result = _short(state.last_result or "", 160)
        if state.consecutive_errors:
            result = (
                f"{text(lang, 'status_feed_errors', count=state.consecutive_errors)} — {result}"
            )
        lines.append(
            text(
                lang,
                "status_feed_line",
                ok="⚠️" if state.consecutive_errors else "✅",
                feed=feed_id,
                result=result,
                last=when(state.last_poll, lang, tz),
                next=when(state.next_poll, lang, tz),
            )
        )
    lines += ["", text(lang, "status_channels")]
    if not channels:
        lines.append(text(lang, "status_no_channels"))
    for line in channels:
        counts = line.counts.counts if line.counts else {}
        pieces = [counts_text(counts, lang)]
        if line.counts and line.counts.next_due and not line.state.paused:
            pieces.append(text(lang, "status_next", when=when(line.counts.next_due, lang, tz)))
        if line.state.paused:
            pieces.append(
                text(lang, "status_paused", reason=_short(line.state.pause_reason or "", 160))
            )
        problem = line.state.paused or counts.get("failed") or counts.get("unknown")
        lines.append(
            text(
                lang,
                "status_channel_line",
                ok="⚠️" if problem else "✅",
                channel=line.settings.id,
                type=line.settings.type.value,
                counts=Html(" · ".join(pieces)),
            )
        )
    lines += [
        "",
        text(
            lang,
            "status_readers",
            readers=readers,
            digest=digest_readers,
            counts=Html(counts_text(broadcasts, lang)),
        ),
    ]
    return fit(lines)


def queue_text(rows: Sequence[QueueRow], lang: Lang, tz: ZoneInfo, channel: str | None) -> str:
    suffix = f" — {channel}" if channel else ""
    lines = [text(lang, "queue_title", channel=suffix)]
    if not rows:
        return "\n".join([*lines, text(lang, "queue_empty")])
    for row in rows:
        label = text(lang, f"label_{row.state.value}")
        due = f" ({when(row.due_at, lang, tz)})" if row.state is DeliveryState.QUEUED else ""
        lines.append(
            text(
                lang,
                "queue_line",
                id=row.id,
                channel=row.channel_id,
                state=Html(label),
                when=due,
                title=_short(row.title, 120),
            )
        )
    lines += ["", text(lang, "queue_hint")]
    return fit(lines)


def channel_kind(channel: ChannelSettings) -> str:
    return {
        ChannelType.TELEGRAM: "Telegram",
        ChannelType.FACEBOOK: "Facebook",
        ChannelType.CONSOLE: "console",
    }[channel.type]
