"""Telegram's sending rates, in one place: what paces channel posts, broadcasts and digests.

Telegram answers 429 (flood control) beyond these. Two mechanisms apply them:

* the bot-wide and per-channel rates are python-telegram-bot's AIORateLimiter, built in
  `publishers.telegram.make_bot` for the one bot every channel and the reader bot share; with
  several instances only the leader sends to Telegram (docs/design.md, "Several instances"), so
  that one limiter holds for the whole cluster;
* the per-channel rate is also a claim rule, through the database: a channel's delivery is not
  claimed while `PER_CHANNEL_PER_MINUTE` attempts lie within the last minute (`window_opens`),
  so a new leader after a failover does not add its limiter's burst to the old one's;
* the per-chat gap is a claim rule: `ReaderStore.claim_broadcasts` takes no message for a reader
  who was sent one less than `PER_CHAT_GAP` ago, and the `Broadcaster` (telegram_bot/broadcast.py)
  waits that long when the only due rows are such readers'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

# Every request of the bot, all chats together. Telegram says 30 a second; 29, because two
# identical token buckets (ours and Telegram's) let the opening burst tip over by one request
# (bench/fanout.py: 30/s gave one 429 at the burst of each run, 29/s none).
BOT_WIDE_PER_SECOND = 29
BOT_WIDE_WINDOW = timedelta(seconds=1)  # a new leader waits this before its first send
# The bot-wide limiter lets no burst out (one request at a time, 1/29 s apart): a burst that the
# process is slow to write (its event loop busy with the database) would reach Telegram bunched
# with the requests after it, beyond the 30 a second (bench/instances.py: 8 answers of 429 in a
# 100-reader broadcast with bursts of 29, none without).
BOT_WIDE_BURST = 1
# Posts to one channel or group.
PER_CHANNEL_PER_MINUTE = 20
# Private messages to one reader: about one a second.
PER_CHAT_GAP = timedelta(seconds=1)
# The window of the per-channel rate.
PER_CHANNEL_WINDOW = timedelta(minutes=1)


def window_opens(recent: Sequence[datetime], *, limit: int, period: timedelta) -> datetime | None:
    """When one more send fits in a sliding window of `limit` sends per `period`, given the
    latest sends (`recent`, any order, at least the `limit` latest): None when it fits at any
    time. Keeping every `period` to `limit` sends keeps a token bucket of the same rate too."""
    if len(recent) < limit:
        return None
    return sorted(recent, reverse=True)[limit - 1] + period
