"""The console publisher: prints posts (demo, dry runs, debugging); implements Publisher."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from bot.content.describe import describe_post
from bot.models import Post, PublishResult, ReconcileOutcome, Reconciliation


class ConsolePublisher:
    """Writes each post to `write` (stdout by default) and calls it sent."""

    def __init__(self, channel_id: str, write: Callable[[str], None] = print) -> None:
        self.channel_id = channel_id
        self._write = write
        self._ids = itertools.count(1)

    async def publish(self, post: Post) -> PublishResult:
        number = next(self._ids)
        body = "\n".join(describe_post(post))
        self._write(f"── {self.channel_id} #{number} ──\n{body}\n")
        return PublishResult(remote_id=f"{self.channel_id}-{number}")

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        return Reconciliation(ReconcileOutcome.CANNOT_TELL)

    async def aclose(self) -> None:
        return None
