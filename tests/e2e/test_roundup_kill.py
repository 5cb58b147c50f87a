"""kill -9 between the claim and the answer: a real `relais run` is killed while Telegram takes
its time to answer the 07:00 roundup; the next process never sends it again, nor its articles."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.models import DeliveryState
from bot.storage.store import Storage
from tests import clock_shift
from tests.e2e.test_service import ROOT
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.waiting import wait_until as wait_for

CHAT = -1001987654321
NIGHT = rss(*((str(800 + n), f"nuit-{n}", f"Dépêche de la nuit numéro {n}") for n in range(1, 6)))


def at_local(hour: int, minute: int = 0) -> tuple[str, datetime]:
    """The clock shift (whole minutes) that puts a process at or just after hh:mm, two days
    from now (Bamako is UTC), and that instant."""
    real_now = datetime.now(UTC) - (clock_shift.configured_shift() or timedelta(0))
    day = (real_now + timedelta(days=2)).date()
    target = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    minutes = math.ceil((target - real_now).total_seconds() / 60)
    return f"+{minutes}m", target


def run(tmp_path: Path, config: dict[str, Any], shift: str) -> subprocess.Popen[str]:
    path = tmp_path / "relais.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DYNO"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env[clock_shift.ENV] = shift
    return subprocess.Popen(
        [sys.executable, "-m", "tests.clock_shift", "--config", str(path), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def states(tmp_path: Path) -> tuple[list[DeliveryState], list[DeliveryState]]:
    storage = Storage.open(f"sqlite:///{tmp_path / 'relais.db'}")
    try:
        return [d.state for d in storage.deliveries()], [r.state for r in storage.roundups()]
    finally:
        storage.close()


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    return err


def test_kill_9_while_the_roundup_is_sent_never_sends_it_twice(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.set("/night", NIGHT)
    with FakeTelegram() as tg:
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        config = {
            "site": {"name": "Sahel-Actu", "url": "https://sahel-actu.example"},
            "storage": f"sqlite:///{tmp_path / 'relais.db'}",
            "feeds": [{"id": "sahel", "url": feeds.url("/night"), "first_run": "all"}],
            "channels": [
                {
                    "id": "tg",
                    "type": "telegram",
                    "chat": "@sahel_actu",
                    "max_age": None,
                    "min_gap": "0s",
                    "quiet_hours": "00:00-06:00",
                    "roundup": {"at": ["07:00"], "min_items": 3},
                    "slots": {"mon-sun": ["12:00"]},
                }
            ],
            "telegram": {"token": tg.token, "api_url": tg.base_url},
        }
        night, _ = at_local(3, 0)
        proc = run(tmp_path, config, night)  # 03:00: five articles, quiet hours, nothing out
        try:
            wait_for(lambda: (tmp_path / "relais.db").exists() and len(states(tmp_path)[0]) == 5)
        finally:
            stop(proc)
        assert tg.calls("sendMessage") == []
        tg.inject("sendMessage", Reply.slow(30), times=1)
        morning, _ = at_local(7, 0)
        proc = run(tmp_path, config, morning)  # 07:00: the roundup is claimed and sent …
        try:
            wait_for(lambda: len(tg.calls("sendMessage")) == 1)
            proc.send_signal(signal.SIGKILL)  # … and the process dies before the answer
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert states(tmp_path) == ([DeliveryState.COVERED] * 5, [DeliveryState.SENDING])
        later, _ = at_local(7, 10)
        proc = run(tmp_path, config, later)
        try:
            wait_for(lambda: states(tmp_path)[1] == [DeliveryState.UNKNOWN])
            wait_for(lambda: len(tg.calls("getMe")) >= 3)  # the third process is up and running
        finally:
            err = stop(proc)
        assert proc.returncode == 0, err
        assert len(tg.calls("sendMessage")) == 1  # never twice, and never one by one
        assert states(tmp_path)[0] == [DeliveryState.COVERED] * 5
