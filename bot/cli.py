"""Command line: argument parsing and exit codes; the only place that exits."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import __version__
from bot.errors import ConfigError, FeedError, RelaisError, StorageError
from bot.logs import setup_logging
from bot.secrets import scrub
from bot.settings import DEFAULT_CONFIG, Settings, load_settings

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2

# What the command line tells the manager, in the site's language (French unless it is English).
_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "site": "  site : {name} ({language}, {timezone})",
        "storage": "  base de données : {url}",
        "feed": "  flux {id} : {url} toutes les {every}",
        "channel": "  chaîne {id} : {type} → {where}",
        "no_channel": "relais : pas de chaîne {id!r} (chaînes : {known})",
        "no_source": "relais : aucune SOURCE donnée et aucun flux configuré "
        "(relais preview ./flux.xml, ou des `feeds` dans la configuration)",
    },
    "en": {
        "site": "  site: {name} ({language}, {timezone})",
        "storage": "  storage: {url}",
        "feed": "  feed {id}: {url} every {every}",
        "channel": "  channel {id}: {type} → {where}",
        "no_channel": "relais: no channel {id!r} (channels: {known})",
        "no_source": "relais: no SOURCE given and no feed configured "
        "(relais preview ./feed.xml, or `feeds` in the configuration)",
    },
}


def _say(settings: Settings, key: str, **values: object) -> str:
    return _WORDS.get(settings.site.language, _WORDS["fr"])[key].format(**values)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors exit 2 with one clear line
        self.print_usage(sys.stderr)
        print(f"relais: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relais",
        description="Relais: posts a news site's new articles to Telegram and Facebook.",
    )
    parser.add_argument("--version", action="version", version=f"relais {__version__}")
    parser.add_argument(
        "--config",
        default=os.environ.get("RELAIS_CONFIG", DEFAULT_CONFIG),
        help=f"configuration file (default {DEFAULT_CONFIG}, env RELAIS_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("demo", help="run the whole pipeline offline on the bundled sample feed")
    check = sub.add_parser("check", help="validate the configuration")
    check.add_argument("--online", action="store_true", help="also ask Telegram and Facebook")
    preview = sub.add_parser("preview", help="render the posts each channel would get")
    preview.add_argument("source", nargs="?", help="a feed URL or a local file")
    preview.add_argument("--channel", help="only this channel")
    preview.add_argument("--limit", type=int, default=None, help="at most N articles per feed")
    preview.add_argument("--json", action="store_true", help="JSON Lines output")
    run = sub.add_parser("run", help="the service: poll, deliver, answer the bot")
    run.add_argument(
        "--once", action="store_true", help="one poll and one delivery round, then exit"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="render and log; send and record nothing"
    )
    status = sub.add_parser("status", help="feeds and channels at a glance")
    status.add_argument("--json", action="store_true")
    history = sub.add_parser("history", help="the last deliveries")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")
    sub.add_parser("web", help="the dashboard alone over the same database (needs web: set)")
    web_login = sub.add_parser("web-login", help="print a one-time dashboard login link")
    web_login.add_argument("--admin", type=int, help="the admin's Telegram id (default: the first)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot 22 warns on every 429 unless it may give retry_after as a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = build_parser().parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "demo": cmd_demo,
        "check": cmd_check,
        "preview": cmd_preview,
        "run": cmd_run,
        "status": cmd_status,
        "history": cmd_history,
        "web": cmd_web,
        "web-login": cmd_web_login,
    }
    level = (
        logging.DEBUG
        if args.verbose
        else logging.INFO
        if args.command in {"run", "web"}
        else logging.WARNING
    )
    setup_logging(level)
    try:
        code = handlers[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # `relais check | head`: the reader left; nothing more to say, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as err:
        print(f"relais: {err}", file=sys.stderr)
        return EXIT_USAGE
    except RelaisError as err:
        print(f"relais: {scrub(str(err))}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    from bot.app import secrets_of

    settings = load_settings(args.config)
    level = logging.getLogger().level
    setup_logging(level, secrets_of(settings), json_lines=settings.logging.format == "json")
    return settings


# ---- demo --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(print)


# ---- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    site = settings.site
    print(f"{args.config}: OK")
    print(_say(settings, "site", name=site.name, language=site.language, timezone=site.timezone))
    print(_say(settings, "storage", url=_safe_url(settings.storage)))
    for feed in settings.feeds:
        every = _dur(feed.every.total_seconds())
        print(_say(settings, "feed", id=feed.id, url=feed.url, every=every))
    for channel in settings.channels:
        where = channel.chat or (f"page {channel.page_id}" if channel.page_id else "stdout")
        print(_say(settings, "channel", id=channel.id, type=channel.type.value, where=where))
    if not args.online:
        return EXIT_OK
    from bot.checks import check_online

    lines = asyncio.run(check_online(settings))
    ok = True
    for line in lines:
        ok = ok and line.ok
        print(f"  {'OK ' if line.ok else 'ERR'} {line.channel_id}: {line.message}")
    return EXIT_OK if ok else EXIT_RUNTIME


# ---- preview -----------------------------------------------------------------------------


def cmd_preview(args: argparse.Namespace) -> int:
    from bot import USER_AGENT
    from bot.feeds.fetch import Fetcher, fetch_and_parse
    from bot.preview import default_preview_settings, human, render_feed

    config_exists = Path(args.config).is_file()
    settings = _settings(args) if config_exists else default_preview_settings()
    every_channel = bool(args.source)  # a file or URL given by hand is for every channel
    if args.channel is not None and args.channel not in {c.id for c in settings.channels}:
        known = ", ".join(c.id for c in settings.channels)
        print(_say(settings, "no_channel", id=args.channel, known=known), file=sys.stderr)
        return EXIT_USAGE
    sources: list[tuple[str, str, tuple[str, ...], int]]
    if args.source:
        sources = [("preview", args.source, (), 5 * 1024 * 1024)]
    else:
        if not settings.feeds:
            print(_say(settings, "no_source"), file=sys.stderr)
            return EXIT_USAGE
        sources = [(f.id, f.url, f.strip, f.max_bytes) for f in settings.feeds]

    async def go() -> int:
        fetcher = Fetcher(user_agent=USER_AGENT)
        failures = 0
        try:
            for feed_id, url, strip, max_bytes in sources:
                try:
                    parsed = await fetch_and_parse(fetcher, url, feed_id, max_bytes)
                except FeedError as err:
                    failures += 1
                    print(f"relais: feed {feed_id}: {scrub(str(err))}", file=sys.stderr)
                    continue
                shown = settings if config_exists else default_preview_settings(parsed)
                for item in render_feed(
                    parsed,
                    shown,
                    feed_id=feed_id,
                    strip=strip,
                    channel_id=args.channel,
                    limit=args.limit,
                    every_channel=every_channel,
                ):
                    if args.json:
                        if item.rendered is not None:
                            print(json.dumps(item.record(), ensure_ascii=False))
                        else:
                            print(f"relais: {item.article.url}: {item.error}", file=sys.stderr)
                    else:
                        print(human(item))
        finally:
            await fetcher.aclose()
        return EXIT_RUNTIME if failures == len(sources) else EXIT_OK

    return asyncio.run(go())


# ---- run ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import dry_run, run_once, serve

    settings = _settings(args)
    if args.dry_run:
        return asyncio.run(dry_run(settings, print))
    if args.once:
        return asyncio.run(run_once(settings, print))
    return asyncio.run(serve(settings, Path(args.config)))


# ---- the dashboard -----------------------------------------------------------------------


def cmd_web(args: argparse.Namespace) -> int:
    from bot.web.server import run_dashboard

    settings = _settings(args)
    if settings.web is None:
        print(f"relais: {args.config}: set web: {{listen, port, base_url}} first", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(run_dashboard(settings, Path(args.config)))


def cmd_web_login(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.web.server import login_link

    settings = _settings(args)
    admins = settings.telegram.admins
    if not admins:
        print(
            f"relais: {args.config}: telegram.admins is empty: nobody may log in", file=sys.stderr
        )
        return EXIT_USAGE
    admin = args.admin if args.admin is not None else admins[0]
    if admin not in admins:
        print(f"relais: {admin} is not in telegram.admins", file=sys.stderr)
        return EXIT_USAGE
    storage = _open_storage(settings)
    try:
        print(login_link(settings, storage, admin, SystemClock().now()))
    finally:
        storage.close()
    return EXIT_OK


# ---- status and history ------------------------------------------------------------------


def _open_storage(settings: Settings) -> Any:
    from bot.storage.store import Storage

    return Storage.open(settings.storage)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _local(value: datetime | None, settings: Settings) -> str:
    if value is None:
        return "—"
    return value.astimezone(settings.site.tz).strftime("%Y-%m-%d %H:%M")


def _dur(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _safe_url(url: str) -> str:
    from sqlalchemy import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def status_data(settings: Settings, storage: Any) -> dict[str, Any]:
    feeds = {s.feed_id: s for s in storage.feed_states()}
    counts = {c.channel_id: c for c in storage.channel_counts()}
    out: dict[str, Any] = {"feeds": [], "channels": []}
    for feed in settings.feeds:
        state = feeds.get(feed.id)
        out["feeds"].append(
            {
                "id": feed.id,
                "url": state.url if state else feed.url,
                "last_poll": _iso(state.last_poll) if state else None,
                "last_result": state.last_result if state else "never polled",
                "next_poll": _iso(state.next_poll) if state else None,
                "consecutive_errors": state.consecutive_errors if state else 0,
            }
        )
    for channel in settings.channels:
        c = counts.get(channel.id)
        state = storage.channel_state(channel.id)
        n = c.counts if c else {}
        out["channels"].append(
            {
                "id": channel.id,
                "type": channel.type.value,
                "queued": n.get("queued", 0),
                "sending": n.get("sending", 0),
                "sent": n.get("sent", 0),
                "failed": n.get("failed", 0),
                "unknown": n.get("unknown", 0),
                "skipped": n.get("skipped", 0),
                "next_due": _iso(c.next_due) if c else None,
                "paused": state.paused,
                "pause_reason": state.pause_reason,
            }
        )
    return out


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    storage = _open_storage(settings)
    try:
        data = status_data(settings, storage)
    finally:
        storage.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    print("Feeds")
    for f in data["feeds"]:
        errors = (
            f" · {f['consecutive_errors']} error(s) in a row" if f["consecutive_errors"] else ""
        )
        print(
            f"  {f['id']:<16} last poll {_local(_dt(f['last_poll']), settings)} · "
            f"{f['last_result']} · next {_local(_dt(f['next_poll']), settings)}{errors}"
        )
    print("Channels")
    for c in data["channels"]:
        paused = f" · PAUSED: {c['pause_reason']}" if c["paused"] else ""
        print(
            f"  {c['id']:<16} {c['type']:<8} queued {c['queued']} · sent {c['sent']} · "
            f"failed {c['failed']} · unknown {c['unknown']} · skipped {c['skipped']} · "
            f"next {_local(_dt(c['next_due']), settings)}{paused}"
        )
    return EXIT_OK


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def cmd_history(args: argparse.Namespace) -> int:
    settings = _settings(args)
    storage = _open_storage(settings)
    try:
        rows = storage.history(limit=max(1, args.limit))
    finally:
        storage.close()
    for row in rows:
        d = row.delivery
        record = {
            "delivery": d.id,
            "title": row.title,
            "url": row.url,
            "channel": d.channel_id,
            "state": d.state.value,
            "remote_id": d.remote_id,
            "link": d.remote_link,
            "error": d.error,
            "updated_at": _iso(d.updated_at),
        }
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            where = d.remote_link or d.remote_id or ""
            error = f" · {d.error}" if d.error else ""
            print(
                f"#{d.id:<5} {_local(d.updated_at, settings)} {d.channel_id:<12} "
                f"{d.state.value:<8} {row.title[:60]} {where}{error}"
            )
    if not rows and not args.json:
        print("No deliveries yet.")
    return EXIT_OK


__all__ = ["StorageError", "main"]
