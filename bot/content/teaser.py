"""The teaser: the lead of an article, cut to a budget at a sentence end (or a word, with …)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from bot.content.clean import html_to_paragraphs, iter_clean_paragraphs, iter_html_paragraphs
from bot.content.sentences import quote_spans, sentence_ends
from bot.models import Article

__all__ = [
    "LEAD_CHARS",
    "MIN_LEAD",
    "OVERRUN",
    "SOURCE_CHARS",
    "article_lead",
    "article_paragraphs",
    "article_teaser",
    "cut_at_word",
    "forget_caches",
    "head_paragraphs",
    "make_teaser",
    "tail_paragraphs",
]

SOURCE_CHARS = 32_000
"""How much of an article's HTML (its content, its summary) the teaser, routing and search read.
The lead is in the first few kilobytes; the cap bounds what one hostile article costs."""
LEAD_CHARS = 12_000
"""How much of the lead paragraph is cut into sentences: past `OVERRUN` × the largest budget
(4,000), nothing it holds can reach a post."""

MIN_LEAD = 40
"""A paragraph shorter than this is not taken as the lead when a longer one exists."""
MAX_HEADING = 150
"""A paragraph up to this long that does not end like a sentence is a kicker or a subtitle."""
OVERRUN = 1.6
"""A first sentence longer than the budget may run to this many times it, to end whole."""

_SENTENCE_FINAL = '.!?…»"”)'
_TRAILING_JUNK = " \u00a0\u202f,;:.–—-(«\"“'‘/"


def cut_at_word(text: str, budget: int) -> str:
    """`text` if it fits in `budget` characters, else cut after a whole word and ended with "…"."""
    text = text.strip()
    if len(text) <= budget:
        return text
    if budget < 1:
        return ""
    limit = budget - 1
    cut = text[:limit]
    if not text[limit].isspace():
        space = max(cut.rfind(" "), cut.rfind("\u00a0"), cut.rfind("\u202f"))
        if space >= limit // 3:
            cut = cut[:space]
    cut = cut.rstrip(_TRAILING_JUNK)
    return cut + "…" if cut else text[:limit] + "…"


def _cut_outside_quotes(text: str, budget: int) -> str:
    """`cut_at_word`, except that a cut inside « … » moves past the closing guillemet when it is
    within `OVERRUN` × budget, or else before the opening one."""
    cut = cut_at_word(text, budget)
    end = len(cut.rstrip("…"))
    for open_, close in quote_spans(text):
        if open_ < end <= close:
            if close + 1 <= OVERRUN * budget:
                return cut_at_word(text[: close + 1], close + 1) + "…"
            if open_ >= MIN_LEAD:
                return cut_at_word(text[:open_], open_) + "…"
    return cut


def choose_lead(paragraphs: Iterable[str]) -> str:
    """The lead of cleaned paragraphs, reading no further than it: the first paragraph of at
    least `MIN_LEAD` characters that ends like a sentence or is longer than `MAX_HEADING` (a
    kicker or a subtitle is neither), else the first of that length, else the first non-empty
    one; "" when there is none."""
    long_enough = first = ""
    for paragraph in paragraphs:
        candidate = paragraph.strip() if paragraph else ""
        if not candidate:
            continue
        first = first or candidate
        if len(candidate) >= MIN_LEAD:
            if candidate[-1] in _SENTENCE_FINAL or len(candidate) > MAX_HEADING:
                return candidate
            long_enough = long_enough or candidate
    return long_enough or first


@lru_cache(maxsize=512)
def _stripped_ends(lead: str) -> tuple[int, ...]:
    """Where the lead's sentences end, trailing spaces left out (cached: every channel and every
    attempt of the fitting cuts the same lead)."""
    ends = []
    for end in sentence_ends(lead):
        while end > 0 and lead[end - 1].isspace():
            end -= 1
        ends.append(end)
    return tuple(ends)


def cut_lead(lead: str, budget: int) -> str:
    """A lead cut to `budget` characters: whole when it fits; else cut after the last sentence
    that fits (unless that keeps less than `MIN_LEAD`); else its first sentence, whole, when it
    ends within `OVERRUN` × budget; else cut after a word, never inside « … » when the closing
    guillemet is within reach, and ended with "…"."""
    if not lead or budget < 1:
        return ""
    lead = lead[:LEAD_CHARS]
    ends = list(_stripped_ends(lead))
    if lead[-1] not in _SENTENCE_FINAL and len(ends) > 1:
        # The source cut its own lead ("…comme leurs vOlivier Vallée"): its last full sentence.
        lead, ends = lead[: ends[-2]], ends[:-1]
    if len(lead) <= budget:
        return lead
    fitting = [end for end in ends if end <= budget]
    # A first "sentence" shorter than a lead is usually a misread abbreviation ("Le Col.-Maj.").
    if fitting and fitting[-1] >= min(MIN_LEAD, budget):
        return lead[: fitting[-1]]
    overrun = [end for end in ends if budget < end <= OVERRUN * budget]
    if overrun:
        return lead[: overrun[0]]
    if fitting:
        return lead[: fitting[-1]]
    return _cut_outside_quotes(lead, budget)


def make_teaser(paragraphs: Sequence[str], budget: int) -> str:
    """The lead of `paragraphs` (`choose_lead`) cut to `budget` characters (`cut_lead`)."""
    return cut_lead(choose_lead(paragraphs), budget)


@lru_cache(maxsize=64)
def _paragraphs(html_text: str) -> tuple[str, ...]:
    """`html_to_paragraphs`, once per text: the lead reads a source's first `SOURCE_CHARS`, the
    credit line its last ones, and for a source shorter than that both are the same text."""
    return tuple(html_to_paragraphs(html_text))


def head_paragraphs(source: str) -> Iterable[str]:
    """The paragraphs of an HTML source's first `SOURCE_CHARS` (where its lead is). A longer
    source's head is not the text the credit line reads: it is parsed only as far as its
    reader goes (the lead is near the top), and not kept."""
    if len(source) <= SOURCE_CHARS:
        return _paragraphs(source)
    return iter_html_paragraphs(source[:SOURCE_CHARS])


def tail_paragraphs(source: str) -> tuple[str, ...]:
    """The paragraphs of an HTML source's last `SOURCE_CHARS` (where a "Source :" line is)."""
    return _paragraphs(source[-SOURCE_CHARS:])


def _cleaned(
    source: str, title: str, site_name: str, extra_patterns: Sequence[str]
) -> Iterator[str]:
    """The cleaned paragraphs of one HTML source, its first `SOURCE_CHARS` only, one at a time."""
    return iter_clean_paragraphs(
        head_paragraphs(source),
        title=title,
        site_name=site_name,
        extra_patterns=extra_patterns,
    )


def article_paragraphs(
    article: Article, *, site_name: str = "", extra_patterns: Sequence[str] = ()
) -> Iterator[Iterator[str]]:
    """The cleaned paragraphs of the article's content, then of its summary: for each source
    that has any text left once the boilerplate is gone, its paragraphs, cleaned as they are
    read."""
    for source in (article.content_html, article.summary_html):
        if not source or not source.strip():
            continue
        paragraphs = _cleaned(source, article.title, site_name, extra_patterns)
        first = next(paragraphs, None)
        if first is not None:
            yield _chain(first, paragraphs)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


@lru_cache(maxsize=1024)
def _lead(
    content_html: str, summary_html: str, title: str, site_name: str, extra: tuple[str, ...]
) -> str:
    for source in (content_html, summary_html):
        if source and source.strip():
            lead = choose_lead(_cleaned(source, title, site_name, extra))
            if lead:
                return lead
    return ""


def article_lead(
    article: Article, *, site_name: str = "", extra_patterns: Sequence[str] = ()
) -> str:
    """The lead paragraph of an article's content (else its summary), computed once per
    article text and shared by routing, every channel and previews; "" when neither has any
    text left once the boilerplate is gone."""
    return _lead(
        article.content_html, article.summary_html, article.title, site_name, tuple(extra_patterns)
    )


def article_teaser(
    article: Article,
    budget: int,
    *,
    site_name: str = "",
    extra_patterns: Sequence[str] = (),
) -> str:
    """The teaser of an article: its lead (`article_lead`) cut to `budget`.

    "" when neither content nor summary has usable text: the renderer then posts the title alone.
    """
    return cut_lead(
        article_lead(article, site_name=site_name, extra_patterns=extra_patterns), budget
    )


def forget_caches() -> None:
    """Forget every lead and sentence split remembered (benchmarks and tests that time a cold
    run)."""
    _lead.cache_clear()
    _stripped_ends.cache_clear()
    _paragraphs.cache_clear()
