"""Throughput and memory of the Relais pipeline (parse → clean → render) against feedparser alone.

For each large feed of the shared corpus (every RSS/Atom file over ~50 KB in
`<corpus>/feeds/`, the gzipped one decompressed) and the bundled demo feed, it times:

  (a) `feedparser.parse` alone on the feed's bytes, the floor any feed bot pays;
  (b) the whole Relais pipeline on the same bytes: `parse_feed`, then `render` of every
      article for one Telegram and one Facebook channel (cleaning and the teaser included).

Each measurement is repeated (median of `--repeat` runs, after one untimed warm-up pass) and
reported as articles, MB, feedparser ms, pipeline ms, articles per second through the pipeline
and the ratio pipeline / feedparser; then totals. Memory: the tracemalloc peak of one pipeline
pass (and of feedparser alone) over the largest feed, and the process's max RSS at the end.

Run it with `make bench`, or `.venv/bin/python bench/pipeline.py [--repeat N] [--quick] [--json]`.
The corpus is found at `../shared/corpus` next to the project, or where RELAIS_CORPUS points;
without it only the demo feed is measured (the output says so). No network is used.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import feedparser

from bot.content import clean, hashtags, teaser
from bot.content import render as render_module
from bot.content.render import render
from bot.feeds.parse import parse_feed
from bot.preview import default_preview_settings, render_feed
from bot.settings import ChannelSettings, SiteSettings

LARGE_FEED_BYTES = 50_000
"""A corpus feed counts as large from this size (decompressed)."""
PREVIEW_FEED_BYTES = 100_000
"""The `relais preview --json` path is measured on the feeds from this size (issue 12)."""
FEEDPARSER_HEADERS = {"content-type": "application/xml"}
MB = 1_000_000


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    articles: int
    posts: int
    render_errors: int
    megabytes: float
    feedparser_ms: float
    pipeline_ms: float

    @property
    def articles_per_s(self) -> float:
        return self.articles / (self.pipeline_ms / 1000) if self.pipeline_ms else 0.0

    @property
    def ratio(self) -> float:
        return self.pipeline_ms / self.feedparser_ms if self.feedparser_ms else 0.0


@dataclass(frozen=True, slots=True)
class Memory:
    feed: str
    pipeline_peak_mb: float
    feedparser_peak_mb: float
    max_rss_mb: float


# --- inputs ------------------------------------------------------------------------------------


def corpus_dir() -> Path:
    """RELAIS_CORPUS if set, else the shared corpus beside the project checkout."""
    configured = os.environ.get("RELAIS_CORPUS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


def read_body(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def large_corpus_feeds(corpus: Path) -> tuple[list[Feed], list[str]]:
    """The RSS/Atom feeds over LARGE_FEED_BYTES, and the large files left out (with why)."""
    feeds: list[Feed] = []
    left_out: list[str] = []
    folder = corpus / "feeds"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file():
            continue
        body = read_body(path)
        if len(body) < LARGE_FEED_BYTES:
            continue
        if path.suffix == ".json" or body.lstrip()[:1] in (b"{", b"["):
            left_out.append(f"{path.name} (JSON Feed: feedparser does not read it)")
            continue
        feeds.append(Feed(path.name, body))
    return feeds, left_out


def demo_feed() -> Feed:
    body = resources.files("bot.data").joinpath("demo_feed.xml").read_bytes()
    return Feed("bot/data/demo_feed.xml (bundled)", body)


# --- the two things measured --------------------------------------------------------------------


def feedparser_only(body: bytes) -> int:
    parsed = feedparser.parse(io.BytesIO(body), response_headers=FEEDPARSER_HEADERS)
    return len(parsed.entries)


def pipeline(
    body: bytes, feed_id: str, channels: Sequence[ChannelSettings], site: SiteSettings
) -> tuple[int, int, int]:
    """One pass: articles parsed, posts rendered, articles a channel refused (ValueError)."""
    parsed = parse_feed(body, feed_id=feed_id, content_type="application/xml")
    posts = errors = 0
    for article in parsed.articles:
        for channel in channels:
            try:
                render(article, channel, site)
            except ValueError:
                errors += 1
            else:
                posts += 1
    return len(parsed.articles), posts, errors


def preview_json(body: bytes) -> int:
    """What `relais preview --json FILE` does once the command has started and read the file:
    parse, route and render for the built-in Telegram and Facebook channels, print JSON Lines
    (here: encode them). Returns the lines made."""
    parsed = parse_feed(body, feed_id="preview", content_type=None)
    shown = default_preview_settings(parsed)
    lines = 0
    for item in render_feed(parsed, shown, feed_id="preview", every_channel=True):
        if item.rendered is not None:
            json.dumps(item.record(), ensure_ascii=False)
            lines += 1
    return lines


def preview_ratio(feeds: Sequence[Feed], repeat: int) -> tuple[int, float, float]:
    """Over the feeds of PREVIEW_FEED_BYTES and more: (feeds, feedparser ms, preview ms)."""
    large = [feed for feed in feeds if len(feed.body) >= PREVIEW_FEED_BYTES]
    parser_ms = preview_ms = 0.0
    for feed in large:
        feedparser_only(feed.body)
        preview_json(feed.body)
        parser_ms += median_ms(lambda: feedparser_only(feed.body), repeat)  # noqa: B023
        preview_ms += median_ms(lambda: preview_json(feed.body), repeat)  # noqa: B023
    return len(large), parser_ms, preview_ms


def forget_caches() -> None:
    """Each timed run starts cold: the text caches of the cleaner would otherwise remember the
    previous repetition's paragraphs and flatter the figures."""
    clean.fold.cache_clear()
    clean.title_key.cache_clear()
    teaser.forget_caches()
    hashtags.hashtag.cache_clear()
    render_module._credited_source.cache_clear()


def median_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs (the caller has run `action` once untimed)."""
    times: list[float] = []
    for _ in range(repeat):
        forget_caches()
        gc.collect()
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(
    feed: Feed, channels: Sequence[ChannelSettings], site: SiteSettings, repeat: int
) -> Result:
    feed_id = "bench"
    feedparser_only(feed.body)  # warm-up
    articles, posts, errors = pipeline(feed.body, feed_id, channels, site)  # warm-up and counts
    return Result(
        name=feed.name,
        articles=articles,
        posts=posts,
        render_errors=errors,
        megabytes=len(feed.body) / MB,
        feedparser_ms=median_ms(lambda: feedparser_only(feed.body), repeat),
        pipeline_ms=median_ms(lambda: pipeline(feed.body, feed_id, channels, site), repeat),
    )


def traced_peak_mb(action: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MB


def max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / MB if sys.platform == "darwin" else rss * 1024 / MB  # bytes on macOS, else KiB


def memory(feed: Feed, channels: Sequence[ChannelSettings], site: SiteSettings) -> Memory:
    return Memory(
        feed=feed.name,
        pipeline_peak_mb=traced_peak_mb(lambda: pipeline(feed.body, "bench", channels, site)),
        feedparser_peak_mb=traced_peak_mb(lambda: feedparser_only(feed.body)),
        max_rss_mb=max_rss_mb(),
    )


# --- output --------------------------------------------------------------------------------------


def totals(results: Sequence[Result]) -> Result:
    return Result(
        name="TOTAL",
        articles=sum(r.articles for r in results),
        posts=sum(r.posts for r in results),
        render_errors=sum(r.render_errors for r in results),
        megabytes=sum(r.megabytes for r in results),
        feedparser_ms=sum(r.feedparser_ms for r in results),
        pipeline_ms=sum(r.pipeline_ms for r in results),
    )


def table(results: Sequence[Result], total: Result) -> str:
    width = max(len(r.name) for r in [*results, total])
    header = (
        f"{'feed':<{width}}  {'articles':>8}  {'MB':>6}  {'feedparser ms':>13}  "
        f"{'pipeline ms':>11}  {'articles/s':>10}  {'ratio':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in [*results, total]:
        if r is total:
            lines.append("-" * len(header))
        lines.append(
            f"{r.name:<{width}}  {r.articles:>8}  {r.megabytes:>6.2f}  {r.feedparser_ms:>13.1f}  "
            f"{r.pipeline_ms:>11.1f}  {r.articles_per_s:>10.0f}  {r.ratio:>5.2f}x"
        )
    return "\n".join(lines)


def report_text(
    results: Sequence[Result],
    total: Result,
    mem: Memory,
    *,
    repeat: int,
    corpus: Path,
    corpus_found: bool,
    left_out: Sequence[str],
) -> str:
    lines = [
        "Relais pipeline benchmark: parse_feed → clean → render (Telegram + Facebook) per article,",
        "against feedparser.parse alone on the same bytes. Ratio = pipeline ms / feedparser ms.",
        f"Python {platform.python_version()}, feedparser {feedparser.__version__}, "
        f"median of {repeat} run(s) after one warm-up.",
    ]
    if corpus_found:
        lines.append(f"Corpus: {corpus} (feeds of {LARGE_FEED_BYTES // 1000} KB and more)")
    else:
        lines.append(f"Corpus not found at {corpus} (set RELAIS_CORPUS): demo feed only.")
    lines += [f"Left out: {item}" for item in left_out]
    lines += ["", table(results, total), ""]
    if total.render_errors:
        lines.append(
            f"Render refusals (ValueError, counted not posted): {total.render_errors} "
            f"of {total.posts + total.render_errors} renders."
        )
    lines += [
        f"Peak memory (tracemalloc), one pass over the largest feed, {mem.feed}:",
        f"  pipeline {mem.pipeline_peak_mb:.2f} MB, "
        f"feedparser alone {mem.feedparser_peak_mb:.2f} MB",
        f"Process max RSS at the end: {mem.max_rss_mb:.1f} MB",
    ]
    return "\n".join(lines)


def report_json(
    results: Sequence[Result],
    total: Result,
    mem: Memory,
    *,
    repeat: int,
    corpus: Path,
    corpus_found: bool,
    left_out: Sequence[str],
) -> str:
    def row(r: Result) -> dict[str, Any]:
        return {
            **asdict(r),
            "megabytes": round(r.megabytes, 3),
            "feedparser_ms": round(r.feedparser_ms, 2),
            "pipeline_ms": round(r.pipeline_ms, 2),
            "articles_per_s": round(r.articles_per_s, 1),
            "ratio": round(r.ratio, 3),
        }

    return json.dumps(
        {
            "python": platform.python_version(),
            "feedparser": feedparser.__version__,
            "repeat": repeat,
            "corpus": str(corpus) if corpus_found else None,
            "left_out": list(left_out),
            "feeds": [row(r) for r in results],
            "total": row(total),
            "memory": asdict(mem),
        },
        indent=2,
        ensure_ascii=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--quick", action="store_true", help="one timed run per measurement")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(args.repeat, 1)

    settings = default_preview_settings()
    channels = settings.channels
    corpus = corpus_dir()
    corpus_found = (corpus / "feeds").is_dir()
    feeds, left_out = large_corpus_feeds(corpus)
    feeds.append(demo_feed())

    results = [measure(feed, channels, settings.site, repeat) for feed in feeds]
    largest = max(feeds, key=lambda feed: len(feed.body))
    mem = memory(largest, channels, settings.site)
    report = report_json if args.json else report_text
    count, parser_ms, preview_ms = preview_ratio(feeds, repeat)
    print(
        report(
            results,
            totals(results),
            mem,
            repeat=repeat,
            corpus=corpus,
            corpus_found=corpus_found,
            left_out=left_out,
        )
    )
    ratio = preview_ms / parser_ms if parser_ms else 0.0
    if args.json:
        figures = {"feeds": count, "feedparser_ms": parser_ms, "preview_ms": preview_ms}
        print(json.dumps({"preview_json_path": {**figures, "ratio": round(ratio, 3)}}))
    else:
        print(
            f"\n`relais preview --json` path over the {count} feeds of "
            f"{PREVIEW_FEED_BYTES // 1000} KB and more (start-up left out): feedparser "
            f"{parser_ms:.1f} ms, preview {preview_ms:.1f} ms, ratio {ratio:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
