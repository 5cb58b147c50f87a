"""Several `relais run` processes on one PostgreSQL schema, and the site they serve.

A feed of fresh articles, readers subscribed to its topic, the config on the fakes, and the
processes: started, killed (SIGKILL), stopped, and the leader found from their logs. Used by
tests/e2e/test_instances.py and bench/instances.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from bot.models import FeedState
from bot.storage.store import Storage
from tests import builders, clock_shift

ROOT = Path(__file__).resolve().parents[2]
SITE = builders.SAHEL_ACTU.url
TOPIC, TOPIC_LABEL = "securite", "Sécurité"
FIRST_READER = 700_000

_PLACES = ("Bamako", "Kayes", "Ségou", "Mopti", "Sikasso", "Tombouctou", "Gao", "Koulikoro")
_SUBJECTS = (
    "la mairie lance une campagne d'assainissement des caniveaux",
    "les commerçants du grand marché dénoncent la hausse des taxes",
    "une nouvelle promotion de gendarmes prête serment",
    "les enseignants réclament le paiement des arriérés de primes",
    "le gouvernorat renforce les patrouilles sur la route nationale",
    "les maraîchers s'inquiètent de la baisse du fleuve",
)


def article_url(i: int) -> str:
    return f"{SITE}/actualites/{i:05d}-region-{i}"


def rss(
    first: int,
    count: int,
    *,
    now: datetime | None = None,
    category: Callable[[int], str] = lambda _i: TOPIC_LABEL,
) -> bytes:
    """An RSS feed of `count` articles numbered from `first`, the newest first, a minute apart
    and all recent (readers get broadcasts of articles younger than two days); `category` of
    each number (the readers follow TOPIC_LABEL)."""
    now = now or datetime.now(UTC)
    items = []
    for i in range(first + count - 1, first - 1, -1):
        place = _PLACES[i % len(_PLACES)]
        subject = _SUBJECTS[i % len(_SUBJECTS)]
        title = f"{place} : {subject} (n°{i})"
        lead = (
            f"À {place}, les habitants ont appris la nouvelle mardi matin. Selon nos "
            f"correspondants, {subject} depuis le début de la semaine, et les responsables "
            "locaux promettent des mesures avant la fin du mois."
        )
        published = format_datetime(now - timedelta(minutes=first + count - i))
        items.append(
            f"<item><title>{escape(title)}</title><link>{article_url(i)}</link>"
            f'<guid isPermaLink="false">sahel-{i}</guid><pubDate>{published}</pubDate>'
            f"<category>{escape(category(i))}</category><description>{escape(lead)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Sahel-Actu</title><link>{SITE}</link><description>Actualités</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def telegram_channel(channel_id: str, chat: str) -> dict[str, Any]:
    return {"id": channel_id, "type": "telegram", "chat": chat, "max_age": None, "min_gap": "0s"}


def facebook_channel(channel_id: str, page_id: str, token_var: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": "facebook",
        "page_id": page_id,
        "token": "${" + token_var + "}",
        "max_age": None,
        "min_gap": "0s",
    }


def site_config(
    db_url: str,
    feed_url: str,
    channels: Sequence[dict[str, Any]],
    *,
    telegram: dict[str, Any] | None = None,
    graph_url: str | None = None,
) -> dict[str, Any]:
    """The shared site (tests/builders.py) on `db_url`, its feed polled every minute."""
    sections: dict[str, Any] = {"storage": db_url}
    if telegram is not None:
        sections["telegram"] = telegram
    if graph_url is not None:
        sections["facebook"] = {"graph_url": graph_url, "version": "v25.0", "timeout": "5s"}
    feed = {"id": "sahel", "url": feed_url, "first_run": "all", "every": "1m"}
    return builders.site_config(feeds=[feed], channels=channels, **sections)


def prepare(db_url: str, feed_url: str, readers: int) -> list[int]:
    """Before the instances start: the feed counts as polled once (so that its articles reach
    the readers), and `readers` readers follow its topic. Their chat ids."""
    storage = Storage.open(db_url)
    try:
        now = datetime.now(UTC)
        storage.save_feed_state(FeedState("sahel", feed_url, baselined=True))
        chats = [FIRST_READER + n for n in range(readers)]
        for chat in chats:
            storage.subscribe(chat, chat, TOPIC, TOPIC_LABEL, now)
        return chats
    finally:
        storage.close()


@dataclass
class Instance:
    """One `relais run` process; its log goes to a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def leads(self) -> bool:
        return self.alive and re.search(rf":{self.pid} leads: ", self.text()) is not None


@dataclass
class Cluster:
    """The processes of one site; `stop` ends every one still running."""

    workdir: Path
    config: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.path = self.workdir / "relais.yaml"
        self.path.write_text(yaml.safe_dump(self.config, allow_unicode=True), encoding="utf-8")

    def start(self) -> Instance:
        env = {k: v for k, v in os.environ.items() if k != "DYNO"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(self.env)
        log = self.workdir / f"instance-{len(self.instances)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*clock_shift.relais_command(), "--config", str(self.path), "run"],
                stdout=subprocess.DEVNULL,
                stderr=out,
                env=env,
                cwd=self.workdir,
            )
        instance = Instance(proc, log)
        self.instances.append(instance)
        return instance

    def running(self) -> list[Instance]:
        return [i for i in self.instances if i.alive]

    def leader(self) -> Instance | None:
        leaders = [i for i in self.running() if i.leads()]
        return leaders[-1] if leaders else None

    def kill(self, instance: Instance) -> None:
        instance.proc.send_signal(signal.SIGKILL)
        instance.proc.wait(timeout=10)

    def stop(self) -> None:
        for instance in self.running():
            instance.proc.send_signal(signal.SIGTERM)
        for instance in self.instances:
            try:
                instance.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                instance.proc.kill()
                instance.proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {i.log.name} (pid {i.pid})\n{i.text()}" for i in self.instances)
