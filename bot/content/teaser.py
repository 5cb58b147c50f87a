"""The teaser: the lead of an article, cut to a budget at a sentence end (or a word, with …)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.content.clean import clean_paragraphs, html_to_paragraphs
from bot.content.sentences import quote_spans, sentence_ends
from bot.models import Article

__all__ = [
    "MIN_LEAD",
    "OVERRUN",
    "article_paragraphs",
    "article_teaser",
    "cut_at_word",
    "make_teaser",
]

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


def make_teaser(paragraphs: Sequence[str], budget: int) -> str:
    """The lead cut to `budget` characters.

    The lead is the first paragraph of at least `MIN_LEAD` characters that ends like a sentence
    or is longer than `MAX_HEADING` (a kicker or a subtitle is neither), else the first of that
    length, else the first non-empty one. It is returned whole when it fits; else cut after the
    last sentence that fits (unless that keeps less than `MIN_LEAD`); else its first
    sentence, whole, when it ends within `OVERRUN` × budget; else cut after a word, never inside
    « … » when the closing guillemet is within reach, and ended with "…".
    """
    candidates = [p.strip() for p in paragraphs if p and p.strip()]
    if not candidates or budget < 1:
        return ""
    long_enough = [p for p in candidates if len(p) >= MIN_LEAD]
    prose = [p for p in long_enough if p[-1] in _SENTENCE_FINAL or len(p) > MAX_HEADING]
    lead = (prose or long_enough or candidates)[0]
    ends = [len(lead[:end].rstrip()) for end in sentence_ends(lead)]
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


def article_paragraphs(
    article: Article, *, site_name: str = "", extra_patterns: Sequence[str] = ()
) -> Iterator[list[str]]:
    """The cleaned paragraphs of the article's content, then of its summary: one list per
    source that has any text left once the boilerplate is gone."""
    for source in (article.content_html, article.summary_html):
        if not source or not source.strip():
            continue
        paragraphs = clean_paragraphs(
            html_to_paragraphs(source),
            title=article.title,
            site_name=site_name,
            extra_patterns=extra_patterns,
        )
        if paragraphs:
            yield paragraphs


def article_teaser(
    article: Article,
    budget: int,
    *,
    site_name: str = "",
    extra_patterns: Sequence[str] = (),
) -> str:
    """The teaser of an article: its content (else its summary) cleaned, then its lead cut.

    "" when neither has usable text: the renderer then posts the title alone.
    """
    for paragraphs in article_paragraphs(
        article, site_name=site_name, extra_patterns=extra_patterns
    ):
        teaser = make_teaser(paragraphs, budget)
        if teaser:
            return teaser
    return ""
