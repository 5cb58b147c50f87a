"""Feed HTML → paragraphs of plain text, and the removal of news-site boilerplate from them."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from html.parser import HTMLParser

from bot.content.sentences import sentence_ends
from bot.content.text import fold, strip_accents, title_key

__all__ = [
    "clean_paragraphs",
    "credited_source",
    "html_to_paragraphs",
    "iter_clean_paragraphs",
    "iter_html_paragraphs",
    "normalise_text",
]

# ---------------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------------

# Soft hyphen, zero-width space/non-joiner, word joiner, BOM/zero-width no-break space, and the
# bidirectional embeddings, overrides and isolates (a right-to-left override makes "gnp.exe"
# read "exe.png"). The zero-width joiner is removed apart from emoji (`_STRAY_JOINER`).
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u200b\u200c\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"), None
)
_INVISIBLE.update(dict.fromkeys(range(0x2066, 0x206A)))
# A zero-width joiner binds emoji into one (👨‍👩‍👧, 🏳️‍🌈); anywhere else it is noise.
_EMOJI_PART = "\u2600-\u27bf\ufe0f\U0001f000-\U0001faff"
_STRAY_JOINER = re.compile(f"(?<![{_EMOJI_PART}])\u200d|\u200d(?![{_EMOJI_PART}])")
# C0/C1 control characters other than tab and newline carry no text.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
# French typography: thin and figure spaces sit before ; : ! ? and inside numbers, where a line
# must not break, so they become the narrow no-break space. Other exotic spaces become plain ones.
_SPACES = {0x2009: "\u202f", 0x2007: "\u202f", 0x2008: " ", 0x200A: " ", 0x205F: " ", 0x3000: " "}
_SPACES.update({cp: " " for cp in range(0x2000, 0x2007)})
_CHAR_MAP: dict[int, str | None] = {**_CONTROLS, **_INVISIBLE, **_SPACES, 0x09: " ", 0x0D: " "}
_MAPPED = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_CHAR_MAP)) + "]")
_MATH_ALNUM = re.compile("[\U0001d400-\U0001d7ff]")
_LEFTOVER_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_COLLAPSIBLE = re.compile(r"[^\S\n\u00a0\u202f]+")
_SPACE_RUN = re.compile(r"[ \u00a0\u202f]{2,}")


def _one_space(match: re.Match[str]) -> str:
    run = match.group(0)
    if "\u202f" in run:
        return "\u202f"
    return "\u00a0" if "\u00a0" in run else " "


def _map_chars(text: str) -> str:
    """`text.translate(_CHAR_MAP)`. A text without any of its characters is returned as it is:
    searching for them is many times cheaper than translating, except in ASCII, which
    `translate` does fast."""
    if text.isascii() or _MAPPED.search(text):
        return text.translate(_CHAR_MAP)
    return text


def normalise_text(text: str, *, keep_newlines: bool = False) -> str:
    """Plain text cleaned the way every teaser wants it.

    Invisible characters (soft hyphens, zero-width characters, controls) are removed; entities
    that survived one decoding (double-encoded feeds: a literal ``&#8217;``) are decoded;
    "mathematical bold" letters used as fake bold become ordinary letters; the text is NFC;
    whitespace runs collapse to one space, where a run holding a no-break space (U+00A0) or a
    narrow no-break space (U+202F) keeps that character, as French typography wants.
    """
    # Each step is skipped when the text cannot hold what it looks for (the result is the same).
    if "&" in text:
        text = _LEFTOVER_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = _map_chars(text)
    if "\u200d" in text:
        text = _STRAY_JOINER.sub("", text)
    if not text.isascii():
        text = _MATH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
        text = unicodedata.normalize("NFC", text)
    if keep_newlines:
        lines = (
            _SPACE_RUN.sub(_one_space, _COLLAPSIBLE.sub(" ", line)).strip()
            for line in text.split("\n")
        )
        return "\n".join(line for line in lines if line)
    text = _COLLAPSIBLE.sub(" ", text.replace("\n", " "))
    return _SPACE_RUN.sub(_one_space, text).strip()


# ---------------------------------------------------------------------------------------------
# HTML → paragraphs
# ---------------------------------------------------------------------------------------------

_BLOCKS = frozenset(
    """address article blockquote caption center dd details dialog div dl dt fieldset figure h1 h2
    h3 h4 h5 h6 header hgroup hr li main ol p pre section summary table tbody td tfoot th thead
    tr ul""".split()  # noqa: SIM905
)
# Elements whose text is never article prose. (Void elements such as <img> carry no text.)
_DROPPED = frozenset(
    """aside audio button canvas figcaption footer form head iframe map math nav noscript object
    script select style svg template textarea title video""".split()  # noqa: SIM905
)


# Elements that hold no text of their own; they never open a skipped span.
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # noqa: SIM905
)
# A class naming a caption or a credit: wp-caption, wp-caption-text, figure__caption,
# photo-credit, legende… (one of the words of a class name, split at "-" and "_").
_CAPTION_CLASS_WORDS = frozenset(
    "caption captions credit credits legende légende legend copyright".split()  # noqa: SIM905
)
_FOOTNOTE_CALL = re.compile(r"^\s*[\[(]?\s*\d{1,3}\s*[\])]?\s*$")


# Each of the words above holds one of these: a class without any is not split into words.
CAPTION_CLASS_STEMS = ("caption", "credit", "legend", "légende", "copyright")
_CLASS_SEPARATORS = re.compile(r"[\s_-]+")


def _is_caption(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "class" and value:
            folded = value.casefold()
            if not any(stem in folded for stem in CAPTION_CLASS_STEMS):
                continue
            if any(word in _CAPTION_CLASS_WORDS for word in _CLASS_SEPARATORS.split(folded)):
                return True
    return False


class _ParagraphParser(HTMLParser):
    """Collects text into paragraphs; one <br> is a line break, two in a row a paragraph break.

    Skipped: the elements of `_DROPPED`, any element whose class names a caption or a credit
    (old WordPress ``<div class="wp-caption">``, ``<p class="wp-caption-text">``), with all they
    contain; and footnote calls (``<sup>1</sup>``, ``<sup>[2]</sup>``).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buffer: list[str] = []
        self._skipping: list[str] = []  # the open elements of a skipped span, outermost first
        self._in_sup = 0

    def _flush(self) -> None:
        text = "".join(self._buffer)
        self._buffer = []
        if text.strip():
            self.paragraphs.append(text)

    def _break_line(self) -> None:
        current = "".join(self._buffer).rstrip(" ")
        if not current.strip():
            return
        if current.endswith("\n"):
            self._flush()
        else:
            self._buffer = [current, "\n"]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping:
            if tag not in _VOID:
                self._skipping.append(tag)
        elif tag in _DROPPED or (tag not in _VOID and _is_caption(attrs)):
            if tag in _BLOCKS or tag == "figcaption":
                self._flush()
            self._skipping.append(tag)
        elif tag == "br":
            self._break_line()
        elif tag == "sup":
            self._in_sup += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping:
            return
        if tag == "br":
            self._break_line()
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:
                while self._skipping.pop() != tag:
                    pass
                return
            # The end of an element opened before the skipped one (an unclosed <figcaption>
            # before </figure>): the skipped span ends with it.
            self._skipping.clear()
        if tag == "sup":
            self._in_sup = max(0, self._in_sup - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skipping or (self._in_sup and _FOOTNOTE_CALL.match(data)):
            return
        data = _map_chars(data).replace("\n", " ")
        self._buffer.append(_COLLAPSIBLE.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._flush()


_HAS_MARKUP = re.compile(r"<[A-Za-z!/]")


def html_to_paragraphs(html_text: str) -> list[str]:
    """Feed HTML → paragraphs of plain text.

    Block elements and two ``<br>`` in a row end a paragraph; a single ``<br>`` becomes a
    newline inside the paragraph (so that a byline or a date on its own line can be recognised).
    Scripts, styles, figure captions, navigation, forms and asides are dropped; entities are
    decoded; see `normalise_text` for the rest. Text without any markup is split on blank lines.
    """
    return list(iter_html_paragraphs(html_text))


FIRST_PIECE = 4096
"""`iter_html_paragraphs` reads about this much HTML first, then four times more each time."""


def iter_html_paragraphs(html_text: str) -> Iterator[str]:
    """`html_to_paragraphs`, one paragraph at a time: a reader that needs only the first ones
    (the lead) leaves the rest of the HTML unparsed.

    html.parser is fed pieces that each end just before a "<": a piece then ends between two
    tags or inside a tag's text, where the parser holds back nothing it would read otherwise
    (a tag, comment or script cut by the end of a piece waits for the next piece, text before
    a "<" is handed over whole), so the paragraphs are those of one feeding. Markup that
    html.parser rejects raises when the piece holding it is read.
    """
    if not html_text or not html_text.strip():
        return
    if not _HAS_MARKUP.search(html_text):
        raw = [
            p.replace("\n", " ") for p in re.split(r"\n[ \t\r\f\v]*\n", html.unescape(html_text))
        ]
        yield from _normalised(raw)
        return
    parser = _ParagraphParser()
    start, size, given = 0, FIRST_PIECE, 0
    while start < len(html_text):
        end = html_text.find("<", start + size)
        end = len(html_text) if end < 0 else end
        parser.feed(html_text[start:end])
        if end == len(html_text):
            parser.close()
        yield from _normalised(parser.paragraphs[given:])
        given = len(parser.paragraphs)
        start, size = end, size * 4


def _normalised(raw: Iterable[str]) -> Iterator[str]:
    for paragraph in raw:
        text = normalise_text(paragraph, keep_newlines=True)
        if text:
            yield text


# ---------------------------------------------------------------------------------------------
# Boilerplate
# ---------------------------------------------------------------------------------------------
# Whole-line patterns are matched against `fold(line)`: lower case, no accents, apostrophes
# as ', guillemets as ", dashes as -. Each family has a length limit above which a line is
# taken to be prose that merely starts like boilerplate.

_MONTHS = (
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    r"|janv|fevr|fev|avr|juil|sept|oct|nov|dec|january|february|march|april|may|june|july"
    r"|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep)\.?"
)
_DAYS = (
    r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
)
_DATE = (
    rf"(?:(?:{_DAYS},?\s+)?(?:le\s+)?\d{{1,2}}(?:er|e|re)?\s+{_MONTHS}\s+\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?)?)"
)
_TIME = r"(?:\s*(?:a|at|-|,)?\s*\d{1,2}\s*(?:h|:)\s*\d{0,2}\s*(?:min|mn)?(?:\s*(?:am|pm|gmt|utc))?)"


def _family(limit: int, *patterns: str) -> tuple[int, re.Pattern[str]]:
    return limit, re.compile("|".join(f"(?:{p})" for p in patterns))


_FAMILIES: dict[str, tuple[int, re.Pattern[str]]] = {
    "social": _family(
        300,
        r"^\W{0,4}(?:suivez|rejoignez|retrouvez|abonnez|inscrivez|likez|aimez)[- ](?:nous|vous)\b",
        r"^\W{0,4}(?:rejoignez|suivez|rejoins|rejoindre) (?:notre|nos|la|le) "
        r"(?:chaine|groupe|page|communaute|canal|compte)",
        r"^\W{0,4}(?:follow|join|like|subscribe to|find|connect with) (?:us|our)\b",
        r"^\W{0,4}(?:abonnez-vous|subscribe|abonnez vous)\b",
        r"pour ne (?:rien )?(?:plus )?rater (?:rien |aucune )?(?:de )?(?:l'|nos |notre )?"
        r"(?:actualite|actu|info|information|article)",
        r"^\W{0,4}(?:so you )?never miss (?:a|any|an) (?:story|update|article|news)",
        r"^\W{0,4}(?:partagez|share)(?: (?:cet|this|l') ?(?:article|post|story|info))?\W*$",
        r"^\W{0,4}(?:cliquez|click) (?:ici|here)\b",
    ),
    "crosslink": _family(
        500,
        r"^\W{0,4}(?:a |a\s)?lire (?:aussi|egalement|encore|en complement|sur le meme sujet)\b",
        r"^\W{0,4}(?:voir|lisez) (?:aussi|egalement)\b",
        r"^\W{0,4}(?:read|see) (?:also|more)\b",
        r"^\W{0,4}also read\b",
        r"^\W{0,4}related(?: (?:articles?|posts?|stories|news|content))?\s*(?::|$)",
        r"^\W{0,4}(?:articles?|posts?|contenus?) "
        r"(?:similaires|connexes|lies|en relation|recommandes)\b",
        r"^\W{0,4}(?:sur|dans) (?:le|la) meme (?:sujet|theme|rubrique|categorie)\b",
        r"^\W{0,4}(?:a|a\s) (?:decouvrir|voir) (?:aussi|egalement|sur)\b",
        r"^\W{0,4}(?:you|vous) (?:may|might|pourriez|aimerez|aimeriez) .{0,40}"
        r"(?:like|enjoy|aimer|interesser)",
        r"^\W{0,4}(?:lire|voir) l'article (?:complet|original|sur)\b",
    ),
    "footer": _family(
        700,
        r"^(?:the post|cet article|l'article) .{1,400}? "
        r"(?:appeared first on|est apparu en premier sur)\b",
        r"^there is no excerpt because this is a protected post",
        r"^(?:this entry was posted in|this article was originally published|posted in)\b",
        r"^(?:cet article a ete (?:publie|mis en ligne) (?:dans|le|sur))\b",
        r"^(?:tags?|mots[- ]cles?|etiquettes|filed under|categories?|rubriques?)\s*:",
    ),
    "truncation": _family(
        160,
        r"^\W*(?:\.\.\.|…)\W*$",
        r"^\W{0,4}(?:lire|voir) (?:la suite|plus|l'integralite)\b",
        r"^\W{0,4}(?:continue|continuer|keep) reading\b",
        r"^\W{0,4}read (?:more|the (?:full|rest|whole))\b",
        r"^\W{0,4}(?:la )?suite (?:de l'article|ici|en page|sur)\b",
        r"^\W{0,4}(?:en savoir|plus d'info|plus d'infos|voir) plus\b",
        r"^\W{0,4}plus d'infos?\b",
    ),
    "rights": _family(
        500,
        r"^\W{0,4}n\.? ?b\.?\s*:.{0,250}\b(?:reproduction|droits|reprise|republication|copie)\b",
        r"\btous droits (?:de reproduction )?reserves\b",
        r"\ball rights reserved\b",
        r"^\W{0,4}(?:©|\(c\) ?\d{4}|copyright\b)",
        r"^\W{0,4}(?:n\.? ?b\.?\s*:\s*)?(?:toute |la )?(?:reproduction|reprise|republication)"
        r"(?: (?:totale|partielle|integrale|meme partielle|totale ou partielle"
        r"|integrale ou partielle))?"
        r"(?:,? [^.]{0,120}?)? (?:est )?(?:strictement |formellement )?interdite\b",
        r"^\W{0,4}n\.? ?b\.?\s*:\s*(?:le |les )?(?:titre|titres|intertitres|chapeau)"
        r" (?:est |sont )?(?:de la redaction|du journal)",
        r"^\W{0,4}(?:le |les )?(?:titre|titres|intertitres|chapeau) (?:est |sont )?"
        r"de la redaction\W*$",
    ),
    "source": _family(
        200,
        r"^\W{0,4}sources?\s*:",
        r"^\W{0,4}(?:credits?|credit photo|photos?|illustration|image|legende)\s*(?::|©)",
        r"^\W{0,4}(?:avec|with|d'apres|selon) (?:l'|le |la )?(?:afp|reuters|ap|apa|aps|amap|anp|"
        r"xinhua|anadolu|agences?|agence france-presse)\W*$",
        r"^\W{0,4}(?:propos|informations?) (?:re|ac)?cueilli(?:e)?s? par\b",
        r"^\W{0,4}(?:la |notre )?redaction\W*$",
        r"^\W{0,4}(?:la )?redaction (?:de|du|d') ?[\w.-]+\W*$",
        r"^\W{0,4}(?:publie|mis a jour|posted|published|updated|modifie)(?: le| on)?\s*:?\s*"
        rf"(?:{_DATE}{_TIME}?|{_TIME})",
        rf"^\W{{0,4}}(?:[a-z' -]{{2,30}},?\s+)?(?:le\s+)?{_DATE}{_TIME}?\W*$",
        rf"^\W{{0,4}}-?\s*{_TIME}\W*$",
    ),
    # Credit lines; prose starting the same way ends with a full stop, a credit does not.
    "credit": _family(
        100,
        r"^\W{0,4}(?:rassemble|compile|recueilli|realise|traduit|transcrit|redige|ecrit|written|"
        r"reported|compiled)(?:e|es|s)?(?: \w+)? (?:par|by)\b",
        r"^\W{0,4}(?:de notre |notre )?"
        r"(?:correspondante?|envoyee? speciale?|correspondance particuliere)\b",
        r"^\W{0,4}(?:la |le )?(?:cellule|service|bureau|direction|departement|division)"
        r" (?:de (?:la )?|des |du )?(?:communication|information|presse|relations publiques)\b",
    ),
    "promo": _family(
        250,
        r"^\W{0,4}telechargez\b.{0,80}\b(?:app|appli|application|applications|android|ios|"
        r"play store|app store|google play)\b",
        r"^\W{0,4}(?:e|re)?coutez\b.{0,80}\b(?:radio|radios|podcast|podcasts|en direct|emission|"
        r"magazine|journal)\b",
        r"^\W{0,4}(?:download|get) (?:our|the)\b.{0,30}\bapp\b",
        r"^\W{0,4}(?:disponible|available) (?:sur|on) (?:google play|l'app store|the app store|"
        r"android|ios)\b",
        r":\s*telecharger\W*$",
        r"^\W{0,4}ci-dessous,? (?:ecoutez|regardez|le communique|la video|l'integralite)\b",
        r"^\W{0,4}(?:regardez|watch) (?:la video|the video|notre|en direct|live)\b",
        r"^\W{0,4}(?:abonnez-vous|inscrivez-vous) a (?:notre|la) newsletter\b",
    ),
    "widget": _family(
        160,
        r"^\W{0,4}(?:quelle est votre reaction|votre adresse (?:e-)?mail ne sera pas publiee"
        r"|your email address will not be published|laisse[rz] un commentaire"
        r"|leave a (?:comment|reply)|ajouter un commentaire|signaler (?:une erreur|un abus)"
        r"|no media source currently available"
        r"|connect with us|share this|like this|j'aime ceci|aimer ceci|l'info en continu)\b",
        r"^\W{0,4}vos (?:reactions|commentaires)\W*(?:\(\d+\))?\W*$",
    ),
    # A site's own links, where a page (not a feed) is cleaned: /post, /preview.
    "site-links": _family(
        120,
        r"^\W{0,4}(?:mentions legales|conditions generales(?: d'utilisation| de vente)?"
        r"|charte (?:des commentaires|de moderation)|politique de confidentialite"
        r"|gestion des cookies|plan du site|nous contacter|contactez-nous|qui sommes-nous"
        r"|abonnements?(?: institutionnels| numeriques)?|s'abonner|se connecter)\W*$",
        r"^\W{0,4}les opinions exprimees .{0,80}n'engagent que leurs auteurs\b",
    ),
}

# Lines that are only these are never prose.
_WIDGET_ALONE = re.compile(
    r"^\W{0,4}(?:partager|partagez|share|imprimer|print|tweet|tweeter|image|images|video|videos"
    r"|publicite|pub|annonce|advertisement|sponsored|sponsorise|accueil|menu|newsletter|en images"
    r"|commentaires?|comments?|reagir|j'aime|like|publireportage|publi-reportage|publi-information"
    r"|contenu sponsorise|sponsored content|communique)\W*(?:\d+\W*)?$"
)

_NAME_PARTICLES = frozenset(
    """de du des d' dit dite ben bin ould ag el al ibn van von le la et épouse ep ép epse""".split()  # noqa: SIM905
)
_NOT_FIRST = frozenset(["les", "un", "une", "aux", "au", "l'", "l’", "d'", "d’"])
_NAME_ROLE = re.compile(
    r",\s*(?:stagiaire|correspondante?|envoyée? spéciale?|journaliste|collaborat(?:eur|rice)"
    r"|pigiste|reporter|photographe|avocate?|expert|analyste)(?:\s.{0,40})?$",
    re.IGNORECASE,
)
_NAME_TOKEN = re.compile(
    r"^(?:"
    r"[A-ZÀ-ÖØ-Þ][\w'’-]*\.?"  # Moussa, KEÏTA, Khaly-Moustapha, N'Diaye
    r"|(?:[A-ZÀ-ÖØ-Þ]\.\s?)+[A-ZÀ-ÖØ-Þ]?[\w'’-]*\.?"  # A., K.A.DOUMBIA, T.Sindy.
    r"|[A-Z&]{2,}"  # MK&DS
    r"|[\w-]+\.(?:com|net|org|ml|info|fr|africa|sn|ci|bf|ne|tv|media|news|example)"  # Malijet.com
    r")$"
)
_SITE_TOKEN = re.compile(
    r"^[\w-]+\.(?:com|net|org|ml|info|fr|africa|sn|ci|bf|ne|tv|media|news|example)$", re.I
)
_TRAILING_DATE = re.compile(rf"\s+{_DATE}\W*$", re.IGNORECASE)


def _looks_like_name(text: str) -> bool:
    """An author or a credit alone: 'Ousmane Tangara', 'A. Kalambry', 'K.A.DOUMBIA/Malijet.com'."""
    text = _NAME_ROLE.sub("", text.strip()).strip()
    if not text or len(text) > 60 or not re.search(r"[^\W\d_]", text):
        return False
    for part in re.split(r"\s*/\s*", text):
        tokens = [t.strip("(),;") for t in part.split()]
        tokens = [t for t in tokens if t]
        if not tokens or len(tokens) > 6:
            return False
        if tokens[0].casefold() in _NAME_PARTICLES | _NOT_FIRST:
            return False
        for token in tokens:
            if token.casefold() in _NAME_PARTICLES:
                continue
            if not _NAME_TOKEN.match(token) or re.search(r"\d", token):
                return False
    return True


def _looks_like_byline(text: str) -> bool:
    """'Par Bamada.net', 'Par Chiaka Doumbia', 'Par la Rédaction', 'By John Smith', with a date."""
    match = re.match(r"^(?:par|by)\s+(.+)$", text.strip(), re.IGNORECASE)
    if not match or len(text) > 90:
        return False
    rest = _TRAILING_DATE.sub("", match.group(1)).strip(" .")
    if re.fullmatch(r"(?:la |notre )?r[ée]daction(?:\s+(?:de|du|d['’])\s*\S+)?", rest, re.I):
        return True
    return bool(_SITE_TOKEN.match(rest)) or _looks_like_name(rest)


# --- things glued to a paragraph ------------------------------------------------------------

_PHOTO_PREFIX = re.compile(
    r"^\(\s*(?:photo|image|illustration)s?(?:\s*d['’]\s*(?:illustration|archives?))?\s*\)\s*[:.\-–—]?\s*"
    r"|^photos?\s+d['’]\s*(?:illustration|archives?)\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)
_CTA_GLUED = (
    r"(?:📲|👉|🔔|✅)?\s*suivez[- ]nous\b[^.!?\n]{0,120}?pour\s+ne\s+(?:rien\s+)?rater\b"
    r"[^.!?\n]{0,30}?l['’]\s*actualit[ée]"
    r"(?:\s+(?:malienne|africaine|nationale|internationale|sportive|sahélienne|sahelienne|"
    r"burkinabè|burkinabe|nigérienne|nigerienne|ivoirienne|sénégalaise|senegalaise))?\s*[.!]?"
)
_CTA_PREFIX = re.compile(r"^\s*" + _CTA_GLUED + r"\s*", re.IGNORECASE)
_CTA_SUFFIX = re.compile(r"\s*" + _CTA_GLUED + r"\s*$", re.IGNORECASE)
_TRUNCATION_SUFFIX = re.compile(
    r"(?:\s*(?:\[\s*(?:…|\.{3})\s*\]|\(\s*(?:…|\.{3})\s*\)|…|\.{3,})"
    r"|\s*(?:[\[(]\s*)?(?:lire la suite|continue reading|continuer la lecture|read more|"
    r"read the rest)(?:\s*(?:de l['’]article|ici))?\s*(?:…|\.{3}|»|›|→|>|&gt;)*"
    r"(?:\s*[\])])?)\s*$",
    re.IGNORECASE,
)
_FOOTER_SUFFIX = re.compile(
    r"\s*(?:The post|Cet article|L['’]article)\s.{1,400}?\s"
    r"(?:appeared first on|est apparu en premier sur)"
    r"\s[^\n]{1,150}?\.?\s*$",
    re.IGNORECASE,
)
_RIGHTS_SUFFIX = re.compile(
    r"\s*(?:N\.?\s?B\.?\s*:\s*)?(?:Toute|La)\s+(?:reproduction|reprise)\b[^\n]{0,200}?\binterdite\s*[.!]?\s*$"
    r"|\s*(?:©|\(c\))[^\n]{0,80}$"
    r"|\s*Tous droits réservés\.?\s*$",
    re.IGNORECASE,
)
# What each suffix pattern above cannot match without (every match of it holds one of these,
# in lower case): the text is searched for them first, which is much cheaper than the pattern.
_CTA_WORDS = ("suivez",)
_FOOTER_WORDS = ("appeared first on", "est apparu en premier sur")
_RIGHTS_WORDS = ("interdite", "©", "(c)", "tous droits r")
_TRUNCATION_WORDS = (
    *("…", "..."),
    *("lire la suite", "continue reading", "continuer la lecture", "read more", "read the rest"),
)
CASE_TWINS = ("\u0130", "\u0131", "\u017f", "\u212a")
"""The non-ASCII letters that IGNORECASE matches to an ASCII one: İ and ı to i, ſ to s, the
Kelvin sign to k."""


def _lower_probe(text: str) -> str | None:
    """`text.lower()`, where any part of `text` that IGNORECASE matches to a lower-case ASCII
    word shows that word as it is (`lower` maps each other character to one character); None
    when `text` holds one of the `CASE_TWINS`, which `lower` does not map to their ASCII twin."""
    if any(twin in text for twin in CASE_TWINS):
        return None
    return text.lower()


def _may_hold(probe: str | None, words: Sequence[str]) -> bool:
    """False only when the probed text holds none of `words` (None: it may hold any)."""
    return probe is None or any(word in probe for word in words)


# A credit after the last sentence of a paragraph: "… conditions de vie. Ousmane Tangara".
_TRAILING_CREDIT = re.compile(r"(?<=[.!?…»\"”])\s+(\S.{1,59})$")


def _strip_trailing_credit(text: str) -> str:
    match = _TRAILING_CREDIT.search(text)
    if not match or match.start() < 40:
        return text
    credit = match.group(1)
    if re.search(r"(?<![A-Z])[.!?…]\s", credit):
        return text  # more than one sentence: prose
    last = credit.split()[-1].split("/")[-1]
    if credit[-1] in ".!?…" and not _SITE_TOKEN.match(last.rstrip(".")):
        return text  # a sentence of its own, e.g. "… le Dr. Moussa Traoré."
    if _looks_like_byline(credit) or _looks_like_name(credit):
        return text[: match.start()].rstrip()
    return text


_INLINE_CROSSLINK = re.compile(
    r"(?<=[\s.;:!?»])(?:À|A) (?:lire|LIRE) (?:aussi|AUSSI|également|ÉGALEMENT)\b"
)

_CAPITAL = "A-ZÀ-ÖØ-Þ"
_AFTER_DATELINE = rf"(?=[{_CAPITAL}«\"“'‘\d])"
_DASH = r"[-–—]"
# Month and day names as written (accents optional), for patterns on the original text.
_MONTHS_TEXT = (
    r"(?i:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    r"|d[ée]cembre|janv|f[ée]vr|f[ée]v|avr|juil|sept|oct|nov|d[ée]c)\.?"
)
_DAYS_TEXT = r"(?i:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
# A place (or a site or agency name), an optional date, an agency in brackets, then a dash:
# "BAMAKO (AFP) -", "GAO (AMAP) –", "Bamako, 12 avr (AMAP) -", "SIKASSO, 12 avril 2024 (AMAP) –",
# "Kati (AMAP) –", "Bamako, le 12 mai 2024 –". A capitalised word and a comma are not enough:
# "Le jeudi 4 avril 2024, Son Excellence…" and "Ce lundi 6 mai 2024, Bamako…" keep their date.
_NOT_A_PLACE = (
    r"(?!(?i:le|la|les|l|ce|cette|ces|cet|un|une|des|depuis|dès|des|hier|aujourd|demain|en|au"
    r"|aux|dans|lors|après|avant|pour|par|selon)\b)(?!" + _DAYS_TEXT + r"\b)"
)
_PLACE = rf"{_NOT_A_PLACE}[{_CAPITAL}][\w'’.-]*(?:\s+[{_CAPITAL}][\w'’.-]*){{0,2}}"
_DATELINE_DATE = (
    rf"(?:le\s+)?(?:{_DAYS_TEXT}\s+)?\d{{1,2}}(?:er|e)?\s+{_MONTHS_TEXT}(?:\s+\d{{4}})?"
)
_AGENCY = r"\(\s*[A-ZÀ-Þ][\w/ .&-]{1,20}\)"
_DATELINES = (
    # BAMAKO (AFP) - / Kati (AMAP) – / SIKASSO, 12 avril 2024 (AMAP) –
    re.compile(
        rf"^{_PLACE}(?:\s*,\s*{_DATELINE_DATE})?\s*{_AGENCY}\s*(?:{_DASH}|:)?\s*" + _AFTER_DATELINE
    ),
    # Bamako, le 12 mai 2024 – Le ministre…
    re.compile(rf"^{_PLACE}\s*,\s*{_DATELINE_DATE}\s*{_DASH}\s*" + _AFTER_DATELINE),
    # DAKAR - Le… (a place in capitals, a spaced dash; not an acronym in apposition,
    # "L’AES - Alliance des États du Sahel - a tenu…")
    re.compile(
        rf"^(?!\w+['’])[{_CAPITAL}]{{3,}}(?:[ -][{_CAPITAL}]{{2,}}){{0,2}}\s+{_DASH}\s+"
        rf"(?![^-–—]{{1,80}}\s{_DASH}\s+[a-zà-ÿ])" + _AFTER_DATELINE
    ),
    # (AMAP) – Le ministre…
    re.compile(rf"^{_AGENCY}\s*{_DASH}\s*" + _AFTER_DATELINE),
    # Bamada.net-Cette rencontre… / maliactu.net – Le…
    re.compile(
        r"^[\w-]+\.(?i:com|net|org|ml|info|fr|africa|sn|ci|bf|ne|tv|media|news|example)"
        r"\s*(?:[-–—:|]|/)\s*" + _AFTER_DATELINE
    ),
)

# An image's file name glued to the lead: "A60P6882-660x380En écoutant…", "IMG_2041.jpgLe…".
_IMAGE_NAME_PREFIX = re.compile(
    r"^(?:[\w.-]*?-\d{2,4}x\d{2,4}(?:\.(?i:jpe?g|png|gif|webp))?|[\w.-]+?\.(?i:jpe?g|png|gif|webp))"
    r"\s*" + _AFTER_DATELINE
)

# A photo caption glued to the lead without markup: a name-and-title fragment, no verb and no
# full stop, running into a capitalised sentence: "Le Président du CNT, l’Honorable Malick DIAW
# La cérémonie solennelle…", "Moussa Mara Ancien premier ministre du Mali Ils constituent…".
_CAPTION_BOUNDARY = re.compile(
    rf"(?<=[^\W\d_])\s+(?=(?:Le|La|Les|Un|Une|Des|Il|Elle|Ils|Elles|On|Nous|Ce|Cette|Ces|Cet"
    rf"|Sous|Depuis|Dans|Au|Aux|En|Après|Avant|Lors|Pour|Selon|À|Face|Hier|Ainsi|Alors)\s"
    rf"|[LCD]['’][{_CAPITAL}a-zà-ÿ])"
)
_CAPTION_VERBS = frozenset(
    """a ai as ont est sont était étaient avait avaient sera seront fait font été dit va vont
    peut doit""".split()  # noqa: SIM905
)


def _strip_glued_caption(text: str) -> str:
    """The paragraph without a caption glued in front of its first sentence, if it has one."""
    for boundary in _CAPTION_BOUNDARY.finditer(text, 0, 160):
        caption, rest = text[: boundary.start()], text[boundary.end() :]
        words = caption.split()
        last = re.sub(r"^[ldLD]['’]", "", words[-1])
        if (
            2 <= len(words) <= 18
            and last[:1].isupper()
            and len(rest) >= MIN_REST
            and not re.search(r"[!?:;«»\"“”()\[\]]", caption)
            and sentence_ends(caption) == [len(caption)]
            and not any(word.casefold() in _CAPTION_VERBS for word in words)
            and sentence_ends(rest)[0] > 20
        ):
            return rest
    return text


MIN_REST = 60
"""What must follow a glued caption for it to be taken for one: a real sentence."""

# A footnote call glued to a word or a punctuation mark: "démocratie(1)", "ici [2]", "loi¹".
_FOOTNOTE = re.compile(
    r"(?<=[^\W\d_]|[.,;:!?»”%])(?:\(\d{1,2}\)|\s?\[\d{1,2}\])|(?<=[^\s\dm])[¹²³⁴⁵⁶⁷⁸⁹⁰]+"
)


def _strip_dateline(text: str, site_name: str) -> str:
    if site_name.strip():
        site = re.escape(site_name.strip()).replace(r"\ ", r"\s+")
        pattern = rf"^(?:\(\s*)?(?i:{site})(?:\s*\))?\s*(?:[-–—:|/]|\s{{2,}})\s*" + _AFTER_DATELINE
        text = re.sub(pattern, "", text, count=1)
    for dateline in _DATELINES:
        stripped = dateline.sub("", text, count=1)
        if stripped != text:
            return stripped
    return text


def _end_of_truncated(text: str, *, whole: bool = False) -> str:
    """A paragraph the feed cut ("…sans concertation et […]"): up to its last full sentence
    when it has one (unless `whole`), else what is left with an ellipsis (never the site's
    "read more" link)."""
    if not text or text[-1] in '.!?…»"”':
        return text
    ends = sentence_ends(text)
    if len(ends) > 1 and not whole:
        return text[: ends[-2]].rstrip()
    return text.rstrip(" ,;:-–—") + "…"


GLUED_PASSES = 8
"""How many times the glued prefixes and suffixes are taken off one line: a real feed glues two
or three ("(Photo) BAMAKO (AFP) - …"); a bounded number of passes keeps a line of a thousand
repeated datelines linear."""


def _strip_glued(text: str, site_name: str) -> str:
    """Remove what real feeds glue to the start or the end of a paragraph; repeat until stable
    (at most `GLUED_PASSES` times)."""
    previous = None
    for _ in range(GLUED_PASSES):
        if previous == text:
            break
        previous = text
        # Every step up to the truncation mark leaves a part of the text: a word absent from
        # the probe of the pass's start is absent from what they leave.
        probe = _lower_probe(text)
        text = _PHOTO_PREFIX.sub("", text).strip()
        text = _CTA_PREFIX.sub("", text).strip()
        if _may_hold(probe, _CTA_WORDS):
            text = _CTA_SUFFIX.sub("", text).strip()
        if _may_hold(probe, _FOOTER_WORDS):
            text = _FOOTER_SUFFIX.sub("", text).strip()
        if _may_hold(probe, _RIGHTS_WORDS):
            text = _RIGHTS_SUFFIX.sub("", text).strip()
        mark = _TRUNCATION_SUFFIX.search(text) if _may_hold(probe, _TRUNCATION_WORDS) else None
        if mark:
            # "[…]" or "Lire la suite" is the feed's cut; a bare "…" may be the author's.
            feed_cut = bool(re.search(r"[\[(\w]", mark.group(0)))
            text = _end_of_truncated(text[: mark.start()].strip(), whole=not feed_cut)
        text = _strip_dateline(text, site_name).strip()
        text = _IMAGE_NAME_PREFIX.sub("", text, count=1)
    text = _strip_glued_caption(text)
    text = _strip_trailing_credit(text)
    inline = _INLINE_CROSSLINK.search(text)
    if inline and inline.start() > 0:
        text = text[: inline.start()].rstrip(" -–—:;,")
    return text


@lru_cache(maxsize=128)
def _compile_extra(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as err:
            raise ValueError(f"invalid boilerplate pattern {pattern!r}: {err}") from err
    return tuple(compiled)


def _matches_extra(text: str, extra: Sequence[re.Pattern[str]]) -> bool:
    if not extra:
        return False
    bare = strip_accents(text)
    return any(p.search(text) or p.search(bare) for p in extra)


def boilerplate_family(line: str, *, site_name: str = "") -> str | None:
    """The boilerplate family a single line belongs to ("social", "byline"…), or None for prose."""
    folded = fold(line)
    if not folded:
        return "empty"
    if not re.search(r"[^\W\d_]", folded):
        return "no-letters"
    for name, (limit, pattern) in _FAMILIES.items():
        if len(folded) <= limit and pattern.search(folded):
            if name == "credit" and folded[-1] in ".!?":
                continue
            return name
    if _WIDGET_ALONE.match(folded):
        return "widget"
    if _looks_like_byline(line):
        return "byline"
    if _looks_like_name(line):
        return "author"
    if site_name and title_key(line) in {title_key(site_name), title_key(site_name.split(".")[0])}:
        return "site-name"
    return None


_VOCATIVE = (
    r"(?:Excellences?|Monsieur|Madame|Mesdames|Messieurs|Mesdemoiselles|Honorables?|Chers|Cher"
    r"|Chères|Chère|Distingués|Distinguées|Mes chers|Mes chères)\b"
)
# List bullets of a flattened list (related links, a speech's salutations, which are often
# written "- Monsieur le Ministre,"): each item becomes a line.
_BULLET = re.compile(
    rf"(?:^|[ \t\u00a0]+)(?:[➢✓✔•▪►➤◆●■□◦]|[-–](?=[ \t\u00a0]+{_VOCATIVE}))(?:[ \t\u00a0]+|$)"
)
# One item of a speech's salutations: "Monsieur le Premier ministre, Chef du Gouvernement ;",
# "- Chers Confrères,", "Mesdames et Messieurs." — a vocative and no verb.
_SALUTATIONS = (
    re.compile(rf"^[\s\-–—]*{_VOCATIVE}[^.;!?:«»]{{0,200}}?\s*;\s*"),  # up to a semicolon
    re.compile(
        rf"^[\s\-–—]*{_VOCATIVE}[^.;!?:«»]{{0,200}}?"
        rf"(?:\s*,\s*(?=[\-–—]|{_VOCATIVE}|[A-ZÀ-Þ])|\s*\.\s+|\s*[.,]?\s*$)"
    ),
)
_SPEECH_VERBS = re.compile(
    r"\b(?:a|ai|ont|est|sont|suis|sommes|voudrais|voudrait|permettez|remercie|salue|souhaite"
    r"|était|avait|fait|va|vais|allons|devons|peut|doit)\b",
    re.IGNORECASE,
)


def _strip_salutations(text: str) -> str:
    """A speech's opening salutations removed ("Monsieur le Premier ministre ; Mesdames et
    Messieurs. Il y a quelques semaines…" → "Il y a quelques semaines…"); "" when the paragraph
    is nothing else."""
    while True:
        for pattern in _SALUTATIONS:
            match = pattern.match(text)
            if match and not _SPEECH_VERBS.search(match.group(0)):
                text = text[match.end() :].lstrip(" -–—,;")
                break
        else:
            return text


def _strip_title_prefix(paragraph: str, title_words: list[str]) -> str | None:
    """When a paragraph starts with the whole title, the rest of it; else None."""
    if not title_words:
        return None
    words = list(re.finditer(r"[^\W_]+", paragraph))
    if len(words) <= len(title_words):
        return None
    for match, expected in zip(words, title_words, strict=False):
        if title_key(match.group(0)) != expected:
            return None
    end = words[len(title_words) - 1].end()
    rest = paragraph[end:].lstrip(' .:;,!?-–—|»"”)]\u00a0\u202f')
    return rest if len(rest) >= 40 and rest[0].isupper() else None


def _is_title(paragraph: str, key: str) -> bool:
    if not key:
        return False
    para_key = title_key(paragraph)
    if not para_key:
        return False
    if para_key == key:
        return True
    if (key.startswith(para_key) or key.endswith(para_key)) and len(para_key.split()) >= 4:
        return paragraph.rstrip()[-1:] not in ".!?…"  # a caption or a kicker-less title
    shorter, longer = sorted((para_key, key), key=len)
    return (
        (longer.startswith(shorter) or longer.endswith(shorter))
        and len(shorter) >= 0.7 * len(longer)
        and len(paragraph) <= len(key) + 40
    )


def _looks_like_headline(paragraph: str) -> bool:
    return len(paragraph) <= 200 and paragraph.rstrip()[-1:] not in ".!?…:"


def clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    title: str,
    site_name: str = "",
    extra_patterns: Sequence[str] = (),
) -> list[str]:
    """Drop the boilerplate paragraphs of an article and the boilerplate glued to the others.

    Works line by line (a paragraph's lines come from single ``<br>``): a line that is a social
    call to action, a cross-link, a feed footer, a truncation mark, a rights notice, a source,
    byline, author or date line, an app or radio promotion, a share/comment widget, the site name,
    or matches one of `extra_patterns` (regexes, case-insensitive, also tried without accents)
    is dropped; the remaining lines of a paragraph are joined with spaces. A dateline, a
    "(Photo d'illustration)" or a social call glued to a paragraph, and a truncation mark,
    feed footer or rights notice at its end, are cut off. The title repeated as a paragraph is
    dropped; so are the headline-like paragraphs listed under a bare "À lire aussi" heading.
    """
    return list(
        iter_clean_paragraphs(
            paragraphs, title=title, site_name=site_name, extra_patterns=extra_patterns
        )
    )


def iter_clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    title: str,
    site_name: str = "",
    extra_patterns: Sequence[str] = (),
) -> Iterator[str]:
    """`clean_paragraphs`, one paragraph at a time: a reader that needs only the lead stops
    there, and the rest of the article is never cleaned."""
    extra = _compile_extra(tuple(extra_patterns))
    key = title_key(title)
    title_words = key.split()
    last_kept: str | None = None
    in_crosslinks = 0
    for paragraph in paragraphs:
        lines: list[str] = []
        for raw_line in _BULLET.sub("\n", paragraph).split("\n"):
            line = _FOOTNOTE.sub("", normalise_text(raw_line))
            if not line or _matches_extra(line, extra):
                continue
            if _is_title(line, key):
                continue
            line = _strip_glued(line, site_name)
            if not line or _matches_extra(line, extra):
                continue
            family = boilerplate_family(line, site_name=site_name)
            if family is not None:
                bare_heading = family == "crosslink" and len(fold(line)) <= 30
                in_crosslinks = 6 if bare_heading else 0
                continue
            if in_crosslinks and _looks_like_headline(line):
                in_crosslinks -= 1
                continue
            in_crosslinks = 0
            lines.append(line)
        if not lines:
            continue
        text = " ".join(lines)
        if _matches_extra(text, extra) or _is_title(text, key):
            continue
        rest = _strip_title_prefix(text, title_words)
        if rest is not None:
            text = rest
        text = _strip_salutations(text)
        if not text:
            continue
        if text == last_kept:
            continue
        last_kept = text
        yield text


_SOURCE_LINE = re.compile(r"^\W{0,4}sources?\s*:\s*(?P<source>.{2,60}?)[\s.]*$", re.IGNORECASE)


def _may_name_source(paragraph: str) -> bool:
    """False when no line of `paragraph` (text from `html_to_paragraphs`, already normalised)
    can match `_SOURCE_LINE`: it has no "source" in any case (casefold also turns the long s
    "ſ", which IGNORECASE matches, into "s") or no ":", and no "&" that `normalise_text` could
    decode into one of them. Normalising such a text again only changes its spaces."""
    return "&" in paragraph or (":" in paragraph and "source" in paragraph.casefold())


def credited_source(paragraphs: Sequence[str], *, site_name: str = "") -> str:
    """The outlet a reprint credits in a "Source : L'Aube" line (the last one), else "".

    A source that is the site itself ("Source : Sahel-Actu avec l'AMAP" on Sahel-Actu) is not
    a reprint.
    """
    for paragraph in reversed(paragraphs):
        if not _may_name_source(paragraph):
            continue
        for line in reversed(paragraph.split("\n")):
            match = _SOURCE_LINE.match(normalise_text(line))
            if not match:
                continue
            source = match.group("source").strip(" -–—:")
            site = title_key(site_name)
            if site and (title_key(source).startswith(site) or site.startswith(title_key(source))):
                return ""
            return source
    return ""
