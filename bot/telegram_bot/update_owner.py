"""The bot's updates, owned by one instance: each update claimed once, the offset kept.

With several instances (PostgreSQL) only the leader receives updates (bot/leadership.py). An
update is claimed in the database before any handler sees it (`claim_first`), so a new leader
after a failover never answers one twice: what the old leader claimed is dropped. When it takes
over, the new leader first confirms to Telegram every update up to the last one claimed
(`confirm_offset`), so that it starts after them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ExtBot, TypeHandler

from bot.clock import Clock
from bot.storage.leases import LeasesPart

log = logging.getLogger("relais.readers")

CLAIM_GROUP = -2  # before the gate (group -1) and every handler


def claim_first(leases: LeasesPart, worker: str, clock: Clock) -> TypeHandler[Update, Any, Any]:
    """The handler that claims each update before the others run; a claimed one stops there."""

    async def claim(update: Update, _context: Any) -> None:
        if not leases.claim_update(update.update_id, worker, clock.now()):
            log.info("update %s was handled already (another owner of the bot)", update.update_id)
            raise ApplicationHandlerStop

    return TypeHandler(Update, claim)


async def confirm_offset(bot: ExtBot[Any], leases: LeasesPart, allowed: list[str]) -> int | None:
    """Tell Telegram every update up to the last one claimed is handled; the next offset."""
    last = leases.last_update_id()
    if last is None:
        return None
    try:
        await bot.get_updates(offset=last + 1, timeout=0, limit=1, allowed_updates=allowed)
    except TelegramError as err:  # the claims still drop what comes again
        log.warning("could not confirm the bot's update offset: %s", err.message)
    return last + 1


def polling_error(describe: Callable[[TelegramError], str]) -> Callable[[TelegramError], None]:
    """The updater's error callback: one warning line per failed getUpdates, no traceback
    (python-telegram-bot's default logs an ERROR with the traceback of every passing 502)."""

    def on_error(err: TelegramError) -> None:
        log.warning("getUpdates failed: %s; polling again", describe(err))

    return on_error
