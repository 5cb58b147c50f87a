"""Alerts to the admins by private Telegram message."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit
from telegram.error import TelegramError

log = logging.getLogger("relais.alerts")


class TelegramAdminNotifier:
    """Sends each grouped alert to every admin; an admin who cannot be reached is logged."""

    def __init__(self, bot: Bot, admins: Sequence[int]) -> None:
        self._bot = bot
        self._admins = list(admins)

    async def notify_with(self, message: str, action: tuple[str, str]) -> None:
        """The alert with one button under it (e.g. 🗑 Supprimer: a one-tap /delete)."""
        label, data = action
        button = InlineKeyboardButton(label, callback_data=data)
        await self.notify(message, InlineKeyboardMarkup([[button]]))

    async def notify(self, message: str, markup: InlineKeyboardMarkup | None = None) -> None:
        text = "⚠️ Relais\n" + message
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            text = text[: MessageLimit.MAX_TEXT_LENGTH - 1] + "…"
        for admin in self._admins:
            try:
                await self._bot.send_message(
                    admin, text, disable_web_page_preview=True, reply_markup=markup
                )
            except TelegramError as err:
                log.warning("could not alert admin %s: %s", admin, err.message)
