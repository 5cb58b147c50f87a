"""The teaser: a French-aware sentence splitter and the lead of an article cut to a budget."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from bot.content.clean import clean_paragraphs, html_to_paragraphs
from bot.models import Article

__all__ = [
    "MIN_LEAD",
    "article_teaser",
    "cut_at_word",
    "make_teaser",
    "sentence_ends",
    "split_sentences",
]

MIN_LEAD = 40
"""A paragraph shorter than this is not taken as the lead when a longer one exists."""
MAX_HEADING = 150
"""A paragraph up to this long that does not end like a sentence is a kicker or a subtitle."""

# Words that a full stop follows without ending the sentence. Case matters: "Me" (maître) is a
# title, "me" is not a word that takes a full stop.
_TITLES = frozenset(
    """M MM Mme Mmes Mlle Mlles Me Mes Mgr Dr Drs Pr Prs Pdt Gén Gal Gl Col Lt Lieut Cdt Cmdt Cne
    Capt Cpt Sgt Adj Adjt Sol Brig Amb Hon Exc Prés Vve St Ste Sts Stes Ets Éts Cie Sté Av Bd Mr
    Mrs Ms Prof Gen Sen Rep Gov Jr Sr Ltd Inc Corp Co No Nos Vol Art Ch Chap Fig""".split()  # noqa: SIM905
)
_LOWER_ABBREVIATIONS = frozenset(
    """av apr env ex cf vol art al chap fig hab tél tel éd ed coll dir ibid op cit resp vs vol pp p
    n no nos sq sqq suiv réf ref max min approx nb ps""".split()  # noqa: SIM905
)
_MONTH_ABBREVIATIONS = frozenset(
    """janv févr fév fevr fev avr juil sept oct nov déc dec""".split()  # noqa: SIM905
)
_INITIALISM = re.compile(r"^(?:[^\W\d_]\.-?)+[^\W\d_]$")  # S.E, J.-C, U.S

_TERMINATOR = re.compile(
    r"(?P<term>[.!?…]+)"
    r"(?P<closers>(?:[\s\u00a0\u202f]*[»”\"’)\]])*)"
    r"(?P<space>\s+)"
)
_OPENERS = "«\"“‘'([—–-¿¡ \u00a0\u202f"
_QUOTE_PAIRS = {"«": "»", "“": "”"}
# Symbols (emoji, arrows, bullets), combining marks, format characters (ZWJ, variation selectors).
_SKIPPED_CATEGORIES = frozenset({"So", "Sk", "Sm", "Mn", "Cf"})


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(open, close) offsets of matched « » and “ ” pairs, and of straight quotes taken in pairs."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in _QUOTE_PAIRS:
            stack.append((ch, i))
        elif ch in _QUOTE_PAIRS.values():
            for depth in range(len(stack) - 1, -1, -1):
                if _QUOTE_PAIRS[stack[depth][0]] == ch:
                    spans.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    straight = [i for i, ch in enumerate(text) if ch == '"']
    spans.extend(zip(straight[0::2], straight[1::2], strict=False))
    return spans


def _starts_sentence(text: str, start: int) -> bool:
    """Whether a capital or a digit comes next, after opening quotes, dashes and emoji."""
    i = start
    while i < len(text) and (
        text[i] in _OPENERS or unicodedata.category(text[i]) in _SKIPPED_CATEGORIES
    ):
        i += 1
    return i < len(text) and (text[i].isupper() or text[i].isdigit())


def _is_abbreviation(before: str) -> bool:
    """Whether a full stop after `before` (the text up to it) belongs to an abbreviation."""
    match = re.search(r"(\S+)$", before)
    if not match:
        return False
    word = match.group(1).lstrip("«\"“‘'([")
    word = re.sub(r"^[cdjlmnstqu]{1,3}['’]", "", word, flags=re.IGNORECASE)  # l’art., d’av.
    word = word.rsplit("-", 1)[-1] if "-" in word and not _INITIALISM.match(word) else word
    if word in _TITLES:
        return True
    if word.lower() in _LOWER_ABBREVIATIONS and not word.isupper():
        return True
    if len(word) == 1 and word.isalpha():
        return True  # an initial ("A. Diallo") or "p. 12"
    if _INITIALISM.match(word):
        return True
    if word.lower() in _MONTH_ABBREVIATIONS:
        return bool(re.search(r"\d(?:er)?\s+\S+$", before))  # "5 janv." but not "ils étaient sept."
    return False


def sentence_ends(text: str) -> list[int]:
    """Offsets just after each sentence of `text` (the last one is `len(text.rstrip())`).

    A sentence ends at . ! ? or an ellipsis, after any closing quotes or brackets, when the next
    word starts with a capital letter or a digit (possibly after an opening quote or a dash);
    not after an abbreviation or an initial (M., Mme, Gén., A. Diallo, n°, p., 5 janv.), not
    inside a « quotation », not in a number ("3,5 %", "1.200": no space), and not at a bracketed
    ellipsis "(…)" / "[…]".
    """
    text = text.rstrip()
    if not text:
        return []
    spans = _quote_spans(text)
    ends: list[int] = []
    for match in _TERMINATOR.finditer(text):
        term_start, term = match.start("term"), match.group("term")
        after_closers = match.end("closers")
        if not _starts_sentence(text, match.end("space")):
            continue
        if term_start > 0 and text[term_start - 1] in "([":
            continue
        if term == "." and _is_abbreviation(text[:term_start]):
            continue
        if any(open_ < term_start and close >= after_closers for open_, close in spans):
            continue
        ends.append(after_closers)
    ends.append(len(text))
    return ends


def split_sentences(text: str) -> list[str]:
    """`text` cut into sentences (see `sentence_ends`), each stripped."""
    pieces, start = [], 0
    for end in sentence_ends(text):
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    return pieces


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


def make_teaser(paragraphs: Sequence[str], budget: int) -> str:
    """The lead cut to `budget` characters.

    The lead is the first paragraph of at least `MIN_LEAD` characters that ends like a sentence
    or is longer than `MAX_HEADING` (a kicker or a subtitle is neither), else the first of that
    length, else the first non-empty one. It is returned whole when it fits; else cut after the
    last sentence that fits; if even its first sentence is too long, cut after a word and ended
    with "…".
    """
    candidates = [p.strip() for p in paragraphs if p and p.strip()]
    if not candidates or budget < 1:
        return ""
    long_enough = [p for p in candidates if len(p) >= MIN_LEAD]
    prose = [p for p in long_enough if p[-1] in _SENTENCE_FINAL or len(p) > MAX_HEADING]
    lead = (prose or long_enough or candidates)[0]
    if len(lead) <= budget:
        return lead
    fitting = [end for end in sentence_ends(lead) if len(lead[:end].rstrip()) <= budget]
    if fitting:
        return lead[: fitting[-1]].rstrip()
    return cut_at_word(lead, budget)


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
