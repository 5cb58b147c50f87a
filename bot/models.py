"""Named types at every boundary: articles, posts, deliveries, publish results, feed state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class ChannelType(StrEnum):
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    CONSOLE = "console"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Article:
    """One article of a feed, normalised. `key` is its stable identity within Relais."""

    feed_id: str
    key: str
    guid: str | None
    url: str
    canonical_url: str
    title: str
    published: datetime | None
    author: str | None = None
    categories: tuple[str, ...] = ()
    image: str | None = None
    content_html: str = ""
    summary_html: str = ""


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """A feed entry that cannot become an article (no usable link...), with the reason."""

    feed_id: str
    title: str
    reason: str


Button = tuple[str, str]


@dataclass(frozen=True, slots=True)
class TelegramPost:
    method: Literal["sendPhoto", "sendMessage"]
    text: str
    photo: str | None
    buttons: tuple[tuple[Button, ...], ...] = ()
    link: str = ""
    silent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "text": self.text,
            "photo": self.photo,
            "buttons": [[label, url] for row in self.buttons for (label, url) in row],
        }


@dataclass(frozen=True, slots=True)
class FacebookPost:
    endpoint: Literal["feed", "photos"]
    message: str
    link: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "message": self.message,
            "link": self.link,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class ConsolePost:
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text}


Post = TelegramPost | FacebookPost | ConsolePost


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a platform answered for a post that went out."""

    remote_id: str
    link: str | None = None


class ReconcileOutcome(StrEnum):
    FOUND = "found"
    ABSENT = "absent"
    CANNOT_TELL = "cannot_tell"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    outcome: ReconcileOutcome
    result: PublishResult | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What Relais remembers about one feed between polls."""

    feed_id: str
    url: str
    configured_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_result: str | None = None
    next_poll: datetime | None = None
    consecutive_errors: int = 0
    baselined: bool = False
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: an article for a channel, and where it stands."""

    id: int
    article_key: str
    channel_id: str
    state: DeliveryState
    due_at: datetime
    attempts: int = 0
    remote_id: str | None = None
    remote_link: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    sent_at: datetime | None = None
    attempted_at: datetime | None = None
    worker: str | None = None
