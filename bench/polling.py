"""Polling at scale: polls a second, CPU per poll, start-up, RSS, event-loop lag, warnings.

A local feed server (a child process, asyncio) answers every feed after an emulated round
trip (`--rtt`, in ms), with an ETag (then polls after the first are 304s) or without one (then
the body hash makes an unchanged body cost what a 304 does). The feeds are spread over many
loopback hosts (127.0.x.y), as real feeds are over many sites, so that the per-host limit
(`fetch.per_host`) does not hide the global one (`fetch.concurrency`).

For N feeds it measures:
  - start-up: the YAML read, settings checked, database opened, every poll job scheduled;
  - the scheduler started at once, as `relais run` starts it, for a few seconds: warnings
    logged (a storm of APScheduler's "maximum number of running instances" was the symptom at
    10,000 feeds, when every job fired at start);
  - a first round (every feed parsed and baselined), then a second round of all N polls at
    once: polls per second, CPU per poll (this process), event-loop lag p50/p99 sampled every
    10 ms while the round runs, warnings logged;
  - the process's max RSS (ru_maxrss), also as it stood after start-up, the first round
    and the second.

The scheduler runs first: started after the rounds, its jobs (planned at start-up, spread over
their 5 minutes) would find a third of their times passed, which `relais run` never does.

Run: `.venv/bin/python bench/polling.py [--feeds 1000 10000] [--rtt 0 100] [--quick]`.
`--quick` (what `make bench` runs): 1,000 feeds, 100 ms, ETag and no ETag. No network is used.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

ITEMS = int(os.environ.get("BENCH_ITEMS", "20"))
"""Items per feed (BENCH_ITEMS): the first round records them all, the cost of setting up."""
SCHEDULER_SECONDS = 5.0


def feed_body(number: int) -> bytes:
    items = "".join(
        f"<item><title>Communiqué {number}-{n} du gouvernement de transition</title>"
        f"<link>https://site{number}.example/2026/12/01/communique-{n}/</link>"
        f"<guid>https://site{number}.example/?p={n}</guid>"
        "<pubDate>Tue, 01 Dec 2026 08:00:00 +0000</pubDate>"
        "<description><![CDATA[<p>Le Conseil des ministres s'est réuni mardi à Koulouba "
        "sous la présidence du chef de l'État. Plusieurs projets de décret ont été adoptés, "
        "dont celui portant organisation de la rentrée scolaire.</p>]]></description></item>"
        for n in range(ITEMS)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Site {number}</title><link>https://site{number}.example/</link>{items}"
        "</channel></rss>"
    ).encode()


# --- the feed server (child process) --------------------------------------------------------


async def serve(port: int, rtt: float, etag: bool) -> None:
    bodies: dict[str, tuple[bytes, str]] = {}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if path not in bodies:
                    body = feed_body(int(path.rsplit("/", 1)[-1]))
                    bodies[path] = (body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
                body, tag = bodies[path]
                await asyncio.sleep(rtt)
                if etag and headers.get("if-none-match") == tag:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\n\r\n".encode())
                else:
                    extra = f"ETag: {tag}\r\n" if etag else ""
                    writer.write(
                        (
                            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                            f"{extra}Content-Length: {len(body)}\r\n\r\n"
                        ).encode()
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "0.0.0.0", port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# --- the measured side --------------------------------------------------------------------------


@dataclass
class Figures:
    feeds: int
    rtt_ms: int
    etag: bool
    startup_s: float
    polls_per_s: float
    cpu_ms_per_poll: float
    lag_p50_ms: float
    lag_p99_ms: float
    warnings_round: int
    warnings_scheduler: int
    rss_mb: float
    rss_startup_mb: float = 0.0
    """The peak RSS (ru_maxrss) by the end of start-up, then of the first round: where it grew."""
    rss_round1_mb: float = 0.0
    rss_round2_mb: float = 0.0


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def host(number: int) -> str:
    return f"127.0.{number // 250}.{number % 250 + 1}"


def config_yaml(feeds: int, port: int, db: Path) -> str:
    lines = [
        "site: {name: Bench, url: 'https://bench.example'}",
        f"storage: 'sqlite:///{db}'",
        "channels:",
        "  - {id: out, type: console}",
        "feeds:",
    ]
    lines += [
        f"  - {{id: f{n}, url: 'http://{host(n)}:{port}/feed/{n}', every: 5m, first_run: skip}}"
        for n in range(feeds)
    ]
    return "\n".join(lines) + "\n"


async def lag_sampler(stop: asyncio.Event, samples: list[float]) -> None:
    step = 0.01
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(step)
        samples.append(max(0.0, time.perf_counter() - started - step) * 1000)


async def measure(feeds: int, rtt_ms: int, etag: bool, port: int) -> Figures:
    from bot.app import App
    from bot.service_loop import settle_start_up
    from bot.settings import load_settings
    from bot.storage.store import Storage

    if os.environ.get("BENCH_WORKERS"):
        from concurrent.futures import ThreadPoolExecutor

        workers = int(os.environ["BENCH_WORKERS"])
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(workers))
    warnings = Counter()
    logging.getLogger().addHandler(warnings)
    logging.getLogger().setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "relais.yaml"
        path.write_text(config_yaml(feeds, port, Path(folder) / "relais.db"), encoding="utf-8")
        started = time.perf_counter()
        settings = load_settings(path, env={})
        storage = Storage.open(settings.storage)
        app = App(settings, storage, notifiers=[])
        scheduler = app.service._scheduler()
        settle_start_up()  # as `serve` does once the jobs are made,
        app.poller.start_thread()  # and the polls on their own loop, as under `relais run`
        startup = time.perf_counter() - started
        rss_startup = max_rss_mb()
        try:
            scheduler.start()  # as `serve` does: the jobs' first polls spread over 5 minutes
            await asyncio.sleep(SCHEDULER_SECONDS)
            scheduler.shutdown(wait=False)
            scheduler_warnings = warnings.count
            await app.service.poll_all()  # the first round: every feed parsed and baselined
            rss_round1 = max_rss_mb()
            warnings.count = 0
            samples: list[float] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(lag_sampler(stop, samples))
            cpu, wall = time.process_time(), time.perf_counter()
            await app.service.poll_all()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stop.set()
            await sampler
            rss_round2 = max_rss_mb()
            round_warnings = warnings.count
        finally:
            await app.aclose()
            storage.close()
            logging.getLogger().removeHandler(warnings)
    ordered = sorted(samples) or [0.0]
    return Figures(
        feeds=feeds,
        rtt_ms=rtt_ms,
        etag=etag,
        startup_s=startup,
        polls_per_s=feeds / wall,
        cpu_ms_per_poll=cpu * 1000 / feeds,
        lag_p50_ms=statistics.median(ordered),
        lag_p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        warnings_round=round_warnings,
        warnings_scheduler=scheduler_warnings,
        rss_mb=max_rss_mb(),
        rss_startup_mb=rss_startup,
        rss_round1_mb=rss_round1,
        rss_round2_mb=rss_round2,
    )


def max_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(feeds: int, rtt_ms: int, etag: bool) -> Figures:
    """One case in a fresh process pair (server, client), so RSS is this case's own."""
    port = 20000 + os.getpid() % 20000
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), str(rtt_ms), str(int(etag))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        return asyncio.run(measure(feeds, rtt_ms, etag, port))
    finally:
        server.terminate()
        with suppress(subprocess.TimeoutExpired):
            server.wait(5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rtt", type=int, nargs="+", default=[0, 100], help="round trip, ms")
    parser.add_argument("--quick", action="store_true", help="1,000 feeds at 100 ms only")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--case", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        port, rtt, etag = args.serve
        asyncio.run(serve(int(port), int(rtt) / 1000, etag == "1"))
        return 0
    if args.case:
        feeds, rtt, etag = args.case
        print(json.dumps(asdict(run_case(feeds, rtt, bool(etag)))), flush=True)
        return 0
    feeds_list, rtts = ([1000], [100]) if args.quick else (args.feeds, args.rtt)
    print("Relais polling benchmark (local feed server, emulated round trip)")
    print(
        f"{'feeds':>6} {'rtt':>5} {'etag':>5} {'start s':>8} {'polls/s':>8} {'cpu ms/poll':>11} "
        f"{'lag p50':>8} {'lag p99':>8} {'warn':>5} {'warn sched':>10} {'RSS MB':>7} "
        f"{'(start':>7} {'round 1':>8} {'round 2)':>8}"
    )
    for feeds in feeds_list:
        for rtt in rtts:
            for etag in (True, False):
                case = [sys.executable, __file__, "--case", str(feeds), str(rtt), str(int(etag))]
                out = subprocess.run(case, capture_output=True, text=True, check=True).stdout
                f = Figures(**json.loads(out.strip().splitlines()[-1]))
                print(
                    f"{f.feeds:>6} {f.rtt_ms:>5} {'yes' if f.etag else 'no':>5} "
                    f"{f.startup_s:>8.2f} {f.polls_per_s:>8.0f} {f.cpu_ms_per_poll:>11.2f} "
                    f"{f.lag_p50_ms:>8.1f} {f.lag_p99_ms:>8.1f} {f.warnings_round:>5} "
                    f"{f.warnings_scheduler:>10} {f.rss_mb:>7.1f} "
                    f"{f.rss_startup_mb:>7.1f} {f.rss_round1_mb:>8.1f} {f.rss_round2_mb:>8.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
