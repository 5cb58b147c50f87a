"""The bundled demo feed: a realistic WordPress feed whose every item yields a clean teaser."""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

import feedparser
import pytest

from bot.content.render import render
from bot.content.teaser import OVERRUN, article_teaser
from bot.content.telegram_html import telegram_length
from bot.models import Article, ChannelType, TelegramPost
from bot.settings import ChannelSettings, SiteSettings

SITE = SiteSettings(name="Sahel-Actu", url="https://sahel-actu.example", language="fr")

# Pieces of boilerplate the demo feed contains on purpose; none may reach a teaser.
BOILERPLATE = [
    "Suivez-nous",
    "ne rien rater",
    "Lire aussi",
    "Lire Aussi",
    "NB :",
    "reproduction",
    "Source :",
    "Téléchargez",
    "Ecoutez",
    "Rejoignez",
    "apparu en premier",
    "[…]",
    "[&#8230;]",
    "&#8217;",
    "Lire la suite",
    "Sahel-Actu",
    "BAMAKO (AMAP)",
    "Bamako, le 27 novembre",
    "Photo d",
    "©",
    "droits réservés",
    "Par ",
    "Publireportage",
    "Moussa K. Diarra",
    "Fatoumata Cissé",
    "Ibrahim Maïga",
    "légende",
    "berges, en février dernier",
    "01/12/2026",
]

# How each item's teaser starts (400-character budget), by WordPress post id.
EXPECTED_START = {
    "10482": "Le ministre de l’Administration territoriale, M. Issa Coulibaly, a défendu",
    "10477": "Le projet de loi de finances 2027 prévoit 3 120,5 milliards",
    "10471": "Le Gén. Oumar Sanogo, chef d’état-major général des armées,",
    "10466": "Les Aigles ont battu la Guinée 2-0 dimanche",
    "10460": "La 23e édition du festival s’ouvrira le 4 févr. sur les berges du Niger. Mme Aminata",
    "10455": "Le prix d’achat du coton graine de premier choix est fixé à 310 F CFA",
    "10449": "À compter du 1er décembre, le trajet en Sotrama coûtera 225 F CFA",
    "10441": "La Banque Sahélienne de l’Épargne lance une application",
    "10436": "La ministre de la Santé, le Dr Kadiatou Ba, a lancé lundi à Kati",
    "10430": "Les résultats du concours de recrutement de la fonction publique",
}


def demo_articles() -> list[Article]:
    data = resources.files("bot").joinpath("data/demo_feed.xml").read_bytes()
    parsed: Any = feedparser.parse(
        io.BytesIO(data), response_headers={"content-type": "application/rss+xml"}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    articles = []
    for entry in parsed.entries:
        media = entry.get("media_content") or [{}]
        articles.append(
            Article(
                feed_id="demo",
                key=entry.id,
                guid=entry.id,
                url=entry.link,
                canonical_url=entry.link.rstrip("/"),
                title=entry.title,
                published=None,
                author=entry.get("author"),
                categories=tuple(tag.term for tag in entry.get("tags", [])),
                image=media[0].get("url"),
                content_html=entry.content[0].value if "content" in entry else "",
                summary_html=entry.get("summary", ""),
            )
        )
    return articles


ARTICLES = demo_articles()


def post_id(item: Article) -> str:
    """The WordPress post id from a guid such as https://sahel-actu.example/?p=10482."""
    return (item.guid or "").rsplit("=", 1)[-1]


def test_the_demo_feed_is_shaped_like_wordpress() -> None:
    data = resources.files("bot").joinpath("data/demo_feed.xml").read_text(encoding="utf-8")
    assert "<generator>https://wordpress.org/?v=6.6.2</generator>" in data
    assert len(ARTICLES) == len(EXPECTED_START)
    assert {post_id(a) for a in ARTICLES} == set(EXPECTED_START)
    assert any(not a.content_html for a in ARTICLES), "an excerpt-only item"
    assert any(a.image is None and "<img" in a.content_html for a in ARTICLES)
    assert any("Publicité" in a.categories for a in ARTICLES)
    assert any("<script>" in a.title for a in ARTICLES), "a hostile title"


@pytest.mark.parametrize("item", ARTICLES, ids=[post_id(a) for a in ARTICLES])
@pytest.mark.parametrize("budget", [400, 300, 120])
def test_every_demo_item_has_a_clean_teaser(item: Article, budget: int) -> None:
    teaser = article_teaser(item, budget, site_name=SITE.name)
    assert teaser
    assert len(teaser) <= OVERRUN * budget
    assert teaser[-1] in '.!?…»"”)', f"neither a whole sentence nor a marked cut: {teaser!r}"
    for marker in BOILERPLATE:
        assert marker not in teaser, f"{marker!r} left in {teaser!r}"
    assert item.title not in teaser
    expected = EXPECTED_START[post_id(item)]
    if budget >= 300:
        assert teaser.startswith(expected)
    else:
        assert expected.startswith(teaser.rstrip("…")) or teaser.startswith(expected)


@pytest.mark.parametrize("item", ARTICLES, ids=[post_id(a) for a in ARTICLES])
def test_every_demo_item_renders_for_telegram(item: Article) -> None:
    channel = ChannelSettings(id="tg", type=ChannelType.TELEGRAM, chat="@sahel_actu")
    result = render(item, channel, SITE)
    assert isinstance(result.post, TelegramPost)
    limit = 1024 if result.post.method == "sendPhoto" else 4096
    assert telegram_length(result.post.text) <= limit
    assert "<script>" not in result.post.text
    assert result.post.buttons[0][0][1] == item.url
