"""Named types at every boundary: articles, posts, deliveries, publish results, feed state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class ChannelType(StrEnum):
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    CONSOLE = "console"


class SkipReason(StrEnum):
    """Why a delivery is skipped without being sent; the value is what its row records."""

    NOT_INCLUDED = "filtered out: matches none of the channel's include rules"
    EXCLUDED = "filtered out: matches the channel's exclude rules"
    BASELINE = "baseline: already in the feed on the first poll"
    TOO_OLD = "older than the channel's max_age"
    REPUBLISHED = "republished copy of an article seen before"
    NOTHING_NEW = "nothing new"  # a digest with no article to list
    READER_GONE = "the reader blocked the bot"
    STALE_AT_SLOT = "older than the channel's max_age when its turn came"
    APPROVAL_SKIPPED = "not approved: skipped by an admin or by the approval timeout"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    PENDING = "pending"  # waiting for an admin's approval
    COVERED = "covered"  # listed in a roundup (`covered_by`), never posted alone


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
    body_hash: str | None = None  # of the last body read: the same body again is a 304


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
    urgent: bool = False
    covered_by: int | None = None
    pinned_until: datetime | None = None
    asked_at: datetime | None = None  # `pending`: when the admins were asked


@dataclass(frozen=True, slots=True)
class Roundup:
    """One roundup row: the headline list a channel posts at `at` instead of a flood, and the
    articles of the deliveries it covers, top story first."""

    id: int
    channel_id: str
    at: datetime
    covered: tuple[int, ...]
    article_keys: tuple[str, ...]
    state: DeliveryState
    attempts: int = 0
    worker: str | None = None
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class EditClaim:
    """A claimed edit: the post (its delivery) to bring up to date, what it will show, and the
    platform calls that do it (`corrections.EditPlan.methods`)."""

    id: int
    delivery_id: int
    channel_id: str
    title: str
    lead: str
    image: str | None
    methods: tuple[str, ...]
    why: str = ""
    attempts: int = 0
    worker: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """What a channel's claim gave: a delivery (`urgent` or not) or a roundup to send now, the
    stale deliveries it skipped, or when to come back (`later`; None with nothing: idle)."""

    delivery: Delivery | None = None
    roundup: Roundup | None = None
    urgent: bool = False
    skipped: tuple[int, ...] = ()
    later: datetime | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop sending until someone fixes the credentials or rights (`platform_wide`: every
    channel of the platform, or for readers the whole bot)."""

    reason: str
    platform_wide: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ends, as `bot/delivery/outcome.py` decides it; applied in one place.

    `state`: the row's new state (SENDING only with `shorter`: render shorter and try again).
    `due`: when a re-queued row may go again (None: now). `release`: the attempt does not count.
    `alert`: tell the admins. `end_round`: send nothing more to this channel (or batch) now.
    `chat_moved`: the Telegram chat's new id. `unsubscribe`: the reader is gone.
    `rate_limited`: the platform asked us to slow down (a 429 and its `retry_after`)."""

    state: DeliveryState
    error: str | None = None
    due: datetime | None = None
    result: PublishResult | None = None
    release: bool = False
    pause: Pause | None = None
    alert: bool = False
    end_round: bool = False
    shorter: bool = False
    chat_moved: str | None = None
    unsubscribe: bool = False
    rate_limited: bool = False


# ---- records the storage returns and takes ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article to record with its per-channel decisions (None = queue, else skip reason)."""

    article: Article
    title_norm: str
    decisions: Sequence[tuple[str, SkipReason | None]]
    duplicate_of: str | None = None
    starts: Mapping[str, Start] = field(default_factory=dict)  # channel → how it starts


@dataclass(frozen=True, slots=True)
class Start:
    """How a queued delivery starts: breaking news (`urgent`, a priority rule matched) and/or
    waiting for an admin's approval (`pending`); an approved post keeps its urgency."""

    urgent: bool = False
    pending: bool = False


REGULAR = Start()


@dataclass(frozen=True, slots=True)
class ChannelState:
    channel_id: str
    paused: bool = False
    pause_reason: str | None = None
    chat_override: str | None = None
    paused_by: str | None = None
    chat_override_from: str | None = None
    created_at: datetime | None = None

    def chat_for(self, configured: str | None) -> str | None:
        """The chat to post to: a migrated chat's new id, while the config names the old one."""
        if self.chat_override and self.chat_override_from == configured:
            return self.chat_override
        return configured


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    channel_id: str
    counts: dict[str, int]
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    delivery: Delivery
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One outbox delivery as `/queue` shows it."""

    id: int
    channel_id: str
    state: DeliveryState
    due_at: datetime
    title: str
    error: str | None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What the bot keeps about one reader."""

    user_id: int
    chat_id: int
    language: str | None
    telegram_language: str | None
    digest: bool
    digest_since: datetime | None


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str  # folded key
    label: str  # as the site spells it


@dataclass(frozen=True, slots=True)
class Topic:
    """One of the site's categories: its folded key, the most used spelling, how many articles."""

    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A broadcast or digest row moved to `sending` by `worker`, with what sending it needs."""

    id: int
    user_id: int
    chat_id: int
    language: str | None  # the reader's chosen language, else Telegram's code, else None
    attempts: int
    worker: str | None = None
    article_key: str | None = None  # broadcasts
    topic: str | None = None  # broadcasts: the topic's label
    since: datetime | None = None  # digests
    until: datetime | None = None  # digests
    day: str | None = None  # digests


@dataclass(frozen=True, slots=True)
class Claim:
    """The rows claimed, and the earliest due time of what is still queued (None: nothing)."""

    rows: list[Claimed]
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What /stop deleted."""

    subscriber: bool
    subscriptions: int
    broadcasts: int
    digests: int

    @property
    def anything(self) -> bool:
        return bool(self.subscriber or self.subscriptions or self.broadcasts or self.digests)
