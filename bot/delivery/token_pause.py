"""Facebook tokens, checked at start and daily: a refused one pauses its Page, a good one resumes.

The decision (`token_action`) is pure; `TokenWatch.check_all` asks Facebook about each Page's
token, decides, and applies: a pause through the outbox's own `pause` (the one that alerts once),
a resumption by lifting the pause the outbox made for refused credentials (`by="auth"`), never one
an admin made.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Protocol

from bot.clock import Clock
from bot.delivery.alerts import Alerts
from bot.delivery.outbox import Outbox
from bot.models import ChannelType
from bot.settings import ChannelSettings, FacebookSettings, Settings
from bot.storage.store import Storage
from bot.telegram_bot.messages import Lang

log = logging.getLogger("relais")

REFUSED = "jeton refusé"  # the pause's reason when Facebook gave none


class TokenHealth(Protocol):
    """What a token check says (publishers.facebook's TokenReport has these fields)."""

    @property
    def ok(self) -> bool: ...
    @property
    def reachable(self) -> bool: ...
    @property
    def messages(self) -> Sequence[str]: ...


TokenCheck = Callable[[ChannelSettings, FacebookSettings, Clock], Awaitable[TokenHealth]]


class TokenMove(Enum):
    KEEP = "keep"  # Facebook could not be asked: the token's state is unknown
    PAUSE = "pause"  # refused: pause once (an existing pause is left as it is)
    RESUME = "resume"  # works: lift a pause made for refused credentials, if there is one


@dataclass(frozen=True, slots=True)
class TokenAction:
    move: TokenMove
    reason: str = ""


def token_action(health: TokenHealth) -> TokenAction:
    """What a token check means for its channel."""
    if not health.reachable:
        return TokenAction(TokenMove.KEEP)  # Facebook unreachable says nothing about the token
    if health.ok:
        return TokenAction(TokenMove.RESUME)
    return TokenAction(TokenMove.PAUSE, " ".join(health.messages) or REFUSED)


async def check_facebook_token(
    channel: ChannelSettings, fb: FacebookSettings, clock: Clock, *, lang: Lang = "fr"
) -> TokenHealth:
    """The real check: debug_token and /me on the Graph API; `lang`, that of its messages."""
    from bot.publishers.facebook import check_token

    return await check_token(channel, fb, clock=clock, lang=lang)


class TokenWatch:
    """Applies the token policy to every Facebook channel of the settings."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        outbox: Outbox,
        *,
        clock: Clock,
        alerts: Alerts,
        check: TokenCheck | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.outbox = outbox
        self.clock = clock
        self.alerts = alerts
        self._check = check or partial(check_facebook_token, lang=settings.site.language)

    async def check_all(self) -> None:
        """Check each Facebook Page's token and apply what it means; then send the alerts."""
        channels = [c for c in self.settings.channels if c.type is ChannelType.FACEBOOK]
        if not channels:
            return
        for channel in channels:
            try:
                health = await self._check(channel, self.settings.facebook, self.clock)
            except Exception:
                log.exception("checking the token of %s failed", channel.id)
                continue
            self._apply(channel, token_action(health))
        await self.alerts.flush()

    def _apply(self, channel: ChannelSettings, action: TokenAction) -> None:
        if action.move is TokenMove.PAUSE:
            self.outbox.pause(channel, action.reason)
        elif action.move is TokenMove.RESUME and self.storage.set_paused(
            channel.id, False, None, self.clock.now(), by="auth"
        ):
            log.info("channel %s: the token works again; posting resumes", channel.id)
            self.alerts.add(
                "Canal repris",
                f"{channel.id} : le jeton fonctionne de nouveau, les "
                "publications en attente repartent.",
            )
