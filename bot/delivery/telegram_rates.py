"""Telegram's sending rates, in one place: what paces channel posts, broadcasts and digests.

Telegram answers 429 (flood control) beyond these. Two mechanisms apply them:

* the bot-wide and per-channel rates are python-telegram-bot's AIORateLimiter, built in
  `publishers.telegram.make_bot` for the one bot every channel and the reader bot share;
* the per-chat gap is a claim rule: `ReaderStore.claim_broadcasts` takes no message for a reader
  who was sent one less than `PER_CHAT_GAP` ago, and the `Broadcaster` (telegram_bot/broadcast.py)
  waits that long when the only due rows are such readers'.
"""

from __future__ import annotations

from datetime import timedelta

# Every request of the bot, all chats together. Telegram says 30 a second; 29, because two
# identical token buckets (ours and Telegram's) let the opening burst tip over by one request
# (bench/fanout.py: 30/s gave one 429 at the burst of each run, 29/s none).
BOT_WIDE_PER_SECOND = 29
# Posts to one channel or group.
PER_CHANNEL_PER_MINUTE = 20
# Private messages to one reader: about one a second.
PER_CHAT_GAP = timedelta(seconds=1)
