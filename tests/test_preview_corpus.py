"""`relais preview` over every real feed of the shared corpus: posts, or one line of error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import corpus_dir
from tests.fakes.telegram_api import parse_html

CORPUS = corpus_dir()
FEEDS = sorted((CORPUS / "feeds").iterdir()) if CORPUS else []


@pytest.mark.corpus
@pytest.mark.parametrize("feed", FEEDS, ids=[f.name for f in FEEDS])
def test_every_corpus_feed_previews_without_a_crash(feed: Path, tmp_path: Path, capsys) -> None:
    source = feed
    if feed.suffix == ".gz":
        source = tmp_path / feed.stem
        source.write_bytes(gzip.decompress(feed.read_bytes()))
    code = main(["--config", str(tmp_path / "none.yaml"), "preview", str(source), "--json"])
    out, err = capsys.readouterr()
    if code == 1:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("relais: feed preview: "), err
        assert out == ""
        return
    assert code == 0, err
    for line in out.splitlines():
        record = json.loads(line)
        if record["type"] == "telegram":
            parse_html(record["post"]["text"])  # valid Telegram HTML, or this raises
            assert record["article"]["url"].startswith(("http://", "https://"))
        else:
            assert record["post"]["link"].startswith(("http://", "https://"))


def test_the_corpus_is_swept_when_present() -> None:
    if CORPUS is None:
        pytest.skip("the shared corpus (../shared/corpus) is not here")
    assert len(FEEDS) >= 60
