"""Hostile article text: every cleaning and teaser step grows at most linearly (issue 12).

Each of the seven shapes that used to take time in the square of the text is fed at 3, 30 and
300 KB. No wall-clock time is asserted: the test compares the CPU time of one size with that of
the next, ten times larger. Linear work grows about tenfold; the quadratic code grew a hundredfold.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.content import teaser as teaser_module
from bot.content.clean import clean_paragraphs
from bot.content.sentences import sentence_ends
from bot.content.teaser import SOURCE_CHARS, article_teaser, make_teaser
from bot.models import Article

SHAPES = {
    "M.": "M. Keïta ",
    "Dr.": "Dr. ",
    "Gén.": "Gén. ",
    "initials": "A. B. ",
    "datelines": "BAMAKO (AMAP) - ",
    "short sentences": "Il pleut. ",
    "quotes": "« Oui. » “ ",
}
KB = 1000
# Linear work grows ×10 from one size to the next; noise, caches and the fixed cost of a call
# keep it below this. A step in the square of the text would be ×100.
MAX_GROWTH = 30.0


def hostile(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def cpu(action: Callable[[], object]) -> float:
    """The least CPU time of a few runs of `action` (the least is the least disturbed)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return max(best, 1e-4)


def forget_caches() -> None:
    teaser_module.forget_caches()


def article(text: str) -> Article:
    url = "https://www.journaldudjoliba.example/2024/05/06/article/"
    return Article(
        feed_id="djoliba",
        key="k",
        guid=None,
        url=url,
        canonical_url=url,
        title="Conseil des ministres",
        published=None,
        content_html=f"<p>{text}</p>",
    )


def growth(step: Callable[[str], object], unit: str, small: int, large: int) -> float:
    return cpu(lambda: step(hostile(unit, large))) / cpu(lambda: step(hostile(unit, small)))


STEPS: dict[str, Callable[[str], object]] = {
    "sentence_ends": sentence_ends,
    "clean_paragraphs": lambda text: clean_paragraphs([text], title="Conseil des ministres"),
    "make_teaser": lambda text: (forget_caches(), make_teaser([text], 400)),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("step", STEPS)
def test_each_step_is_linear(step: str, shape: str) -> None:
    assert growth(STEPS[step], SHAPES[shape], 3 * KB, 30 * KB) <= MAX_GROWTH


@pytest.mark.parametrize("shape", SHAPES)
def test_the_teaser_reads_a_bounded_part_of_a_huge_article(shape: str) -> None:
    def teaser(text: str) -> str:
        forget_caches()  # every run does the work: nothing remembered from the previous one
        return article_teaser(article(text), 400)

    unit = SHAPES[shape]
    assert growth(teaser, unit, 3 * KB, 30 * KB) <= MAX_GROWTH
    # Past the cap, ten times the text is hardly any more work.
    assert growth(teaser, unit, 30 * KB, 300 * KB) <= MAX_GROWTH / 3
    assert len(hostile(unit, 300 * KB)) > SOURCE_CHARS


def test_a_hostile_article_still_has_a_teaser() -> None:
    teaser = article_teaser(article(hostile(SHAPES["short sentences"], 300 * KB)), 400)
    assert teaser.startswith("Il pleut.") and len(teaser) <= 400
