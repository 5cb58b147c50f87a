"""A French-aware sentence splitter: where a news lead's sentences end (ranks, abbreviations)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from itertools import accumulate

__all__ = ["quote_spans", "sentence_ends", "split_sentences"]

# Words that a full stop follows without ending the sentence. Case matters: "Me" (maître) is a
# title, "me" is not a word that takes a full stop. Malian ranks and titles included: Col.-Maj.,
# Gén. de brigade, Cdt., Lt., Capt., Adj., Me, Pr, Hon., S.E.
_TITLES = frozenset(
    """M MM Mme Mmes Mlle Mlles Me Mes Mgr Dr Drs Pr Prs Pdt Gén Gen Gal Gl Col Maj Lt Lieut Lcl
    Cdt Cmdt Cne Capt Cpt Sgt Sgt-Chef Adj Adjt Asp Cpl Sol Brig Amb Hon Exc Prés Vve St Ste Sts
    Stes Ets Éts Cie Sté Av Bd Mr Mrs Ms Prof Sen Rep Gov Jr Sr Ltd Inc Corp Co No Nos Vol Art
    Ch Chap Fig Ing Insp""".split()  # noqa: SIM905
)
_LOWER_ABBREVIATIONS = frozenset(
    """av apr env ex cf vol art al chap fig hab tél tel éd ed coll dir ibid op cit resp vs pp p
    n no nos sq sqq suiv réf ref max min approx nb ps""".split()  # noqa: SIM905
)
# Abbreviations that are also words ("pour vol.", "au min."), and units after a number ("10 h."):
# they end the sentence when a word that starts sentences follows ("…pour vol. Le procès…").
_AMBIGUOUS = frozenset("vol art min max h mn s m km".split())  # noqa: SIM905
_SENTENCE_OPENERS = frozenset(
    """Le La Les L Un Une Des Il Elle Ils Elles On Ce Cette Ces Cet C Ceci Cela Au Aux En Dans
    Selon Mais Pour Par Sur Sous Après Avant Depuis Lors Pendant Alors Ainsi Enfin Puis Et Or
    Donc Toutefois Cependant Néanmoins Pourtant Désormais Hier Aujourd Demain Son Sa Ses Leur
    Leurs Nous Vous Je Du De D À A Face Parmi Outre Quant Si Comme Tous Toutes Chaque Aucun
    Aucune""".split()  # noqa: SIM905
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
_CURLY_QUOTE = re.compile("[«»“”]")
_STRAIGHT_QUOTE = re.compile('"')
# Symbols (emoji, arrows, bullets), combining marks, format characters (ZWJ, variation selectors).
_SKIPPED_CATEGORIES = frozenset({"So", "Sk", "Sm", "Mn", "Cf"})
_NEXT_WORD = re.compile(r"[\W_]*([^\W\d_]+)")


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(open, close) offsets of matched « » and “ ” pairs, and of straight quotes taken in pairs.

    A closing mark closes the innermost open mark of its kind and every mark opened after it.
    Linear: each open mark is pushed and popped once (`positions` keeps, per kind, where its
    open marks sit on the stack)."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    positions: dict[str, list[int]] = {opener: [] for opener in _QUOTE_PAIRS}
    closers = {close: opener for opener, close in _QUOTE_PAIRS.items()}
    for mark in _CURLY_QUOTE.finditer(text):  # only the quotation marks, not every character
        i, ch = mark.start(), mark.group()
        if ch in _QUOTE_PAIRS:
            positions[ch].append(len(stack))
            stack.append((ch, i))
        elif ch in closers and positions[closers[ch]]:
            depth = positions[closers[ch]][-1]
            spans.append((stack[depth][1], i))
            while len(stack) > depth:
                positions[stack.pop()[0]].pop()
    straight = [mark.start() for mark in _STRAIGHT_QUOTE.finditer(text)]
    spans.extend(zip(straight[0::2], straight[1::2], strict=False))
    return spans


class _Quoted:
    """Whether a stretch of text lies inside a quotation: of all quotes opened before a point,
    the furthest close, found by bisection (no scan of every span per full stop)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._opens = [open_ for open_, _ in ordered]
        self._furthest = list(accumulate((close for _, close in ordered), max))

    def covers(self, start: int, end: int) -> bool:
        """Whether a quote opens before `start` and closes at or after `end`."""
        count = bisect_left(self._opens, start)
        return count > 0 and self._furthest[count - 1] >= end


def _starts_sentence(text: str, start: int) -> bool:
    """Whether a capital or a digit comes next, after opening quotes, dashes and emoji."""
    i = start
    while i < len(text) and (
        text[i] in _OPENERS or unicodedata.category(text[i]) in _SKIPPED_CATEGORIES
    ):
        i += 1
    return i < len(text) and (text[i].isupper() or text[i].isdigit())


def _opener_follows(after: str) -> bool:
    """Whether the next word is one that starts sentences ("Le", "Elle", "Selon"), not a name."""
    match = _NEXT_WORD.match(after)
    return match is not None and match.group(1) in _SENTENCE_OPENERS


WORD_WINDOW = 80
"""How much text on each side of a full stop decides whether it ends a sentence: the word before
it (and a day number before a month), the word after it. A window, never the whole text, keeps
`sentence_ends` linear."""


def _is_abbreviation(before: str, after: str = "") -> bool:
    """Whether a full stop after `before` (the text up to it, or its last `WORD_WINDOW`
    characters) belongs to an abbreviation; `after` is the text that follows the full stop."""
    match = re.search(r"(\S+)$", before)
    if not match:
        return False
    word = match.group(1).lstrip("«\"“‘'([")
    word = re.sub(r"^[cdjlmnstqu]{1,3}['’]", "", word, flags=re.IGNORECASE)  # l’art., d’av.
    if "-" in word and not _INITIALISM.match(word):
        # Col.-Maj., Lt-Col., Sgt-Chef: a rank on either side of the hyphen.
        parts = [part.rstrip(".") for part in word.split("-")]
        if word in _TITLES or any(part in _TITLES for part in parts):
            return True
        word = parts[-1]
    if word.lower() in _AMBIGUOUS and not word.isupper() and _opener_follows(after):
        return False  # "…pour vol. Le procès…", "…à 10 h. Elle…"
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
    not after an abbreviation, a rank or an initial (M., Mme, Gén., Col.-Maj., A. Diallo, n°,
    p., 5 janv.), not inside a « quotation », not in a number ("3,5 %", "1.200": no space),
    and not at a bracketed ellipsis "(…)" / "[…]". A word that is an abbreviation only
    sometimes ("vol.", "art.", "min.", "10 h.") ends the sentence when a word that starts
    sentences follows it.
    """
    text = text.rstrip()
    if not text:
        return []
    quoted = _Quoted(quote_spans(text))
    ends: list[int] = []
    for match in _TERMINATOR.finditer(text):
        term_start, term = match.start("term"), match.group("term")
        after_closers = match.end("closers")
        if not _starts_sentence(text, match.end("space")):
            continue
        if term_start > 0 and text[term_start - 1] in "([":
            continue
        if term == "." and _is_abbreviation(
            text[max(0, term_start - WORD_WINDOW) : term_start],
            text[match.end("space") : match.end("space") + WORD_WINDOW],
        ):
            continue
        if quoted.covers(term_start, after_closers):
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
