"""What the dashboard needs from the process that serves it (settings, stores, clock, hooks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.models import Article
from bot.settings import ChannelSettings, Settings
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.command_limit import CommandLimiter
from bot.telegram_bot.views import when
from bot.web.metrics import ServiceMetrics
from bot.web.texts import Lang, as_lang

LOGIN_ATTEMPTS = 10  # per client address …
LOGIN_PERIOD = timedelta(minutes=10)  # … in this window
FetchArticle = Callable[[str], Awaitable[Article | None]]


@dataclass
class WebContext:
    """What the dashboard needs from the process that serves it.

    * `last_round`: when the delivery loop last finished a round (None in `relais web`, where
      no delivery loop runs here).
    * `apply_settings`: makes a saved planning live in the running service.
    * `fetch_article`: the app's fetch of an article of a configured site (preview by URL).
    * `metrics`: the running service's own counters, served with the database's figures (None
      in `relais web`: its /metrics has only what the database says).
    """

    settings: Settings
    storage: Storage
    clock: Clock
    config_path: Path | None = None
    wake: Callable[[], None] = lambda: None
    fetch_article: FetchArticle | None = None
    last_round: Callable[[], datetime | None] | None = None
    apply_settings: Callable[[Settings], None] | None = None
    metrics: ServiceMetrics | None = None
    limiter: CommandLimiter = field(
        default_factory=lambda: CommandLimiter(LOGIN_ATTEMPTS, LOGIN_PERIOD, max_users=10_000)
    )

    def __post_init__(self) -> None:
        self.readers = ReaderStore(self.storage.engine)

    @property
    def lang(self) -> Lang:
        return as_lang(self.settings.site.language)

    def when(self, moment: datetime | None) -> str:
        return when(moment, self.lang, self.settings.site.tz)

    def channel(self, channel_id: str) -> ChannelSettings | None:
        return next((c for c in self.settings.channels if c.id == channel_id), None)
