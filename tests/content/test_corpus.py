"""The cleaner and the teaser on real material: Malijet article bodies and French pages."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from bot.content.clean import clean_paragraphs, html_to_paragraphs
from bot.content.render import render
from bot.content.teaser import OVERRUN, make_teaser
from bot.models import Article, ChannelType
from bot.settings import ChannelSettings, SiteSettings
from tests.conftest import corpus_dir

pytestmark = pytest.mark.corpus

CORPUS = corpus_dir()
ARTICLES = CORPUS / "articles" if CORPUS else Path("/nonexistent")
needs_corpus = pytest.mark.skipif(not ARTICLES.is_dir(), reason="no shared corpus")

# Boilerplate seen in those Malijet bodies (flattened text, no markup).
MALIJET_BOILERPLATE = [
    re.compile(r"[ÀA] lire aussi", re.IGNORECASE),
    re.compile(r"Suivez-nous", re.IGNORECASE),
    re.compile(r"/\s*Malijet\.com\s*$"),
    re.compile(r"\bSource\s*:"),
    re.compile(r"^\(Photo d['’]illustration\)"),
    re.compile(r"\bNB\s*:"),
    re.compile(r"[➢✓]"),
]

# The first words an editor would publish for each of the 97 Malijet bodies (row order of the
# TSV, header copies left out), written by reading each body: captions glued in front of the
# lead (2, 37, 64, 79, 88, 90, 94, 18) and speeches' salutations (6, 7, 13) are not the lead; a
# sentence's own date stays (1, 3, 12, 91, 95); three bodies are only related-article lists
# (42, 61, 75) and give no teaser, so the post is the title alone.
EXPECTED_START = {
    0: "Le Président de la Transition, Son",
    1: "Le vendredi 3 mai 2024, à",
    2: "Sous la haute présidence du président",
    3: "Ce lundi 6 mai 2024, le",
    4: "A Bamako, les portes du Dialogue",
    5: "A l’occasion de la Journée Mondiale",
    6: "Il y a quelques semaines, nous",
    7: "Louange à Allah, Seigneur de la",
    8: "La phase nationale du Dialogue Inter-Maliens",
    9: "Sur la scène internationale, en ce",
    10: "Tous les bénéficiaires des logements sociaux",
    11: "Ce vendredi 3 mai, la presse",
    12: "Le mercredi 1er mai 2024, la",
    13: "Avant tout propos, je voudrais exprimer",
    14: "La presse malienne à l’instar des",
    15: "Dans le cadre de la célébration",
    16: "Pour une bonne couverture médiatique du",
    17: "Le Carosse d’or décerné au réalisateur",
    18: "L’Union nationale des travailleurs du Mali",
    19: "Secrétaire général du Syndicat national de",
    20: "Au cours d’une opération spéciale terrestre",
    21: "Dans un décret de deux pages,",
    22: "Il est 9 heures lorsque Mohamed",
    23: "Dans une interview accordée au journal",
    24: "Le Président de la Transition, Son",
    25: "L’arrêt rendu le 18 avril 2024",
    26: "Les multiples opportunités et menaces du",
    27: "Au Mali, la peur a changé",
    28: "Les forces armées des États membres",
    29: "C'est ce que révèle à Sputnik",
    30: "Le 26 avril 2024, le Président",
    31: "L'affaire judiciaire impliquant M. Gah, le",
    32: "Dans son discours marquant la Journée",
    33: "La Cour constitutionnelle du Mali a",
    34: "Face à la hausse des températures",
    35: "Félicitation à la Cour Constitutionnelle pour",
    36: "Depuis le 15 avril 2024, les",
    37: "La cérémonie de lancement et de",
    38: "En prélude à son 14e congrès",
    39: "Le Mali est confronté, depuis quelques",
    40: "Les autorités maliennes ont annoncé la",
    41: "La cérémonie d’ouverture de la 16e",
    42: "",
    43: "Confrontés à des demandes de retrait",
    44: "L’une des recommandations fortes des participants",
    45: "C’est avec beaucoup de tristesse que",
    46: "C’est à travers la remise des",
    47: "Les Etats unis d’Amerique viennent d’accorder",
    48: "Le nouveau Commandant de la 7ème",
    49: "Le Président de la Transition, Son",
    50: "Dans un geste de clémence face",
    51: "L’Audience Ordinaire Correctionnelle du Tribunal militaire",
    52: "Le concours direct de recrutement d’enseignants",
    53: "La ‘’suppression’’ de l’Accord d’Alger a",
    54: '"Dans le cadre de la lutte',
    55: '"Dans le cadre de la lutte',
    56: "Les nouveaux Inspecteurs de l’Inspection Générale",
    57: "Les Forces Armées maliennes ont mené",
    58: "Le Conseil des Ministre du mercredi",
    59: "Le gouvernement a annoncé la dissolution",
    60: "Après 3 jours de discussions houleuses",
    61: "",
    62: "Tecno Mobile, l’une des principales marques",
    63: "Les relations de l’Algérie avec ses",
    64: "L'ancien président par intérim du Mali,",
    65: "À quelques choses malheur est bon.",
    66: "Dans le cadre de leur collaboration",
    67: "Dans le cadre de la lutte",
    68: "Le grand hôtel de Bamako a",
    69: "L’hôtel Columbus abrite depuis ce lundi",
    70: "Le comité de pilotage du Dialogue",
    71: "Ce samedi 13 avril 2024, la",
    72: "Son Excellence Monsieur Abdoulaye DIOP, Ministre",
    73: "Le Haut-Commissariat de l'ONU aux droits",
    74: "Une première dans l’histoire de la",
    75: "",
    76: "Le ministre du Travail, de la",
    77: "Dans une vidéo de moins de",
    78: "Bien que le gouvernement malien ait",
    79: "La cérémonie solennelle d’ouverture de la",
    80: "Le Président de la Transition, Son",
    81: "Le gouvernement malien a annoncé cette",
    82: "La lune a été aperçue à",
    83: "Le Chef d’Etat-major Général Adjoint des",
    84: "Après le 26 mars 2024, certains",
    85: "C'est la mission que le Comité",
    86: "Le départ des Américains de la",
    87: "Les forces de défense et de",
    88: "Depuis trois ans, les autorités de",
    89: "La dernière édition de Mali-Mètre, l’enquête",
    90: "Ils constituent le principal sujet de",
    91: "Le jeudi 4 avril 2024, Son",
    92: "Ces véhicules doivent etre rendus d'ici",
    93: "Le débat autour du décret N°2022",
    94: "Dans une déclaration commune rendue publique,",
    95: "Le vendredi 16 mars 2024, le",
    96: "Dans le chapitre des Communications, le",
}

_JOINED = re.compile(r"(?i)\b(?:du|de|des|la|le|les|et|à|au|aux|en|d’|l’|d'|l')$")


def malijet_paragraphs(body: str) -> list[str]:
    """The TSV keeps no markup; paragraphs were joined with runs of spaces before a capital.
    A run after "du", "de", "la"… is only a double space inside a sentence."""
    out: list[str] = []
    for piece in re.split(r"\s{2,}(?=[A-ZÀ-Ý«\"“])", body):
        if out and _JOINED.search(out[-1].strip()):
            out[-1] += " " + piece
        elif piece.strip():
            out.append(piece)
    return out


def malijet_rows() -> list[dict[str, str]]:
    csv.field_size_limit(10**8)
    path = ARTICLES / "malijet_100_articles_kounafoni.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle, delimiter="\t") if r["title"] != "title"]


def as_wordpress_item(index: int, row: dict[str, str]) -> Article:
    """The body as a WordPress feed's content:encoded would carry it: one <p> per paragraph."""
    body = "".join(f"<p>{html.escape(p.strip())}</p>\n" for p in malijet_paragraphs(row["content"]))
    url = f"https://malijet.example/a_la_une_du_mali/{index}.html"
    return Article(
        feed_id="malijet",
        key=f"malijet-{index}",
        guid=url,
        url=url,
        canonical_url=url,
        title=row["title"],
        published=None,
        content_html=body,
    )


def comparable(text: str) -> str:
    """No-break spaces as spaces and "…" as "...", as the expected strings are written."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).replace(
        "…", "..."
    )


SITE = SiteSettings(name="Malijet", url="https://malijet.example")
CHANNELS = {
    "telegram": ChannelSettings(id="tg", type=ChannelType.TELEGRAM, chat="@malijet_demo"),
    "facebook": ChannelSettings(id="fb", type=ChannelType.FACEBOOK, page_id="1", token="t"),
}


@needs_corpus
@pytest.mark.parametrize("platform", sorted(CHANNELS))
def test_malijet_teasers_start_where_an_editor_would(platform: str) -> None:
    rows = malijet_rows()
    assert len(rows) == len(EXPECTED_START) == 97
    channel = CHANNELS[platform]
    good, misses = 0, []
    for index, row in enumerate(rows):
        teaser = render(as_wordpress_item(index, row), channel, SITE).teaser
        expected = EXPECTED_START[index]
        problems = [p.pattern for p in MALIJET_BOILERPLATE if p.search(teaser)]
        if not comparable(teaser).startswith(comparable(expected)) or (expected == "") != (
            teaser == ""
        ):
            problems.append(f"starts {teaser[:60]!r}, expected {expected!r}")
        if teaser and teaser[-1] not in '.!?…»"”)':
            problems.append(f"ends {teaser[-30:]!r}: neither a whole sentence nor a marked cut")
        if len(teaser) > OVERRUN * channel.teaser_budget:
            problems.append(f"{len(teaser)} characters")
        if problems:
            misses.append(f"{index}: {'; '.join(problems)}")
        else:
            good += 1
    print(f"\nmalijet {platform}: {good}/{len(rows)} teasers as an editor would start them")
    assert not misses, "\n".join(misses)


@needs_corpus
def test_malijet_bodies_give_teasers_without_boilerplate() -> None:
    rows = malijet_rows()
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
    assert non_empty == len(rows) - 3  # three bodies are only related-article lists


@needs_corpus
def test_french_pages_lose_their_known_boilerplate() -> None:
    expectations = json.loads(
        (ARTICLES / "trafilatura_evaldata_french_subset.json").read_text("utf-8")
    )
    kept_with = total_with = lost_without = total_without = 0
    non_empty = 0
    for meta in expectations.values():
        page = (
            (ARTICLES / f"trafilatura_eval_{meta['file']}").read_bytes().decode("utf-8", "replace")
        )
        cleaned = clean_paragraphs(html_to_paragraphs(page), title=meta["title"])
        teaser = make_teaser(cleaned, 400)
        flat = [comparable(p) for p in cleaned]
        for unwanted in meta["without"]:
            assert comparable(unwanted) not in comparable(teaser), (meta["file"], unwanted)
            total_without += 1
            lost_without += not any(comparable(unwanted) in p for p in flat)
        kept_with += sum(any(comparable(w) in p for p in flat) for w in meta["with"])
        total_with += len(meta["with"])
        non_empty += bool(teaser)
    print(
        f"\ntrafilatura pages: {non_empty}/{len(expectations)} teasers non-empty, "
        f"{kept_with}/{total_with} `with` snippets kept, "
        f"{lost_without}/{total_without} `without` snippets gone from the cleaned page, "
        "none in a teaser"
    )
    assert non_empty == len(expectations)
    assert kept_with == total_with
    # What stays is page chrome a feed never carries (related titles, an author's bio, a
    # contest): the cleaner works on feed content, not on whole pages.
    assert lost_without >= 19
