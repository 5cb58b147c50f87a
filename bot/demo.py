"""`relais demo`: the whole pipeline, offline, on the bundled sample feed, twice."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path

from bot.app import App
from bot.clock import Clock
from bot.content.describe import describe_post
from bot.models import Post, PublishResult, ReconcileOutcome, Reconciliation
from bot.publishers.base import Publisher
from bot.settings import ChannelSettings, Settings, settings_from_mapping
from bot.storage.store import Storage

DEMO_FEED = "demo_feed.xml"


def demo_settings(feed_path: Path, db_path: Path) -> Settings:
    common = {"min_gap": "0s", "max_age": None}
    return settings_from_mapping(
        {
            "site": {
                "name": "Sahel-Actu",
                "url": "https://sahel-actu.example",
                "language": "fr",
                "timezone": "Africa/Bamako",
            },
            "storage": f"sqlite:///{db_path}",
            "feeds": [{"id": "sahel-actu", "url": str(feed_path), "first_run": "all"}],
            "channels": [
                {
                    "id": "tg-demo",
                    "type": "telegram",
                    "chat": "@sahel_actu_demo",
                    **common,
                    "exclude": {"categories": ["Publicité"]},
                    "utm": {"source": "telegram", "medium": "social", "campaign": "relais"},
                },
                {
                    "id": "fb-demo",
                    "type": "facebook",
                    "page_id": "1234567890",
                    "token": "demo",
                    **common,
                    "exclude": {"categories": ["Publicité"]},
                    "utm": {"source": "facebook", "medium": "social", "campaign": "relais"},
                },
                {"id": "out", "type": "console", **common},
            ],
            "telegram": {"token": "demo"},
        },
        source="(demo settings)",
        env={},
    )


class ShowPublisher:
    """Prints each post as its platform would receive it; sends nothing."""

    def __init__(self, channel: ChannelSettings, write: Callable[[str], None]) -> None:
        self.channel_id = channel.id
        self._label = {"telegram": "Telegram", "facebook": "Facebook", "console": "Console"}[
            channel.type.value
        ]
        self._write = write
        self._count = 0

    async def publish(self, post: Post) -> PublishResult:
        self._count += 1
        lines = describe_post(post)
        self._write(f"┌─ {self._label} · {self.channel_id} · post {self._count}")
        for line in lines:
            self._write(f"│ {line}")
        self._write("└─")
        return PublishResult(remote_id=f"{self.channel_id}-{self._count}")

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        return Reconciliation(ReconcileOutcome.CANNOT_TELL)

    async def aclose(self) -> None:
        return None


async def _demo(write: Callable[[str], None], workdir: Path, clock: Clock | None) -> int:
    feed_path = workdir / DEMO_FEED
    feed_path.write_bytes(resources.files("bot.data").joinpath(DEMO_FEED).read_bytes())
    settings = demo_settings(feed_path, workdir / "demo.db")

    def make(channel: ChannelSettings, _chat: str | None) -> Publisher:
        return ShowPublisher(channel, write)

    write("Relais demo — the bundled sample feed of a fictional news site, posted offline.\n")
    for round_number in (1, 2):
        storage = Storage.open(settings.storage, exclusive=True)
        app = App(settings, storage, make_publisher=make, clock=clock)
        try:
            polls, report = await app.service.run_once(check_tokens=False)  # offline: no Graph call
        finally:
            await app.aclose()
            storage.close()
        for poll in polls:
            write(f"\nRound {round_number} · feed {poll.feed_id}: {poll.message}")
        write(
            f"Round {round_number} · {report.sent} posts sent, {report.skipped} skipped, "
            f"{report.failed} failed\n"
        )
    write("The second round found nothing new and sent nothing: every article goes out once.")
    return 0


def run_demo(write: Callable[[str], None], *, clock: Clock | None = None) -> int:
    """Runs the demo; `clock` (tests) stands in for the wall clock, which the posts ignore."""
    with tempfile.TemporaryDirectory(prefix="relais-demo-") as tmp:
        return asyncio.run(_demo(write, Path(tmp), clock))
