"""`relais reload` and SIGHUP on a real `relais run` process: a valid config applies to the
running service with the queue kept; an invalid one is refused and the running one stays."""

from __future__ import annotations

import signal
from pathlib import Path

import yaml

from bot.cli import main
from bot.models import DeliveryState
from tests.e2e.test_service import base, deliveries, start
from tests.fakes.feed_server import FeedServer, rss
from tests.waiting import wait_until as wait_for

THIRD = rss(("903", "rentree-a-sikasso", "Sikasso : la rentrée scolaire reportée d'une semaine"))
REFUSED = "configuration refused, the running one stays"
SECOND = rss(
    ("901", "marche-de-medine", "Marché de Médine : les commerçants réclament des hangars"),
    ("902", "pluies-a-kayes", "Pluies à Kayes : trois quartiers inondés"),
)


def test_reload_applies_a_valid_config_and_refuses_an_invalid_one(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.set("/second", SECOND)
    feeds.set("/third", THIRD)
    config = base(tmp_path, feeds, [{"id": "out", "type": "console", "max_age": None}])
    path = tmp_path / "relais.yaml"
    log = tmp_path / "relais.log"
    proc = start(tmp_path, config, log=log)
    try:
        wait_for(
            lambda: (
                (tmp_path / "relais.db").exists()
                and deliveries(tmp_path).count(DeliveryState.SENT) == 10
            )
        )
        config["feeds"].append(
            {"id": "second", "url": feeds.url("/second"), "first_run": "all", "every": "1m"}
        )
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        assert main(["--config", str(path), "reload"]) == 0  # checked, then SIGHUP
        wait_for(lambda: deliveries(tmp_path).count(DeliveryState.SENT) == 12)
        broken = dict(config, channels=[{"id": "out", "type": "console", "max_age": "jamais"}])
        path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
        assert main(["--config", str(path), "reload"]) == 2  # refused before asking
        proc.send_signal(signal.SIGHUP)  # asked anyway: the service refuses it and goes on
        # Refused before the next config is written: read after, the reload would apply that.
        wait_for(lambda: REFUSED in log.read_text(encoding="utf-8"))
        config["feeds"].append(
            {"id": "third", "url": feeds.url("/third"), "first_run": "all", "every": "1m"}
        )
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: deliveries(tmp_path).count(DeliveryState.SENT) == 13)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, err
    assert "configuration reloaded" in err
    assert REFUSED in err
    assert out.count("Pluies à Kayes") == 1  # the queue kept: nothing twice
