"""`relais check --online`: asks Telegram and Facebook whether each channel can post."""

from __future__ import annotations

import contextlib

from bot.errors import PublishError
from bot.models import ChannelType
from bot.publishers.checkline import CheckLine
from bot.settings import Settings


async def check_online(settings: Settings) -> list[CheckLine]:
    """One line per checked thing: the bot, each Telegram channel, each Page, in the site's
    language."""
    lang = settings.site.language
    lines: list[CheckLine] = []
    telegram_channels = [c for c in settings.channels if c.type is ChannelType.TELEGRAM]
    if settings.telegram.token is not None and (telegram_channels or settings.telegram.commands):
        from bot.publishers.telegram import check_channels, initialize_bot, make_bot

        bot = make_bot(settings.telegram)
        try:
            with contextlib.suppress(PublishError):  # check_channels explains a refused token
                await initialize_bot(bot, lang=lang)
            lines += await check_channels(bot, telegram_channels, lang=lang)
        finally:
            await bot.shutdown()
    for channel in settings.channels:
        if channel.type is ChannelType.FACEBOOK:
            from bot.publishers.facebook import check_token

            report = await check_token(channel, settings.facebook, lang=lang)
            lines.append(report.line())
    return lines
