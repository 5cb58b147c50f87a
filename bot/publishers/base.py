"""The Publisher protocol every adapter implements (console, Telegram, Facebook)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.models import Post, PublishResult, Reconciliation


@runtime_checkable
class Publisher(Protocol):
    """Sends one rendered post to one channel.

    `publish` returns the platform's answer or raises a `bot.errors.PublishError` subclass:
    TransientError (re-queue), PermanentError / TooLongError (fail), AuthError (pause the
    channel), UnknownOutcomeError (the post may exist), ChatMovedError (store the new chat id).
    It never raises library exceptions and never puts a token in an error message.
    """

    channel_id: str

    async def publish(self, post: Post) -> PublishResult: ...

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        """After an unknown outcome: does the post exist on the platform since `since`?"""
        ...

    async def edit(self, remote_id: str, post: Post, methods: Sequence[str]) -> PublishResult:
        """Bring a sent post up to date with `post`, by `methods` (`corrections.EditMethod`);
        raises a `PublishError` like `publish`. A post that shows this already: done."""
        ...

    async def delete(self, remote_id: str) -> None:
        """Remove a sent post (an admin's /delete); one already gone counts as removed."""
        ...

    async def pin(self, remote_id: str) -> None:
        """Pin a post (breaking news); a platform without pins does nothing."""
        ...

    async def unpin(self, remote_id: str) -> None:
        """Unpin a post pinned by `pin` (nothing when it is no longer pinned)."""
        ...

    async def aclose(self) -> None: ...
