"""`relais run` as a real process: it polls, posts, and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.models import DeliveryState
from bot.storage.store import Storage
from tests import clock_shift
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
STARTUP = 20.0  # a fresh interpreter imports the whole bot before its first poll


def start(
    tmp_path: Path, config: dict[str, Any], *, log: Path | None = None
) -> subprocess.Popen[str]:
    """`relais run` on this config; its log to a pipe, or to the file `log` (a test that waits
    for a line while the process runs)."""
    path = tmp_path / "relais.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DYNO"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with contextlib.ExitStack() as files:  # the child has its own copy of the log file
        stderr: Any = subprocess.PIPE
        if log is not None:
            stderr = files.enter_context(log.open("w", encoding="utf-8"))
        return subprocess.Popen(
            [*clock_shift.relais_command(), "--config", str(path), "run"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=tmp_path,
        )


def base(tmp_path: Path, feeds: FeedServer, channels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "site": {"name": "Sahel-Actu", "url": "https://sahel-actu.example"},
        "storage": f"sqlite:///{tmp_path / 'relais.db'}",
        "feeds": [{"id": "sahel", "url": feeds.url("/feed"), "first_run": "all", "every": "1m"}],
        "channels": channels,
    }


def deliveries(tmp_path: Path) -> list[DeliveryState]:
    storage = Storage.open(f"sqlite:///{tmp_path / 'relais.db'}")
    try:
        return [d.state for d in storage.deliveries()]
    finally:
        storage.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_posts_then_stops_on_a_signal(tmp_path: Path, feeds: FeedServer, sig) -> None:
    config = base(tmp_path, feeds, [{"id": "out", "type": "console", "max_age": None}])
    proc = start(tmp_path, config)
    try:
        wait_until(
            lambda: (
                deliveries(tmp_path).count(DeliveryState.SENT) == 10
                if (tmp_path / "relais.db").exists()
                else False
            ),
            timeout=STARTUP,
            what="ten posts sent",
        )
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.count("── out #") == 10
    assert "Relais stopped" in err
    assert DeliveryState.SENDING not in deliveries(tmp_path)


def test_sigterm_during_a_send_waits_for_the_answer(tmp_path: Path, feeds: FeedServer) -> None:
    with FakeTelegram() as tg:
        tg.set_chat(-1001987654321, username="sahel_actu", title="Sahel-Actu")
        tg.inject("sendPhoto", Reply.slow(2.0), times=1)
        config = base(
            tmp_path,
            feeds,
            [
                {
                    "id": "tg",
                    "type": "telegram",
                    "chat": "@sahel_actu",
                    "max_age": None,
                    "min_gap": "0s",
                }
            ],
        )
        config["telegram"] = {"token": tg.token, "api_url": tg.base_url}
        proc = start(tmp_path, config)
        try:
            wait_until(lambda: tg.calls("sendPhoto"), timeout=STARTUP)
            proc.send_signal(signal.SIGTERM)  # while Telegram takes two seconds to answer
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        states = deliveries(tmp_path)
        assert DeliveryState.SENDING not in states and DeliveryState.UNKNOWN not in states
        assert states.count(DeliveryState.SENT) == len(tg.calls("sendPhoto")) + len(
            tg.calls("sendMessage")
        )
        assert tg.token not in err
