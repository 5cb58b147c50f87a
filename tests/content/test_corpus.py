"""The cleaner on real material: Malijet article bodies and French pages with known boilerplate."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest

from bot.content.clean import clean_paragraphs, html_to_paragraphs
from bot.content.teaser import make_teaser

pytestmark = pytest.mark.corpus


def corpus_dir() -> Path:
    configured = os.environ.get("RELAIS_CORPUS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "corpus"


ARTICLES = corpus_dir() / "articles"
needs_corpus = pytest.mark.skipif(not ARTICLES.is_dir(), reason=f"no corpus at {ARTICLES}")

# Boilerplate seen in those Malijet bodies (flattened text, no markup).
MALIJET_BOILERPLATE = [
    re.compile(r"[ÀA] lire aussi", re.IGNORECASE),
    re.compile(r"Suivez-nous", re.IGNORECASE),
    re.compile(r"/\s*Malijet\.com\s*$"),
    re.compile(r"\bSource\s*:"),
    re.compile(r"^\(Photo d['’]illustration\)"),
    re.compile(r"\bNB\s*:"),
]


def malijet_paragraphs(body: str) -> list[str]:
    """The TSV keeps no markup; paragraphs were joined with runs of spaces before a capital."""
    return [p for p in re.split(r"\s{2,}(?=[A-ZÀ-Ý«\"“])", body) if p.strip()]


@needs_corpus
def test_malijet_bodies_give_teasers_without_boilerplate() -> None:
    csv.field_size_limit(10**8)
    path = ARTICLES / "malijet_100_articles_kounafoni.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["title"] != "title"]
    assert len(rows) >= 90
    non_empty = 0
    for row in rows:
        cleaned = clean_paragraphs(malijet_paragraphs(row["content"]), title=row["title"])
        teaser = make_teaser(cleaned, 400)
        for pattern in MALIJET_BOILERPLATE:
            assert not pattern.search(teaser), (
                f"{pattern.pattern!r} in {row['title']!r}: {teaser!r}"
            )
        assert teaser.strip() != row["title"].strip()
        non_empty += bool(teaser)
    print(f"\nmalijet: {non_empty}/{len(rows)} teasers non-empty")
    # Two bodies are only related-article lists; a few are speeches that open with salutations.
    assert non_empty >= 0.9 * len(rows)


def comparable(text: str) -> str:
    """No-break spaces as spaces and "…" as "...", as the expected strings are written."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).replace(
        "…", "..."
    )


@needs_corpus
def test_french_pages_lose_their_known_boilerplate() -> None:
    expectations = json.loads(
        (ARTICLES / "trafilatura_evaldata_french_subset.json").read_text("utf-8")
    )
    kept_with = total_with = 0
    non_empty = 0
    for meta in expectations.values():
        page = (
            (ARTICLES / f"trafilatura_eval_{meta['file']}").read_bytes().decode("utf-8", "replace")
        )
        cleaned = clean_paragraphs(html_to_paragraphs(page), title=meta["title"])
        teaser = make_teaser(cleaned, 400)
        for unwanted in meta["without"]:
            assert unwanted not in teaser, f"{unwanted!r} in the teaser of {meta['file']}"
        assert "À lire aussi" not in "\n".join(cleaned), meta["file"]
        flat = [comparable(p) for p in cleaned]
        kept_with += sum(any(comparable(w) in p for p in flat) for w in meta["with"])
        total_with += len(meta["with"])
        non_empty += bool(teaser)
    print(
        f"\ntrafilatura pages: {non_empty}/{len(expectations)} teasers non-empty, "
        f"{kept_with}/{total_with} expected article strings kept by the cleaner"
    )
    assert non_empty == len(expectations)
    assert kept_with >= 0.85 * total_with
