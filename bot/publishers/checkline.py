"""One line of `relais check --online`, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckLine:
    """A checked thing (a channel, or "telegram" for the bot), OK or not, and what to do, in
    the site's language. `reachable` is False when the platform could not be asked: the line
    then says nothing about the credentials."""

    channel_id: str
    ok: bool
    message: str
    reachable: bool = True
