"""`relais run` with `web:` set, as a real process: dashboard, /healthz and /metrics on one port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot.storage import tables as t
from bot.storage.store import Storage
from tests import clock_shift
from tests.e2e.test_service import ROOT, base, start
from tests.fakes.feed_server import FeedServer
from tests.waiting import wait_until
from tests.web.live import free_port

ADMIN = 70707


def relais_env() -> dict[str, str]:
    """As `start` gives its process: the project importable, no DYNO."""
    env = {k: v for k, v in os.environ.items() if k != "DYNO"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_run_serves_the_dashboard_health_and_metrics(tmp_path: Path, feeds: FeedServer) -> None:
    port = free_port()
    config = base(tmp_path, feeds, [{"id": "out", "type": "console", "max_age": None}])
    config["web"] = {"listen": "127.0.0.1", "port": port, "base_url": f"http://127.0.0.1:{port}"}
    config["telegram"] = {"admins": [ADMIN]}
    config["logging"] = {"format": "json"}
    url = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, config)
    try:

        def all_sent() -> bool:
            try:
                text = httpx.get(f"{url}/metrics", timeout=2).text
            except httpx.HTTPError:
                return False
            return 'relais_deliveries_total{channel="out",state="sent"} 10.0' in text

        wait_until(all_sent, timeout=30)
        health = httpx.get(f"{url}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
        login = subprocess.run(
            [*clock_shift.relais_command(), "--config", str(tmp_path / "relais.yaml"), "web-login"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=relais_env(),
            check=True,
        )
        link = login.stdout.strip()
        assert link.startswith(f"{url}/login/")
        with httpx.Client(base_url=url) as http:
            assert http.get("/").status_code == 403
            assert http.post(link.removeprefix(url)).status_code == 303
            today = http.get("/")
            assert today.status_code == 200 and "Aujourd&#39;hui" in today.text
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    storage = Storage.open(config["storage"])
    try:
        counts = {c.channel_id: c.counts for c in storage.channel_counts()}
        with storage.engine.connect() as conn:
            articles = conn.execute(sa.select(sa.func.count()).select_from(t.articles)).scalar()
    finally:
        storage.close()
    samples = {
        (s.name, s.labels.get("channel"), s.labels.get("state")): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
    }
    for state, n in counts["out"].items():
        assert samples[("relais_deliveries_total", "out", state)] == n
    assert samples[("relais_queue_depth", "out", None)] == counts["out"].get("queued", 0)
    # The service's own counters are served beside them (tests/e2e/test_metrics.py has the rest).
    assert samples[("relais_in_process_metrics", None, None)] == 1
    by_name: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            by_name[sample.name] = by_name.get(sample.name, 0) + sample.value
    assert by_name["relais_polls_total"] >= 1 and by_name["relais_poll_duration_seconds_count"] >= 1
    assert by_name["relais_articles_seen_total"] == articles == 10
    assert samples[("relais_publish_outcomes_total", "out", "sent")] == counts["out"]["sent"]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x["message"].startswith("dashboard on http://127.0.0.1") for x in lines)
    assert any("logged in" in x["message"] for x in lines)


def test_web_and_web_login_need_their_config(tmp_path: Path) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text("site: {name: Test}\n", encoding="utf-8")
    for command, said in (("web", "set web:"), ("web-login", "telegram.admins is empty")):
        done = subprocess.run(
            [*clock_shift.relais_command(), "--config", str(path), command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=relais_env(),
        )
        assert done.returncode == 2 and said in done.stderr


def test_web_alone_serves_the_dashboard_over_the_same_database(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    path = tmp_path / "relais.yaml"
    path.write_text(
        f'storage: "sqlite:///{tmp_path / "relais.db"}"\n'
        f"telegram: {{admins: [{ADMIN}]}}\n"
        f'web: {{listen: 127.0.0.1, port: {port}, base_url: "{url}"}}\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [*clock_shift.relais_command(), "--config", str(path), "web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=relais_env(),
    )
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, timeout=30)  # no delivery loop here: the database is what counts
        assert httpx.get(f"{url}/queue", timeout=5).status_code == 403
        alone = httpx.get(f"{url}/metrics", timeout=5).text
        names = {f.name for f in text_string_to_metric_families(alone)}
        assert "relais_in_process_metrics 0.0" in alone  # and its HELP says which are missing
        assert "relais_deliveries" in names and "relais_polls" not in names
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
