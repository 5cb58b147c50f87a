"""The approval round: ask the admins about each pending post once, as it will look, and settle
the posts nobody answered in time (`approval.timeout_verdict`). The decisions are in
`approval.py`; the admins' buttons are answered by `telegram_bot/approvals.py`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.clock import Clock
from bot.delivery.approval import after_verdict, approval_deadline, describe, timeout_verdict
from bot.errors import PublishError
from bot.models import Article, Delivery, DeliveryState, Post
from bot.settings import ChannelSettings
from bot.storage.store import Storage

log = logging.getLogger("relais.approval")


class AdminDesk(Protocol):
    """Where the admins see the posts waiting for them (Telegram private messages)."""

    async def ask(
        self, channel: ChannelSettings, delivery: Delivery, article: Article, post: Post
    ) -> list[tuple[int, int]]:
        """Show the post with its four buttons to each admin; the (chat, message) ids sent."""
        ...

    async def show(self, messages: Sequence[tuple[int, int]], text: str) -> None:
        """Replace those messages by the decision, buttons removed."""
        ...


Render = Callable[[ChannelSettings, Article], Post]


class ApprovalRound:
    """Run at the start of each delivery round, before the posts are claimed."""

    def __init__(
        self, storage: Storage, desk: AdminDesk | None, *, clock: Clock, render: Render
    ) -> None:
        self.storage, self.desk, self.clock, self._render = storage, desk, clock, render

    async def run(self, channels: Sequence[ChannelSettings]) -> None:
        for channel in channels:
            if channel.approval.enabled:
                await self._timeouts(channel)
                await self._ask(channel)

    async def _timeouts(self, channel: ChannelSettings) -> None:
        timeout = channel.approval_timeout
        now = self.clock.now()
        for delivery in self.storage.overdue_pending(channel.id, now - timeout.after):
            asked = delivery.asked_at or delivery.created_at or now
            verdict = timeout_verdict(asked, timeout)
            state, _ = after_verdict(verdict)
            written, _ = self.storage.answer_pending(
                delivery.id, verdict, state=DeliveryState(state), due=now
            )
            if written:
                log.info("delivery %s: nobody answered in time: %s", delivery.id, verdict.answer)
                await self._show(delivery.id, describe(verdict))

    async def _ask(self, channel: ChannelSettings) -> None:
        if self.desk is None:
            return  # no admin to ask: the timeout decides
        for delivery in self.storage.pending_to_ask(channel.id):
            if not self.storage.mark_asked(delivery.id, self.clock.now()):
                continue  # another worker asks
            article = self.storage.article(delivery.article_key)
            try:
                post = self._render(channel, article)
                messages = await self.desk.ask(channel, delivery, article, post)
            except (ValueError, PublishError) as err:
                log.warning("delivery %s: could not ask the admins: %s", delivery.id, err)
                continue  # the timeout still decides (deadline from now)
            self.storage.set_approval_messages(delivery.id, messages)
            log.info(
                "delivery %s: %d admin(s) asked; deadline %s",
                delivery.id,
                len(messages),
                approval_deadline(self.clock.now(), channel.approval_timeout),
            )

    async def _show(self, delivery_id: int, text: str) -> None:
        if self.desk is not None:
            try:
                await self.desk.show(self.storage.approval_messages(delivery_id), text)
            except PublishError as err:
                log.warning("delivery %s: could not update the admins: %s", delivery_id, err)
