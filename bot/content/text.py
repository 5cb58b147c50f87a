"""The one text fold: how Relais compares words (routing, cleaning, search, topics, hashtags)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["TOPIC_KEY_MAX", "fold", "strip_accents", "title_key", "topic_key"]

TOPIC_KEY_MAX = 255
"""The longest topic key kept (the size of the column that stores it)."""

# One kind of apostrophe, quote and dash, and plain spaces: what a reader types and what a
# WordPress feed prints (’ « » – and no-break spaces) compare equal.
_UNIFORM = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\n": " ",
        # Letters that no decomposition takes apart: "cœur" is written "coeur" too.
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "ł": "l",
        "ı": "i",
    }
)


_UNIFORMED = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_UNIFORM)) + "]")


def _uniform(text: str) -> str:
    """`text.translate(_UNIFORM)`; a text without any of its characters is returned as it is
    (searching is many times cheaper than translating, except in ASCII)."""
    if text.isascii() or _UNIFORMED.search(text):
        return text.translate(_UNIFORM)
    return text


class _CombiningMarks(dict[int, int | None]):
    """A `str.translate` table that deletes the combining marks (`unicodedata.combining`) and
    keeps every other character; each code point is looked up once, when first met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_NO_MARKS = _CombiningMarks()


def strip_accents(text: str) -> str:
    """`text` without its combining marks, case kept: 'Ségou' → 'Segou', 'KEÏTA' → 'KEITA'."""
    if text.isascii():
        return text  # NFKD leaves ASCII as it is, and it holds no combining mark
    return unicodedata.normalize("NFKD", text).translate(_NO_MARKS)


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe, quote and dash, single spaces.

    'Coup d’État — « Ségou »' → 'coup d'etat - "segou"'. Every comparison of words in Relais
    goes through this function, so that a rule, a query and an article always agree.
    """
    bare = strip_accents(_uniform(text))
    return " ".join(_uniform(bare.casefold()).split())


@lru_cache(maxsize=4096)
def title_key(text: str) -> str:
    """The words of a text, folded: what two spellings of the same title have in common."""
    return " ".join(re.findall(r"[^\W_]+", fold(text)))


def topic_key(label: str) -> str:
    """The key a category or a topic typed by a reader is known by: 'Sécurité ' → 'securite'."""
    return title_key(label)[:TOPIC_KEY_MAX]
