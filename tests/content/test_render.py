"""Rendering posts: layouts per platform and language, UTM, templates, hostile input, limits."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.content.render import preview_record, render, render_post, with_utm
from bot.content.telegram_html import telegram_length
from bot.content.templates import check_template
from bot.models import Article, ChannelType, ConsolePost, FacebookPost, TelegramPost
from bot.settings import ChannelSettings, SiteSettings, Utm

# ---------------------------------------------------------------------------------------------
# An independent checker of Telegram HTML (written for the tests, not shared with the code)
# ---------------------------------------------------------------------------------------------

TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote", "tg-time",
}  # fmt: skip


def assert_telegram_html(text: str) -> None:
    """Fail unless `text` uses only Telegram's tags, balanced, and only its entities."""
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>", text):
        closing, tag = match.group(1), match.group(2).lower()
        assert tag in TELEGRAM_TAGS, f"tag <{tag}> not allowed in {text!r}"
        if closing:
            assert stack, f"unbalanced </{tag}> in {text!r}"
            assert stack.pop() == tag, f"unbalanced </{tag}> in {text!r}"
        else:
            stack.append(tag)
    assert not stack, f"unclosed {stack} in {text!r}"
    without_tags = re.sub(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>", "", text)
    assert "<" not in without_tags, f"bare < in {text!r}"
    assert ">" not in without_tags, f"bare > in {text!r}"
    for match in re.finditer(r"&", without_tags):
        entity = re.match(
            r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);", without_tags[match.start() :]
        )
        assert entity, f"bad entity at {without_tags[match.start() : match.start() + 10]!r}"


def visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text))


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

FR = SiteSettings(name="Sahel-Actu", url="https://sahel-actu.example", language="fr")
EN = SiteSettings(name="Sahel News", url="https://sahel-news.example", language="en")
UTM = {"source": "telegram", "medium": "social", "campaign": "relais"}
URL = "https://sahel-actu.example/2026/11/30/budget/?p=10477#commentaires"
LINK = (
    "https://sahel-actu.example/2026/11/30/budget/"
    "?p=10477&utm_source=telegram&utm_medium=social&utm_campaign=relais#commentaires"
)
LEAD = "Le projet de loi de finances prévoit une hausse de 3,5 % des recettes."
TITLE = "Budget 2027 : les recettes progressent"
CTA_FR = "📲 Suivez Sahel-Actu pour ne rien rater de l'actualité"


def make_article(**changes: Any) -> Article:
    values: dict[str, Any] = {
        "feed_id": "demo",
        "key": "demo:10477",
        "guid": "https://sahel-actu.example/?p=10477",
        "url": URL,
        "canonical_url": "https://sahel-actu.example/2026/11/30/budget",
        "title": TITLE,
        "published": datetime(2026, 11, 30, 18, 20, tzinfo=UTC),
        "author": "Boubacar Sidibé",
        "categories": ("Économie", "Finances publiques", "Non classé"),
        "image": None,
        "content_html": (
            "<p>Suivez-nous sur Facebook pour ne rien rater de l'actualité malienne</p>"
            f"<p>{LEAD}</p>"
        ),
        "summary_html": "",
    }
    values.update(changes)
    return Article(**values)


def telegram(**changes: Any) -> ChannelSettings:
    return ChannelSettings.model_validate(
        {"id": "tg", "type": "telegram", "chat": "@sahel_actu", **changes}
    )


def facebook(**changes: Any) -> ChannelSettings:
    return ChannelSettings.model_validate(
        {"id": "fb", "type": "facebook", "page_id": "1234567890", "token": "secret", **changes}
    )


def console(**changes: Any) -> ChannelSettings:
    return ChannelSettings.model_validate({"id": "out", "type": "console", **changes})


# ---------------------------------------------------------------------------------------------
# Built-in layouts
# ---------------------------------------------------------------------------------------------


def test_telegram_french_message() -> None:
    post = render_post(make_article(), telegram(utm=UTM, silent=True), FR)
    assert post == TelegramPost(
        method="sendMessage",
        text=f"<b>{TITLE}</b>\n\n{LEAD}\n\n{CTA_FR}\n#Économie #FinancesPubliques",
        photo=None,
        buttons=((("Lire l'article", LINK),),),
        link=LINK,
        silent=True,
    )


def test_telegram_photo_when_the_article_has_an_image() -> None:
    image = "https://sahel-actu.example/wp-content/uploads/2026/11/facade.jpg"
    post = render_post(make_article(image=image), telegram(), FR)
    assert isinstance(post, TelegramPost)
    assert (post.method, post.photo) == ("sendPhoto", image)
    never = render_post(make_article(image=image), telegram(photo="never"), FR)
    assert isinstance(never, TelegramPost)
    assert (never.method, never.photo) == ("sendMessage", None)


def test_telegram_english() -> None:
    post = render_post(make_article(categories=()), telegram(), EN)
    assert isinstance(post, TelegramPost)
    assert (
        post.text == f"<b>{TITLE}</b>\n\n{LEAD}\n\n📲 Follow Sahel News so you never miss a story"
    )
    assert post.buttons == ((("Read the article", URL),),)


def test_telegram_custom_cta_no_cta_and_buttons() -> None:
    channel = telegram(
        cta="",
        hashtags=False,
        extra_hashtags=["SahelActu"],
        buttons=[["📰 {{ site.name }}", "{{ link }}"], ["Chaîne", "https://t.me/sahel_actu"]],
    )
    post = render_post(make_article(), channel, FR)
    assert isinstance(post, TelegramPost)
    assert post.text == f"<b>{TITLE}</b>\n\n{LEAD}\n\n#SahelActu"
    assert post.buttons == ((("📰 Sahel-Actu", URL),), (("Chaîne", "https://t.me/sahel_actu"),))
    empty = render_post(make_article(), telegram(buttons=[]), FR)
    assert isinstance(empty, TelegramPost)
    assert empty.buttons == ()


def test_facebook_link_post() -> None:
    post = render_post(
        make_article(image="https://sahel-actu.example/i.jpg"), facebook(utm=UTM), FR
    )
    # the link card shows the title: the message does not repeat it (issue 10)
    assert post == FacebookPost(
        endpoint="feed",
        message=f"{LEAD}\n\n{CTA_FR}\n#Économie #FinancesPubliques",
        link=LINK,
        url=None,
    )


def test_facebook_link_post_with_the_title_when_asked() -> None:
    post = render_post(make_article(), facebook(utm=UTM, show_title=True), FR)
    assert isinstance(post, FacebookPost)
    assert post.message.startswith(f"{TITLE}\n\n{LEAD}\n\n")


def test_facebook_post_without_teaser_keeps_its_title() -> None:
    post = render_post(make_article(content_html="<p>Par Sahel-Actu</p>"), facebook(), FR)
    assert isinstance(post, FacebookPost)
    assert post.message.startswith(f"{TITLE}\n\n")


def test_facebook_photo_post_puts_the_link_in_the_text() -> None:
    image = "https://sahel-actu.example/i.jpg"
    post = render_post(make_article(image=image), facebook(photo="auto", cta="Abonnez-vous !"), FR)
    assert post == FacebookPost(
        endpoint="photos",
        message=(
            f"{TITLE}\n\n{LEAD}\n\n👉 Lire l'article\u00a0: {URL}\n\n"
            "Abonnez-vous !\n#Économie #FinancesPubliques"
        ),
        link=URL,
        url=image,
    )


def test_facebook_english_photo() -> None:
    post = render_post(
        make_article(image="https://x.example/i.jpg", categories=()), facebook(photo="auto"), EN
    )
    assert isinstance(post, FacebookPost)
    assert f"👉 Read the article: {URL}" in post.message
    assert post.message.endswith("📲 Follow Sahel News so you never miss a story")


def test_console_post() -> None:
    post = render_post(make_article(), console(), FR)
    assert post == ConsolePost(
        text=f"{TITLE}\n\n{LEAD}\n\n{URL}\n{CTA_FR}\n#Économie #FinancesPubliques"
    )


def test_title_alone_when_no_usable_text() -> None:
    item = make_article(content_html="<p>Par Sahel-Actu</p><p>Source : AMAP</p>")
    result = render(item, telegram(cta=""), FR)
    assert result.teaser == ""
    assert isinstance(result.post, TelegramPost)
    assert result.post.text == (
        f"<b>{TITLE}</b>\n\n<i>Source\u00a0: AMAP</i>\n\n#Économie #FinancesPubliques"
    )


def test_an_empty_post_is_refused() -> None:
    item = make_article(title="", content_html="")
    with pytest.raises(ValueError, match="empty"):
        render_post(item, telegram(cta="", hashtags=False), FR)
    with pytest.raises(ValueError, match="empty"):
        render_post(make_article(), facebook(template="{% if false %}x{% endif %}"), FR)


def test_shorter_halves_the_budget() -> None:
    lead = " ".join(
        f"Phrase numéro {n} du chapeau, assez longue pour compter un peu." for n in range(8)
    )
    item = make_article(content_html=f"<p>{lead}</p>")
    normal = render(item, telegram(), FR)
    short = render(item, telegram(), FR, shorter=True)
    assert 200 < len(normal.teaser) <= 400
    assert 0 < len(short.teaser) <= 200
    assert normal.teaser.startswith(short.teaser)


# ---------------------------------------------------------------------------------------------
# UTM
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "utm", "expected"),
    [
        ("https://a.example/x", None, "https://a.example/x"),
        ("https://a.example/x", Utm(), "https://a.example/x"),
        (
            "https://a.example/x",
            Utm(source="telegram", medium="social", campaign="relais"),
            "https://a.example/x?utm_source=telegram&utm_medium=social&utm_campaign=relais",
        ),
        (
            "https://a.example/x?utm_source=feedburner&utm_medium=feed&id=3&utm_term=z#haut",
            Utm(source="facebook"),
            "https://a.example/x?id=3&utm_source=facebook#haut",
        ),
        (
            "https://a.example/x?q=caf%C3%A9+noir&p=1",
            Utm(campaign="été 2026"),
            "https://a.example/x?q=caf%C3%A9+noir&p=1&utm_campaign=%C3%A9t%C3%A9%202026",
        ),
        (
            "https://a.example/x?UTM_Source=old",
            Utm(source="new"),
            "https://a.example/x?utm_source=new",
        ),
    ],
)
def test_with_utm(url: str, utm: Utm | None, expected: str) -> None:
    assert with_utm(url, utm) == expected


# ---------------------------------------------------------------------------------------------
# Hostile input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        # markup a feed left in a title is not text a reader can read: it goes, its words stay
        ("Alerte <script>alert(1)</script> crue", "Alerte crue"),
        ("Le </b> du budget", "Le du budget"),
        ("Tom & Jerry &", "Tom & Jerry"),
        ("Budget 2027 : & les chiffres", "Budget 2027 : les chiffres"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("<b>unclosed", "unclosed"),
        (
            'Budget 2027 : <script>alert("x")</script> & les </b> chiffres',
            "Budget 2027 : les chiffres",
        ),
        # a connector left dangling before the source's ellipsis goes too (issue 10)
        ("Budget 2027 : <b>les chiffres</b> & …", "Budget 2027 : les chiffres…"),
        ("Mali : les résultats du bac et...", "Mali : les résultats du bac…"),
        ("Inflation <2 % à Bamako", "Inflation <2 % à Bamako"),
        # entities left over from a double-encoding feed are decoded once, like in teasers
        ("&lt;déjà échappé&gt; &amp; &nbsp; &#8217;", "<déjà échappé> &\u00a0’"),
        ('<a href="javascript:alert(1)">clic</a> \' "', "clic ' \""),
    ],
)
@pytest.mark.parametrize("image", [None, "https://sahel-actu.example/i.jpg"])
def test_hostile_titles_become_valid_telegram_html(
    title: str, shown: str, image: str | None
) -> None:
    result = render(make_article(title=title, image=image), telegram(), FR)
    assert isinstance(result.post, TelegramPost)
    assert_telegram_html(result.post.text)
    assert visible(result.post.text).startswith(shown + "\n\n")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://sahel-actu.example/a",
        "//sahel-actu.example/a",
        "",
    ],
)
@pytest.mark.parametrize("factory", [telegram, facebook, console])
def test_non_http_links_are_refused(url: str, factory: Any) -> None:
    with pytest.raises(ValueError, match="not http"):
        render_post(make_article(url=url), factory(), FR)


def test_a_javascript_button_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        render_post(make_article(), telegram(buttons=[["Clic", "javascript:alert(1)"]]), FR)


def test_a_non_http_image_is_ignored() -> None:
    post = render_post(make_article(image="javascript:alert(1)"), telegram(), FR)
    assert isinstance(post, TelegramPost)
    assert (post.method, post.photo) == ("sendMessage", None)


# ---------------------------------------------------------------------------------------------
# Custom templates
# ---------------------------------------------------------------------------------------------

TEMPLATE = (
    '<b>{{ title }}</b>\n<i>{{ author }}</i>, {{ published.strftime("%d/%m/%Y") }}\n\n'
    '{{ teaser }}\n\n<a href="{{ link }}">{{ site.name }}</a> {{ hashtags_text }}'
)


def test_custom_telegram_template_escapes_the_variables_but_keeps_its_tags() -> None:
    item = make_article(title="Tom & Jerry <b>", author="Awa « O'Neil »")
    post = render_post(item, telegram(template=TEMPLATE, utm=UTM), FR)
    assert isinstance(post, TelegramPost)
    assert post.text == (
        "<b>Tom &amp; Jerry</b>\n<i>Awa « O'Neil »</i>, 30/11/2026\n\n"
        f'{LEAD}\n\n<a href="{html.escape(LINK)}">Sahel-Actu</a> #Économie #FinancesPubliques'
    )
    assert_telegram_html(post.text)


def test_custom_facebook_template_is_plain_text() -> None:
    post = render_post(
        make_article(title="Tom & Jerry"), facebook(template="{{ title }} — {{ link }}"), FR
    )
    assert isinstance(post, FacebookPost)
    assert post.message == f"Tom & Jerry — {URL}"


def test_custom_console_template_can_loop() -> None:
    source = "{% for c in categories %}[{{ c }}]{% endfor %} {{ title|upper }}"
    post = render_post(make_article(), console(template=source), FR)
    assert post == ConsolePost(text=f"[Économie][Finances publiques][Non classé] {TITLE.upper()}")


def test_check_template_accepts_a_good_template() -> None:
    check_template(TEMPLATE, channel_type=ChannelType.TELEGRAM)
    check_template("{{ title }}\n{{ teaser }}")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ title }", "syntax error"),
        ("{% if title %}sans fin", "syntax error"),
        ("{{ titre }}", "undefined"),
        ("{{ ''.__class__ }}", "unsafe"),
        ("{{ title.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ cta.format.__globals__ }}", "unsafe"),
        ("{{ 1 / 0 }}", "cannot be rendered"),
    ],
)
def test_bad_templates_are_refused(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_template(source)
    with pytest.raises(ValueError, match=message):
        render_post(make_article(), telegram(template=source), FR)


@pytest.mark.parametrize(
    "source",
    [
        "<p>{{ title }}</p>",
        "<b>{{ title }}",
        "{{ title }}<br>{{ teaser }}",
        '<a href="javascript:alert(1)">{{ title }}</a>',
        "<span>{{ title }}</span>",
        "{{ title|safe }} &nbsp;",
        '<b onclick="x()">{{ title }}</b>',
    ],
)
def test_templates_producing_html_telegram_refuses(source: str) -> None:
    with pytest.raises(ValueError, match="Telegram HTML"):
        check_template(source, channel_type=ChannelType.TELEGRAM)
    with pytest.raises(ValueError, match="Telegram"):
        render_post(make_article(), telegram(template=source), FR)


def test_safe_filter_cannot_smuggle_a_hostile_title() -> None:
    with pytest.raises(ValueError, match="Telegram"):
        render_post(
            make_article(title="Les prix < 500 F & plus"),
            telegram(template="{{ title|safe }}"),
            FR,
        )


# ---------------------------------------------------------------------------------------------
# Lengths as Telegram counts them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", 3),
        ("<b>abc</b>", 3),
        ("a &amp; b &lt;c&gt; &quot;d&quot;", 13),
        ("é", 1),
        ("📲", 2),
        ("<i>👍🏾</i>", 4),
        ("&#128242;", 2),
        ('<a href="https://x.example">lien</a>', 4),
    ],
)
def test_telegram_length(text: str, expected: int) -> None:
    assert telegram_length(text) == expected


def long_lead(sentences: int, emoji: bool = False) -> str:
    mark = "🔥 " if emoji else ""
    return " ".join(
        f"{mark}La phrase numéro {n} raconte la séance du conseil régional de Ségou en détail."
        for n in range(sentences)
    )


def test_a_caption_too_long_shortens_the_teaser_only() -> None:
    lead = long_lead(30)
    item = make_article(content_html=f"<p>{lead}</p>", image="https://sahel-actu.example/i.jpg")
    channel = telegram(teaser_length=4000, utm=UTM)
    result = render(item, channel, FR)
    post = result.post
    assert isinstance(post, TelegramPost)
    assert post.method == "sendPhoto"
    assert telegram_length(post.text) <= 1024
    assert len(lead) > 1024
    assert post.text.startswith(f"<b>{TITLE}</b>\n\n")
    assert post.text.endswith(f"\n\n{CTA_FR}\n#Économie #FinancesPubliques")
    assert post.buttons == ((("Lire l'article", LINK),),)
    assert result.teaser
    assert lead.startswith(result.teaser)
    assert result.teaser.endswith("détail.")
    assert f"\n\n{result.teaser}\n\n" in post.text
    # the same article as a message keeps its whole (4000-character budget) teaser
    message = render(make_article(content_html=f"<p>{lead}</p>"), channel, FR)
    assert message.teaser == lead


def test_caption_limit_counts_utf16_code_units() -> None:
    lead = " ".join(f"{'🔥' * 10} Séance numéro {n:02d} du conseil." for n in range(20))
    title = "🔥" * 50
    channel = telegram(teaser_length=4000)
    as_message = render(make_article(content_html=f"<p>{lead}</p>", title=title), channel, FR)
    assert isinstance(as_message.post, TelegramPost)
    assert as_message.teaser == lead
    # counted in code points the whole post would pass as a caption; in UTF-16 it does not
    assert len(visible(as_message.post.text)) <= 1024 < telegram_length(as_message.post.text)
    item = make_article(content_html=f"<p>{lead}</p>", title=title, image="https://x.example/i.jpg")
    result = render(item, channel, FR)
    assert isinstance(result.post, TelegramPost)
    assert result.post.method == "sendPhoto"
    assert telegram_length(result.post.text) <= 1024
    assert result.post.text.startswith(f"<b>{title}</b>\n\n")
    assert lead.startswith(result.teaser)
    assert len(result.teaser) < len(lead)
    assert result.teaser.endswith("du conseil.")


@pytest.mark.parametrize(
    ("image", "limit"), [(None, 4096), ("https://sahel-actu.example/i.jpg", 1024)]
)
def test_an_absurd_title_is_truncated(image: str | None, limit: int) -> None:
    title = " ".join(["interminable"] * 800)
    post = render_post(make_article(title=title, image=image), telegram(), FR)
    assert isinstance(post, TelegramPost)
    assert telegram_length(post.text) <= limit
    bold = re.match(r"<b>(.*?)</b>", post.text)
    assert bold
    assert bold.group(1).endswith("interminable…")
    assert post.text.endswith(f"{CTA_FR}\n#Économie #FinancesPubliques")
    assert_telegram_html(post.text)


def test_a_post_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        render_post(make_article(image="https://x.example/i.jpg"), telegram(cta="x" * 1100), FR)


# ---------------------------------------------------------------------------------------------
# Preview JSON
# ---------------------------------------------------------------------------------------------


def test_preview_record_matches_the_contract() -> None:
    item = make_article(image="https://sahel-actu.example/i.jpg")
    channel = telegram(utm=UTM)
    result = render(item, channel, FR)
    record = preview_record("demo", channel, item, result.post, result.teaser)
    assert record == {
        "feed": "demo",
        "channel": "tg",
        "type": "telegram",
        "article": {
            "id": "demo:10477",
            "url": URL,
            "title": TITLE,
            "published": "2026-11-30T18:20:00+00:00",
            "author": "Boubacar Sidibé",
            "categories": ["Économie", "Finances publiques", "Non classé"],
            "image": "https://sahel-actu.example/i.jpg",
            "teaser": LEAD,
        },
        "post": {
            "method": "sendPhoto",
            "text": f"<b>{TITLE}</b>\n\n{LEAD}\n\n{CTA_FR}\n#Économie #FinancesPubliques",
            "photo": "https://sahel-actu.example/i.jpg",
            "buttons": [["Lire l'article", LINK]],
        },
    }


def test_preview_record_for_facebook_and_no_date() -> None:
    item = make_article(published=None, author=None)
    channel = facebook()
    result = render(item, channel, FR)
    record = preview_record("demo", channel, item, result.post, result.teaser)
    assert record["type"] == "facebook"
    assert record["article"]["published"] is None
    assert record["article"]["author"] is None
    assert record["post"] == {
        "endpoint": "feed",
        "message": f"{LEAD}\n\n{CTA_FR}\n#Économie #FinancesPubliques",
        "link": URL,
        "url": None,
    }


# ---------------------------------------------------------------------------------------------
# Links carry the channel's tracking only; dates, credits and calls to action (issue 10)
# ---------------------------------------------------------------------------------------------

FEED_LINK = "https://sahel-actu.example/2026/11/30/budget/?utm_source=rss&utm_medium=rss&p=7"


@pytest.mark.parametrize(
    ("factory", "utm", "expected"),
    [
        (facebook, None, "https://sahel-actu.example/2026/11/30/budget/?p=7"),
        (
            facebook,
            {"source": "facebook"},
            "https://sahel-actu.example/2026/11/30/budget/?p=7&utm_source=facebook",
        ),
        (telegram, None, "https://sahel-actu.example/2026/11/30/budget/?p=7"),
    ],
)
def test_every_posted_link_carries_the_channels_tracking_only(
    factory: Any, utm: dict[str, str] | None, expected: str
) -> None:
    item = make_article(url=FEED_LINK + "&fbclid=IwAR0x", image="https://sahel-actu.example/i.jpg")
    result = render(item, factory(utm=utm, photo="auto"), FR)
    post = result.post
    if isinstance(post, TelegramPost):
        assert post.link == expected and post.buttons[0][0][1] == expected
    else:
        assert isinstance(post, FacebookPost)
        assert post.link == expected and expected in post.message
    record = preview_record("site", factory(utm=utm), item, post, result.teaser)
    assert record["article"]["url"] == "https://sahel-actu.example/2026/11/30/budget/?p=7"


PUBLISHED = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
BAMAKO_SITE = FR.model_copy(update={"timezone": "Africa/Bamako"})


@pytest.mark.parametrize(
    ("now", "show_date", "shown"),
    [
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), True, None),  # on time: no date
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), True, "🕒 Publié le 30 novembre 2026 à 7 h 15"),
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), False, None),
        (None, True, None),  # no sending time known (a preview)
    ],
)
def test_a_late_post_shows_the_publication_date(
    now: datetime | None, show_date: bool, shown: str | None
) -> None:
    item = make_article(published=PUBLISHED, content_html=f"<p>{LEAD}</p>")
    for channel in (telegram(show_date=show_date), facebook(show_date=show_date)):
        post = render(item, channel, BAMAKO_SITE, now=now).post
        text = post.text if isinstance(post, TelegramPost) else post.message  # type: ignore[union-attr]
        if shown is None:
            assert "Publié" not in text
        else:
            assert shown in text


@pytest.mark.parametrize(
    ("body", "author", "credit", "line"),
    [
        (f"<p>{LEAD}</p><p>Source : L’Aube</p>", None, "source", "Source\u00a0: L’Aube"),
        (f"<p>{LEAD}</p><p>Source : Sahel-Actu avec l’AMAP</p>", None, "source", None),
        (f"<p>{LEAD}</p>", "Awa Traoré", "source", None),
        (f"<p>{LEAD}</p>", "Awa Traoré", "author", "Par Awa Traoré"),
        (f"<p>{LEAD}</p><p>Source : L’Aube</p>", "Awa Traoré", "author", "Source\u00a0: L’Aube"),
        (f"<p>{LEAD}</p><p>Source : L’Aube</p>", None, "none", None),
    ],
)
def test_a_reprint_credits_its_source(
    body: str, author: str | None, credit: str, line: str | None
) -> None:
    item = make_article(content_html=body, author=author)
    post = render_post(item, telegram(credit=credit), FR)
    assert isinstance(post, TelegramPost)
    if line is None:
        assert "Source" not in post.text and "Par " not in post.text
    else:
        assert f"<i>{line}</i>" in post.text


def test_facebook_default_cta_invites_to_the_telegram_channel() -> None:
    from bot.settings import settings_from_mapping

    def settings(channels: list[dict[str, Any]]) -> Any:
        return settings_from_mapping(
            {
                "site": {"name": "Sahel-Actu", "url": "https://www.sahel-actu.example"},
                "channels": channels,
                "telegram": {"token": "x"},
            },
            env={},
        )

    fb = {"id": "fb", "type": "facebook", "page_id": "1", "token": "t"}
    tg = {"id": "tg", "type": "telegram", "chat": "@sahel_actu"}
    both = settings([tg, fb])
    assert both.channel("fb").cta == (
        "📲 Rejoignez Sahel-Actu sur Telegram pour ne rien rater de l'actualité\u00a0: "
        "https://t.me/sahel_actu"
    )
    assert both.channel("tg").cta is None  # the built-in Telegram call to action
    assert settings([fb]).channel("fb").cta == "📲 Toute l'actualité sur sahel-actu.example"
    assert settings([tg, {**fb, "cta": "Abonnez-vous"}]).channel("fb").cta == "Abonnez-vous"


@pytest.mark.parametrize(
    "source",
    [
        "Lire l'article",
        "  Lire l’article \n",
        "Quote &#39;a&#39; and &#34;b&#34;",
        "{{ link }}",
        "{{link}}",
        "{{ title }}",
        "{{ none }}",  # a Jinja literal, not a variable
        "{{ link | upper }}",
        "{{ link }}?ref=tg",
        "Lire\r\nla suite",
        "Voir {{ site.name }}",
        "x" * 20_001,
    ],
)
def test_a_button_template_renders_as_jinja_renders_it(source: str) -> None:
    from bot.content.templates import (
        SAMPLE,
        TemplateBudgetError,
        compile_template,
        render_template,
        render_text,
    )

    variables = SAMPLE.variables("  Un titre  ", "Le chapeau.")
    try:
        expected: str | type[Exception] = render_template(
            compile_template(source, False), variables
        )
    except TemplateBudgetError:
        expected = TemplateBudgetError
    if expected is TemplateBudgetError:
        with pytest.raises(TemplateBudgetError):
            render_text(source, variables)
    else:
        assert render_text(source, variables) == expected


@pytest.mark.parametrize(
    "source_line",
    [
        "<p>Source : L’Aube</p>",
        "<p>SOURCE : L’Aube</p>",
        "<p>ſource : L’Aube</p>",  # the long s: IGNORECASE reads it as an s
        "<p>&amp;#83;ource : L’Aube</p>",  # double-encoded: decoded on the second reading
        "<p>Sources&amp;#58; L’Aube</p>",
        "<p>Source<br>Texte : L’Aube</p>",
    ],
)
def test_a_source_line_is_found_however_it_is_written(source_line: str) -> None:
    item = make_article(content_html=f"<p>{LEAD}</p>{source_line}")
    post = render_post(item, telegram(credit="source"), FR)
    assert isinstance(post, TelegramPost)
    if "<br>" in source_line:
        assert "Source" not in post.text  # "Source" alone on its line is no credit
    else:
        assert "<i>Source\u00a0: L’Aube</i>" in post.text
