"""A publisher whose answers a test scripts: exceptions to raise or successes, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime

from bot.models import Post, PublishResult, ReconcileOutcome, Reconciliation


class ScriptedPublisher:
    """A publisher whose answers are scripted, in order: an exception to raise, or None for a
    success; once the script is used up, every call succeeds."""

    def __init__(self, channel_id: str, script: Iterable[BaseException | None] = ()) -> None:
        self.channel_id = channel_id
        self.script: deque[BaseException | None] = deque(script)
        self.posts: list[Post] = []
        self.attempts = 0
        self.reconcile_answer = Reconciliation(ReconcileOutcome.CANNOT_TELL)
        self.closed = False

    async def publish(self, post: Post) -> PublishResult:
        self.attempts += 1
        outcome = self.script.popleft() if self.script else None
        if outcome is not None:
            raise outcome
        self.posts.append(post)
        return PublishResult(remote_id=f"{self.channel_id}-{len(self.posts)}")

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        return self.reconcile_answer

    async def aclose(self) -> None:
        self.closed = True
