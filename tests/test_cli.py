"""The command line: exit codes, messages, and `run --once` end to end on a console channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.clock import FakeClock
from bot.demo import run_demo
from tests.fakes.feed_server import FeedServer

ROOT = Path(__file__).resolve().parents[1]
DEMO_FEED = ROOT / "bot" / "data" / "demo_feed.xml"


def write_config(tmp_path: Path, feed_url: str, **extra: object) -> Path:
    config = {
        "site": {"name": "Sahel Actu", "url": "https://sahel-actu.example", "timezone": "UTC"},
        "storage": f"sqlite:///{tmp_path / 'relais.db'}",
        "feeds": [{"id": "sahel", "url": feed_url, "first_run": "all"}],
        "channels": [{"id": "out", "type": "console", "min_gap": "0s", "max_age": None}],
        **extra,
    }
    path = tmp_path / "relais.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.set("/feed", DEMO_FEED.read_bytes())
        yield server


def test_missing_config_exits_2_and_names_the_file(tmp_path: Path, capsys) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml"), "check"]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "n'existe pas" in err


def test_invalid_config_lists_every_problem(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "feeds:\n  - {id: a, url: ./x.xml, every: 1s}\nchannels:\n  - {id: c, type: fax}\n"
        "  - {id: f, type: facebook, page_id: '1', token: '${NO_SUCH_VAR_XYZ}'}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert "3 problème(s)" in err
    assert "feeds[0].every" in err and "channels[0].type" in err and "NO_SUCH_VAR_XYZ" in err


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_check_ok(tmp_path: Path, capsys) -> None:
    path = write_config(tmp_path, str(DEMO_FEED))
    assert main(["--config", str(path), "check"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out
    # in the site's language: French here
    assert "  flux sahel : " in out and "  chaîne out : console → stdout" in out


def test_run_once_posts_each_article_once_then_nothing(
    tmp_path: Path, feed_server: FeedServer, capsys
) -> None:
    path = write_config(tmp_path, feed_server.url("/feed"))
    assert main(["--config", str(path), "run", "--once"]) == 0
    first = capsys.readouterr().out
    posted = first.count("── out #")
    assert posted >= 5
    assert main(["--config", str(path), "run", "--once"]) == 0
    second = capsys.readouterr().out
    assert "── out #" not in second
    assert "0 sent" in second
    first_hit, second_hit = feed_server.hits("/feed")
    assert "If-None-Match" not in first_hit
    assert second_hit["If-None-Match"] == feed_server.routes["/feed"].etag
    assert main(["--config", str(path), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    [channel] = status["channels"]
    assert channel["sent"] == posted and channel["queued"] == 0
    assert status["feeds"][0]["consecutive_errors"] == 0
    assert main(["--config", str(path), "history", "--json", "--limit", "3"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and all(r["state"] == "sent" for r in rows)


def test_dry_run_sends_and_records_nothing(tmp_path: Path, capsys) -> None:
    path = write_config(tmp_path, str(DEMO_FEED))
    assert main(["--config", str(path), "run", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "── out (console)" in out
    assert main(["--config", str(path), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["channels"][0]["sent"] == 0 and status["feeds"][0]["last_poll"] is None


def test_preview_json_lines_follow_the_contract(capsys) -> None:
    assert (
        main(
            [
                "--config",
                "/nonexistent/relais.yaml",
                "preview",
                str(DEMO_FEED),
                "--json",
                "--limit",
                "2",
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["type"] for line in lines} == {"telegram", "facebook"}
    assert len(lines) == 4
    for line in lines:
        assert set(line) == {"feed", "channel", "type", "article", "post"}
        assert set(line["article"]) == {
            "id",
            "url",
            "title",
            "published",
            "author",
            "categories",
            "image",
            "teaser",
        }
        if line["type"] == "telegram":
            assert set(line["post"]) == {"method", "text", "photo", "buttons"}
            assert line["post"]["method"] in {"sendPhoto", "sendMessage"}
        else:
            assert set(line["post"]) == {"endpoint", "message", "link", "url"}


def test_preview_of_something_that_is_not_a_feed(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><body><p>Bonjour</p></body></html>", encoding="utf-8")
    assert main(["--config", "/nonexistent.yaml", "preview", str(page)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "feed" in err


def test_preview_unknown_channel(tmp_path: Path, capsys) -> None:
    path = write_config(tmp_path, str(DEMO_FEED))
    assert main(["--config", str(path), "preview", "--channel", "nope"]) == 2


def test_second_run_on_the_same_sqlite_refuses(tmp_path: Path, capsys) -> None:
    from bot.storage.store import Storage

    path = write_config(tmp_path, str(DEMO_FEED))
    holder = Storage.open(f"sqlite:///{tmp_path / 'relais.db'}", exclusive=True)
    try:
        assert main(["--config", str(path), "run", "--once"]) == 1
    finally:
        holder.close()
    assert "already running" in capsys.readouterr().err


def test_heroku_dyno_refuses_sqlite(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DYNO", "worker.1")
    path = write_config(tmp_path, str(DEMO_FEED))
    assert main(["--config", str(path), "run", "--once"]) == 1
    assert "DATABASE_URL" in capsys.readouterr().err


def test_demo_runs_offline(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Telegram" in out and "Facebook" in out
    assert "Round 2 · 0 posts sent" in out


@pytest.mark.parametrize("year", [2020, 2031])
def test_demo_shows_posts_whatever_the_date(year: int) -> None:
    """The demo feed's dates are fixed (Nov. 2026); the demo posts them years before or after."""
    lines: list[str] = []
    clock = FakeClock(datetime(year, 6, 1, 12, 0, tzinfo=UTC))
    assert run_demo(lines.append, clock=clock) == 0
    headers = [line for line in lines if line.startswith("┌─")]
    assert sum("Telegram" in h for h in headers) == 9
    assert sum("Facebook" in h for h in headers) == 9
    assert sum("Console" in h for h in headers) == 10
    assert any(line.startswith("Round 2 · 0 posts sent") for line in lines)


# ---------------------------------------------------------------------------------------------
# The first hour (issue 10)
# ---------------------------------------------------------------------------------------------

EXAMPLE = ROOT / "config" / "relais.example.yaml"
TOKENS = {"FACEBOOK_PAGE_TOKEN": "EAAB-page-token-123456", "TELEGRAM_BOT_TOKEN": "123456:ABC-def"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "le fichier est vide"),
        ("feeds: [{id: b, url: bamada.net/feed}]\n", "écrivez https://bamada.net/feed"),
        (
            "channels: [{id: o, type: console, min_gapp: 2m}]\n",
            "clé inconnue `min_gapp` (vouliez-vous dire `min_gap` ?)",
        ),
        ("feeds: [unclosed\n", "YAML invalide ligne 2"),
    ],
)
def test_check_refuses_what_would_surprise_later(
    tmp_path: Path, capsys, text: str, says: str
) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(path), "check"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and says in err and str(path) in err
    assert "<unicode string>" not in err and "Extra inputs" not in err


def test_preview_without_any_feed_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text("channels: [{id: o, type: console}]\n", encoding="utf-8")
    assert main(["--config", str(path), "preview"]) == 2
    assert main(["--config", str(tmp_path / "none.yaml"), "preview"]) == 2
    assert "aucune SOURCE donnée et aucun flux configuré" in capsys.readouterr().err


def test_preview_of_a_file_shows_every_channel(monkeypatch, capsys) -> None:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    # tg-main follows only the feed `bamada`: a file given by hand is still shown for it
    assert (
        main(["--config", str(EXAMPLE), "preview", str(DEMO_FEED), "--json", "--limit", "1"]) == 0
    )
    channels = {json.loads(line)["channel"] for line in capsys.readouterr().out.splitlines()}
    assert channels == {"tg-main", "fb-main", "out"}


def test_preview_without_config_names_the_feeds_site(capsys) -> None:
    assert main(["--config", "/nonexistent.yaml", "preview", str(DEMO_FEED), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    telegram = next(r for r in records if r["type"] == "telegram")["post"]["text"]
    facebook = next(r for r in records if r["type"] == "facebook")["post"]["message"]
    assert "Suivez Sahel-Actu pour ne rien rater" in telegram and "Relais" not in telegram
    # on Facebook, readers are on the Page already: the invitation is to the site
    assert "📲 Toute l'actualité sur sahel-actu.example" in facebook


def test_check_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    feeds = "".join(
        f"  - {{id: f{i}, url: 'https://sahel-actu.example/feed/{i}'}}\n" for i in range(3000)
    )
    path = tmp_path / "relais.yaml"
    path.write_text(f"feeds:\n{feeds}", encoding="utf-8")
    done = subprocess.run(
        f"{sys.executable} -m bot --config {path} check | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.startswith(f"{path}: OK")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("failed", "polled", "code"),
    [(0, 0, 0), (0, 5, 0), (1, 5, 0), (2, 5, 0), (3, 5, 1), (1, 2, 0), (2, 2, 1), (1, 1, 1)],
)
def test_run_once_fails_when_a_majority_of_feeds_failed(
    failed: int, polled: int, code: int
) -> None:
    from bot.runner import once_exit_code

    assert once_exit_code(failed, polled) == code


def test_run_once_says_why_it_fails(tmp_path: Path, capsys) -> None:
    path = write_config(tmp_path, str(tmp_path / "missing-feed.xml"))
    assert main(["--config", str(path), "run", "--once"]) == 1
    assert "1 flux sur 1 en échec" in capsys.readouterr().out
