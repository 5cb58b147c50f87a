"""Table-driven tests of feed HTML → paragraphs and of the boilerplate cleaner."""

from __future__ import annotations

import re
import sys

import pytest

from bot.content.clean import clean_paragraphs, html_to_paragraphs, normalise_text
from bot.content.text import fold, title_key

NBSP, NNBSP = "\u00a0", "\u202f"

TITLE = "Décentralisation : l’Assemblée adopte le projet de loi en première lecture"
LEAD = (
    "Le ministre de l’Administration territoriale, M. Issa Coulibaly, a défendu lundi soir "
    "devant les députés un texte attendu depuis vingt ans."
)
SECOND = "Le texte transfère aux conseils régionaux la gestion des écoles fondamentales."

# ---------------------------------------------------------------------------------------------
# html_to_paragraphs
# ---------------------------------------------------------------------------------------------

HTML_CASES = [
    pytest.param("", [], id="empty"),
    pytest.param("   \n\t ", [], id="blank"),
    pytest.param("<p>Un.</p><p>Deux.</p>", ["Un.", "Deux."], id="two-paragraphs"),
    pytest.param(
        "<p>L&#8217;État &eacute;tudie l&rsquo;offre&nbsp;: 3,5&nbsp;%</p>",
        [f"L’État étudie l’offre{NBSP}: 3,5{NBSP}%"],
        id="entities-decoded-nbsp-kept",
    ),
    pytest.param(
        "<p>fi\u00adnale\u200bment\u200c pr\u200dêt\u2060s\ufeff</p>",
        ["finalement prêts"],
        id="soft-hyphen-and-zero-width-removed",
    ),
    pytest.param(
        "<p>Prix\u2009: 1\u2009200 F</p>",
        [f"Prix{NNBSP}: 1{NNBSP}200 F"],
        id="thin-space-becomes-narrow-nbsp",
    ),
    pytest.param(
        "<p>  Trop \n\n d’espaces \t ici  </p>", ["Trop d’espaces ici"], id="whitespace-collapsed"
    ),
    pytest.param(
        "<p>Avant <strong>gras</strong> et <a href='x'>lien</a>.</p>",
        ["Avant gras et lien."],
        id="inline-tags-keep-text",
    ),
    pytest.param(
        "<script>var a = '<p>non</p>';</script><style>p{color:red}</style><p>Oui.</p>",
        ["Oui."],
        id="script-and-style-dropped",
    ),
    pytest.param(
        '<figure><img src="a.jpg" alt="x"><figcaption>Légende photo</figcaption></figure>'
        "<p>Texte.</p>",
        ["Texte."],
        id="figure-caption-dropped",
    ),
    pytest.param(
        "<p>Par Sahel-Actu<br />01/12/2026</p>",
        ["Par Sahel-Actu\n01/12/2026"],
        id="single-br-is-a-line-break",
    ),
    pytest.param(
        "Premier paragraphe.<br><br>Second paragraphe.",
        ["Premier paragraphe.", "Second paragraphe."],
        id="double-br-splits",
    ),
    pytest.param(
        "<div><div>Bloc un.</div>Suite libre.<ul><li>Point A</li><li>Point B</li></ul></div>",
        ["Bloc un.", "Suite libre.", "Point A", "Point B"],
        id="nested-blocks-and-lists",
    ),
    pytest.param(
        "Texte brut sur\ndeux lignes.\n\nSecond paragraphe.",
        ["Texte brut sur deux lignes.", "Second paragraphe."],
        id="plain-text-blank-lines",
    ),
    pytest.param(
        "<p>Le gouvernement l&amp;#8217;a dit [&amp;#8230;]</p>",
        ["Le gouvernement l’a dit […]"],
        id="double-encoded-entities",
    ),
    pytest.param(
        "<p>\U0001d416\U0001d41a\U0001d42c\U0001d41a\U0001d426\U0001d41b\U0001d41a au marché</p>",
        ["Wasamba au marché"],
        id="mathematical-bold-letters",
    ),
    pytest.param("<p>&nbsp;</p><p>Vrai texte.</p>", ["Vrai texte."], id="nbsp-only-paragraph"),
    pytest.param(
        "<p>Non fermé<p>Suivant</div></span>", ["Non fermé", "Suivant"], id="malformed-html"
    ),
    # captions and credits (issue 10)
    pytest.param(
        '<div id="attachment_88" style="width: 650px" class="wp-caption aligncenter">'
        '<img src="https://sahel-actu.example/wp-content/uploads/conseil.jpg" width="640" />'
        '<p class="wp-caption-text">Le ministre Moussa Diallo à Kayes</p></div>'
        "<p>Le ministre a inauguré lundi le nouveau centre de santé de Kayes.</p>",
        ["Le ministre a inauguré lundi le nouveau centre de santé de Kayes."],
        id="old-wordpress-caption-block",
    ),
    pytest.param(
        '<p class="wp-caption-text">Photo : la foire de Ségou</p><p>La foire ouvre jeudi.</p>',
        ["La foire ouvre jeudi."],
        id="caption-paragraph-alone",
    ),
    pytest.param(
        "<figure><img src='a.jpg'><figcaption>Les élus de Gao</figure><p>La session a repris.</p>",
        ["La session a repris."],
        id="unclosed-figcaption",
    ),
    pytest.param(
        '<p><span class="photo-credit">© AMAP / Issa Konaté</span>Le fleuve a atteint sa cote '
        "d’alerte.</p>",
        ["Le fleuve a atteint sa cote d’alerte."],
        id="credit-class",
    ),
    pytest.param(
        '<div class="image-legende"><div>Vue du barrage</div></div><p>Le barrage est plein.</p>',
        ["Le barrage est plein."],
        id="legende-class-with-nested-div",
    ),
    pytest.param(
        "<p>La loi de 2019<sup>1</sup> prévoit un quota<sup>[2]</sup> de 30 %.</p>",
        ["La loi de 2019 prévoit un quota de 30 %."],
        id="footnote-calls-in-sup",
    ),
    pytest.param(
        "<p>Les fonctions <sup>x</sup> restent.</p>",
        ["Les fonctions x restent."],
        id="sup-that-is-not-a-footnote",
    ),
]


@pytest.mark.parametrize(("html", "expected"), HTML_CASES)
def test_html_to_paragraphs(html: str, expected: list[str]) -> None:
    assert html_to_paragraphs(html) == expected


def test_fold_and_title_key() -> None:
    assert fold("À LIRE  Aussi’ « x »") == 'a lire aussi\' " x "'
    assert title_key("DÉCENTRALISATION : l'Assemblée…") == title_key(
        "Décentralisation – L’assemblée"
    )


def test_normalise_text_keeps_one_no_break_space() -> None:
    assert normalise_text("a \u00a0 : b\u202f \u00a0!") == f"a{NBSP}: b{NNBSP}!"


# ---------------------------------------------------------------------------------------------
# clean_paragraphs
# ---------------------------------------------------------------------------------------------


def case(id_: str, paragraphs: list[str], expected: list[str], **kwargs: object) -> object:
    return pytest.param(paragraphs, expected, kwargs, id=id_)


CLEAN_CASES = [
    # social calls to action
    case(
        "social-facebook-ascii",
        ["Suivez-nous sur Facebook pour ne rien rater de l'actualité malienne", LEAD],
        [LEAD],
    ),
    case(
        "social-facebook-typographic-and-twice",
        [
            "Suivez-nous sur Facebook, Telegram, WhatsApp pour ne rien rater de l’actualité "
            "malienne",
            "Suivez-nous sur Facebook, Telegram, WhatsApp pour ne rien rater de l’actualité",
            LEAD,
        ],
        [LEAD],
    ),
    case("social-whatsapp-channel", [LEAD, "Rejoignez notre chaîne WhatsApp"], [LEAD]),
    case("social-english", ["Follow us on Twitter and Facebook for more news", LEAD], [LEAD]),
    case("social-emoji", [LEAD, "📲 Abonnez-vous à notre chaîne Telegram !"], [LEAD]),
    case(
        "social-glued-to-lead",
        [f"Suivez-nous sur Facebook pour ne rien rater de l’actualité malienne {LEAD}"],
        [LEAD],
    ),
    # cross-links
    case(
        "crosslink-a-lire-aussi",
        [LEAD, "À lire aussi : Kayes : les élus réclament des moyens"],
        [LEAD],
    ),
    case("crosslink-capitalised", ["A Lire Aussi : Gao : la route rouverte", LEAD], [LEAD]),
    case("crosslink-lire-aussi", [LEAD, "Lire aussi: Le coton en hausse"], [LEAD]),
    case("crosslink-english", [LEAD, "Read also: Mali signs deal", "Related: Niger"], [LEAD]),
    case(
        "crosslink-heading-then-headlines",
        [
            "À lire aussi",
            "Kayes : les élus réclament des moyens",
            "Gao : la route rouverte",
            SECOND,
        ],
        [SECOND],
    ),
    case(
        "crosslink-glued-inside-paragraph",
        [f"{LEAD} À lire aussi Kayes : les élus réclament des moyens"],
        [LEAD],
    ),
    # feed footers
    case("footer-english", [LEAD, "The post Budget vote appeared first on Sahel News."], [LEAD]),
    case(
        "footer-french-cet-article",
        [LEAD, "Cet article Le budget adopté est apparu en premier sur Sahel-Actu."],
        [LEAD],
    ),
    case(
        "footer-french-l-article",
        [LEAD, "L’article Le budget adopté est apparu en premier sur Sahel-Actu."],
        [LEAD],
    ),
    case("footer-protected-post", ["There is no excerpt because this is a protected post."], []),
    # truncation marks
    case("truncation-alone", [LEAD, "[…]", "[&#8230;]", "(...)"], [LEAD]),
    case("truncation-links", [LEAD, "Lire la suite", "Continue reading →", "Read more »"], [LEAD]),
    case(
        "truncation-glued-bracket",
        ["Les usagers dénoncent une décision prise sans concertation et [&#8230;]"],
        ["Les usagers dénoncent une décision prise sans concertation et…"],
    ),
    case(
        "truncation-glued-lire-la-suite",
        [f"{LEAD} Lire la suite\u00ad\u00ad"],
        [LEAD],
    ),
    # rights notices
    case(
        "rights-nb-reproduction",
        [
            LEAD,
            "NB : Toute reproduction, même partielle, de cet article sans une autorisation "
            "explicite de notre part est strictement interdite.",
        ],
        [LEAD],
    ),
    case(
        "rights-all-reserved",
        [LEAD, "Tous droits réservés", "© 2026 Sahel-Actu", "Copyright 2026"],
        [LEAD],
    ),
    case("rights-title-note", [LEAD, "NB : Le titre est de la rédaction"], [LEAD]),
    case(
        "rights-glued-at-end",
        [f"{LEAD} NB : Toute reproduction, intégrale ou partielle, est interdite."],
        [LEAD],
    ),
    # sources and bylines
    case("source-french-spacing", [LEAD, "Source : AMAP"], [LEAD]),
    case("source-no-space", [LEAD, "Source: TV5 Monde"], [LEAD]),
    case("byline-site", [LEAD, "Par Sahel-Actu.com"], [LEAD]),
    case("byline-person", [LEAD, "Par Chaka Diabaté"], [LEAD]),
    case("byline-site-and-date", [LEAD, "Par Sahel-Actu.com 03/06/2026"], [LEAD]),
    case("byline-collected", [LEAD, "Propos recueillis par Awa Traoré"], [LEAD]),
    case("author-alone", [LEAD, "Seydou Ballo"], [LEAD]),
    case("author-caps-with-site", [LEAD, "ADAMA KONÉ TRAORÉ/Sahel-Actu.com"], [LEAD]),
    case("author-initials", [LEAD, "B.S. COULIBALY", "K. Sangaré"], [LEAD]),
    case("author-with-role", [LEAD, "Brahima Sow, Stagiaire"], [LEAD]),
    case("author-glued-after-last-sentence", [f"{LEAD} Seydou Ballo"], [LEAD]),
    case("date-alone-numeric", [LEAD, "12/05/2026"], [LEAD]),
    case("date-alone-city", [LEAD, "Bamako, le 12 mai 2026"], [LEAD]),
    case("date-published", ["Publié le mardi 3 novembre 2026 à 09h30", LEAD], [LEAD]),
    case("byline-and-date-lines", [LEAD, "Par Sahel-Actu\n01/12/2026"], [LEAD]),
    case("source-line-after-text", [f"{LEAD}\nSource : AFP"], [LEAD]),
    # app and radio promotions
    case("promo-app", [LEAD, "Téléchargez l'application Sahel-Actu sur Google Play"], [LEAD]),
    case("promo-radio", [LEAD, "Ecoutez les radios du Mali sur vos mobiles et tablettes"], [LEAD]),
    case("promo-radio-accented", ["Écoutez Radio Sahel en direct sur notre site", LEAD], [LEAD]),
    # widgets and noise
    case("widgets", ["Partager :", "Quelle est votre réaction ?", LEAD, "72", "***"], [LEAD]),
    case("sponsored-marker", ["Publireportage", LEAD], [LEAD]),
    # the title repeated
    case("title-repeated", [TITLE, LEAD], [LEAD]),
    case(
        "title-repeated-other-case-and-punctuation",
        ["DECENTRALISATION - L'ASSEMBLEE ADOPTE LE PROJET DE LOI EN PREMIERE LECTURE", LEAD],
        [LEAD],
    ),
    case("title-glued-to-lead", [f"{TITLE}. {LEAD}"], [LEAD]),
    # datelines
    case(
        "dateline-site-glued",
        ["Bamada.net-Cette rencontre a réuni les maires du cercle de Kati."],
        ["Cette rencontre a réuni les maires du cercle de Kati."],
        site_name="Bamada.net",
    ),
    case(
        "dateline-site-name-dash",
        ["Sahel-Actu – Le ministre a reçu les syndicats."],
        ["Le ministre a reçu les syndicats."],
        site_name="Sahel-Actu",
    ),
    case(
        "dateline-agency",
        ["BAMAKO (AFP) - Le gouvernement a annoncé lundi un plan d’urgence."],
        ["Le gouvernement a annoncé lundi un plan d’urgence."],
    ),
    case(
        "dateline-city-date",
        ["Bamako, le 12 mai 2024 – Le conseil des ministres s’est tenu au palais."],
        ["Le conseil des ministres s’est tenu au palais."],
    ),
    case(
        "dateline-agency-only",
        ["(AMAP) – Le préfet de Kita a installé le nouveau conseil."],
        ["Le préfet de Kita a installé le nouveau conseil."],
    ),
    case(
        "photo-prefix",
        ["(Photo d'illustration) Sur la scène internationale, le Mali fait parler de lui."],
        ["Sur la scène internationale, le Mali fait parler de lui."],
    ),
    # captions glued to the lead without markup (issue 10)
    case(
        "caption-glued-title-and-name",
        [
            "Le Président du Conseil régional, l’Honorable Fatoumata SIDIBÉ La session budgétaire "
            "s’est ouverte lundi à Sikasso en présence des élus des sept cercles."
        ],
        [
            "La session budgétaire s’est ouverte lundi à Sikasso en présence des élus des sept "
            "cercles."
        ],
    ),
    case(
        "caption-glued-name-then-role",
        [
            "Aminata Touré Ancienne ministre de la Santé Elle a plaidé mardi pour la gratuité des "
            "soins des enfants de moins de cinq ans."
        ],
        ["Elle a plaidé mardi pour la gratuité des soins des enfants de moins de cinq ans."],
    ),
    case(
        "caption-glued-rank-and-elision",
        [
            "Le chef d’état-major, Gén. Oumar DIARRA, au camp de Kati L’inspection des unités a "
            "duré deux jours et s’est achevée par une prise d’armes."
        ],
        ["L’inspection des unités a duré deux jours et s’est achevée par une prise d’armes."],
    ),
    case(
        "prose-with-a-name-is-not-a-caption",
        [
            "Le ministre de la Santé Aminata Touré a plaidé mardi à Kayes pour la gratuité des "
            "soins des enfants."
        ],
        [
            "Le ministre de la Santé Aminata Touré a plaidé mardi à Kayes pour la gratuité des "
            "soins des enfants."
        ],
    ),
    case(
        "image-file-name-glued",
        ["DSC04127-750x430Les habitants de Kati ont reçu mardi les premiers kits scolaires."],
        ["Les habitants de Kati ont reçu mardi les premiers kits scolaires."],
    ),
    case(
        "image-file-with-extension-glued",
        ["marche_medine.jpgLe marché de Médine rouvre après trois semaines de travaux."],
        ["Le marché de Médine rouvre après trois semaines de travaux."],
    ),
    # datelines go, the date of a sentence stays (issue 10)
    case(
        "dateline-city-agency-en-dash",
        ["GAO (AMAP) – Les éleveurs de la région ont reçu des aliments pour bétail."],
        ["Les éleveurs de la région ont reçu des aliments pour bétail."],
    ),
    case(
        "dateline-city-short-date-agency",
        ["Bamako, 12 avr (AMAP) - Le Premier ministre a reçu les syndicats de l’éducation."],
        ["Le Premier ministre a reçu les syndicats de l’éducation."],
    ),
    case(
        "dateline-capitals-full-date-agency",
        ["SIKASSO, 12 avril 2024 (AMAP) – La campagne cotonnière démarre avec retard."],
        ["La campagne cotonnière démarre avec retard."],
    ),
    case(
        "dateline-town-agency",
        ["Kati (AMAP) – Le nouveau préfet a pris ses fonctions jeudi."],
        ["Le nouveau préfet a pris ses fonctions jeudi."],
    ),
    case(
        "date-of-a-sentence-le-jeudi",
        ["Le jeudi 4 avril 2024, Son Excellence le Président a reçu les élus de Mopti."],
        ["Le jeudi 4 avril 2024, Son Excellence le Président a reçu les élus de Mopti."],
    ),
    case(
        "date-of-a-sentence-ce-lundi",
        ["Ce lundi 6 mai 2024, Bamako a accueilli les ministres de la santé de la sous-région."],
        ["Ce lundi 6 mai 2024, Bamako a accueilli les ministres de la santé de la sous-région."],
    ),
    case(
        "date-of-a-sentence-day-first",
        ["Mardi 7 mai 2024, Seydou KEÏTA a inauguré son usine de jus de mangue à Kati."],
        ["Mardi 7 mai 2024, Seydou KEÏTA a inauguré son usine de jus de mangue à Kati."],
    ),
    case(
        "acronym-in-apposition-is-not-a-dateline",
        ["L’AES - Alliance des États du Sahel - a tenu sa première session à Niamey."],
        ["L’AES - Alliance des États du Sahel - a tenu sa première session à Niamey."],
    ),
    # truncated sources, footnotes, speeches (issue 10)
    case(
        "feed-cut-ends-at-last-full-sentence",
        [
            "Le gouvernement a adopté le texte mercredi. Les syndicats dénoncent une réforme "
            "menée sans concertation et […]"
        ],
        ["Le gouvernement a adopté le texte mercredi."],
    ),
    case(
        "feed-cut-without-full-sentence",
        ["Les syndicats dénoncent une réforme menée sans concertation et [&#8230;]"],
        ["Les syndicats dénoncent une réforme menée sans concertation et…"],
    ),
    case(
        "authors-ellipsis-kept",
        ["Le ministre l’a dit. La saison des pluies, elle, reste incertaine..."],
        ["Le ministre l’a dit. La saison des pluies, elle, reste incertaine…"],
    ),
    case(
        "footnote-calls-in-text",
        ["Le code minier(1) fixe la part de l’État à 35 % [2]. Elle était de 20 %¹."],
        ["Le code minier fixe la part de l’État à 35 %. Elle était de 20 %."],
    ),
    case(
        "units-keep-their-superscript",
        ["Le nouveau marché couvre 2 500 m² près du fleuve, selon la mairie de Mopti."],
        ["Le nouveau marché couvre 2 500 m² près du fleuve, selon la mairie de Mopti."],
    ),
    case(
        "speech-salutations",
        [
            "➢ Monsieur le Premier ministre, Chef du Gouvernement ; ➢ Honorables députés ; "
            "➢ Mesdames et Messieurs. Je voudrais d’abord saluer la mémoire des victimes de Mopti."
        ],
        ["Je voudrais d’abord saluer la mémoire des victimes de Mopti."],
    ),
    case(
        "speech-salutations-with-hyphens",
        [
            "- Monsieur le Ministre de la Communication, - Chers confrères, Distingués invités, "
            "Avant tout propos, je salue la présence des doyens de la presse."
        ],
        ["Avant tout propos, je salue la présence des doyens de la presse."],
    ),
    case(
        "prose-addressing-someone-stays",
        ["Monsieur le Premier ministre a reçu mardi les syndicats de l’éducation à la Primature."],
        ["Monsieur le Premier ministre a reçu mardi les syndicats de l’éducation à la Primature."],
    ),
    case(
        "page-links",
        [LEAD, "Mentions légales", "Charte des commentaires", "Vos réactions (4)"],
        [LEAD],
    ),
    # per-feed patterns
    case(
        "extra-pattern",
        [LEAD, "Ecoutez Radio Kledu sur 101.1 FM"],
        [LEAD],
        extra_patterns=["^Ecoutez Radio Kledu"],
    ),
    case(
        "extra-pattern-ignores-accents-and-case",
        ["ÉDITORIAL DU JOUR", LEAD],
        [LEAD],
        extra_patterns=["^editorial"],
    ),
    # prose that only looks like boilerplate stays
    case(
        "kept-par-ailleurs",
        ["Par ailleurs, le ministre a rappelé les enjeux de la réforme."],
        ["Par ailleurs, le ministre a rappelé les enjeux de la réforme."],
    ),
    case(
        "kept-par-decret",
        ["Par décret n° 2026-114, le président a nommé un nouveau préfet à Kita."],
        ["Par décret n° 2026-114, le président a nommé un nouveau préfet à Kita."],
    ),
    case(
        "kept-sources-concordantes",
        ["Sources concordantes : selon plusieurs témoins, l’attaque a eu lieu à l’aube à Boni."],
        ["Sources concordantes : selon plusieurs témoins, l’attaque a eu lieu à l’aube à Boni."],
    ),
    case(
        "kept-facebook-in-news",
        ["Le ministre a annoncé sur Facebook la fermeture des écoles pour deux jours."],
        ["Le ministre a annoncé sur Facebook la fermeture des écoles pour deux jours."],
    ),
    case(
        "kept-date-first-lead",
        ["Le 12 mai 2024, le ministre a inauguré le pont de Kayes."],
        ["Le 12 mai 2024, le ministre a inauguré le pont de Kayes."],
    ),
    case(
        "kept-acronym-hyphen",
        ["UEMOA-Mali : les négociations reprennent lundi à Ouagadougou."],
        ["UEMOA-Mali : les négociations reprennent lundi à Ouagadougou."],
    ),
    case(
        "kept-en-savoir-plus-in-prose",
        ["Les chercheurs veulent en savoir plus"],
        ["Les chercheurs veulent en savoir plus"],
    ),
    case(
        "kept-realise-par",
        ["Réalisé par une entreprise chinoise, le pont de Kayes a coûté 40 milliards de FCFA."],
        ["Réalisé par une entreprise chinoise, le pont de Kayes a coûté 40 milliards de FCFA."],
    ),
    case(
        "kept-reproduction-in-prose",
        ["Le procureur rappelle que la reproduction de ces documents est interdite par la loi."],
        ["Le procureur rappelle que la reproduction de ces documents est interdite par la loi."],
    ),
    case(
        "kept-correspondent-news",
        ["Notre correspondant à Gao a été libéré hier soir par ses ravisseurs."],
        ["Notre correspondant à Gao a été libéré hier soir par ses ravisseurs."],
    ),
    case(
        "kept-communication-service-news",
        ["La cellule de communication du ministère a démenti l’information."],
        ["La cellule de communication du ministère a démenti l’information."],
    ),
    case(
        "kept-telecharger-infinitive",
        ["Télécharger une application de paiement est devenu un réflexe à Bamako."],
        ["Télécharger une application de paiement est devenu un réflexe à Bamako."],
    ),
    case(
        "credit-communication-service",
        [LEAD, "Cellule de communication du ministère de la Justice"],
        [LEAD],
    ),
    case("credit-correspondent", [LEAD, "De notre correspondant à Gao"], [LEAD]),
    # whole articles
    case(
        "only-boilerplate",
        [
            "Suivez-nous sur Facebook pour ne rien rater de l'actualité malienne",
            TITLE,
            "Par Sahel-Actu",
            "12/05/2024",
            "Source : AMAP",
        ],
        [],
    ),
    case("duplicates-collapsed", [LEAD, LEAD, SECOND], [LEAD, SECOND]),
]


@pytest.mark.parametrize(("paragraphs", "expected", "kwargs"), CLEAN_CASES)
def test_clean_paragraphs(
    paragraphs: list[str], expected: list[str], kwargs: dict[str, object]
) -> None:
    assert clean_paragraphs(paragraphs, title=TITLE, **kwargs) == expected  # type: ignore[arg-type]


def test_invalid_extra_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid boilerplate pattern"):
        clean_paragraphs([LEAD], title=TITLE, extra_patterns=["(unclosed"])


def test_full_wordpress_body() -> None:
    html = (
        "<p><strong>Suivez-nous sur Facebook pour ne rien rater de l&#8217;actualité malienne"
        "</strong></p>"
        f"<p>{TITLE}</p>"
        f"<p>Sahel-Actu &#8211; {LEAD}</p>"
        "<p>À Lire Aussi : Kayes : les élus réclament des moyens</p>"
        f"<p>{SECOND}</p>"
        "<p>Par Sahel-Actu<br />\n01/12/2026</p>"
        "<p>Suivez-nous sur Facebook pour ne rien rater de l&#8217;actualité malienne</p>"
    )
    cleaned = clean_paragraphs(html_to_paragraphs(html), title=TITLE, site_name="Sahel-Actu")
    assert cleaned == [LEAD, SECOND]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Famille 👨\u200d👩\u200d👧 réunie", "Famille 👨\u200d👩\u200d👧 réunie"),  # one emoji
        ("🏳\ufe0f\u200d🌈 marche", "🏳\ufe0f\u200d🌈 marche"),
        ("Ko\u200dulouba", "Koulouba"),  # a joiner between letters is noise
        ("Prix\u200d : 500 FCFA", "Prix : 500 FCFA"),
        ("Bamako \u202egnp.exe\u202c", "Bamako gnp.exe"),  # right-to-left override gone
        ("a\u2066b\u2069c\u202ad\u202be\u202df", "abcdef"),
    ],
)
def test_joiners_kept_in_emoji_and_direction_overrides_removed(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


# ---------------------------------------------------------------------------------------------
# The words searched for before the suffix patterns (issue 12: speed, same posts)
# ---------------------------------------------------------------------------------------------

PROSE = "Le conseil des ministres a adopté mercredi le projet de loi sur la décentralisation."


@pytest.mark.parametrize(
    "glued",
    [
        " Toute reproduction est INTERDITE.",
        " Toute reproduction est İNTERDITE.",  # İ: IGNORECASE matches it to i, lower() does not
        " TOUS DROITS RÉSERVÉS",
        " © Sahel-Actu 2024",
        " (C) 2024 Sahel-Actu",
        " READ MORE",
        " Lire la ſuite",  # the long s, another IGNORECASE twin
        " Continue reading →",
        " […]",
        " The post Décentralisation appeared first on Sahel-Actu.",
        " Suivez-nous sur WhatsApp pour ne rien rater de l’actualité malienne.",
    ],
)
def test_a_glued_suffix_in_any_case_is_still_cut(glued: str) -> None:
    assert clean_paragraphs([PROSE + glued], title=TITLE) == [PROSE]


def test_the_case_twins_are_every_non_ascii_letter_ignorecase_matches_to_ascii() -> None:
    """`_lower_probe` relies on this list; a Python whose `re` had another twin fails here."""
    from bot.content.clean import CASE_TWINS

    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    twins = [chr(c) for c in range(128, sys.maxunicode + 1) if ascii_letter.fullmatch(chr(c))]
    assert sorted(twins) == sorted(CASE_TWINS)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("plain ascii\tand\x00 controls", "plain ascii and controls"),
        ("emoji 👨\u200d👩 and a stray\u200d joiner", "emoji 👨\u200d👩 and a stray joiner"),
        ("&#8217; left over", "’ left over"),
        ("𝐁old and e\u0301", "Bold and é"),
    ],
)
def test_normalise_text_steps_run_whenever_they_can_change_the_text(
    text: str, normalised: str
) -> None:
    assert normalise_text(text) == normalised


def test_every_mapped_character_is_still_mapped_in_any_text() -> None:
    """`_map_chars` skips `translate` when it finds none of the table's characters."""
    from bot.content.clean import _CHAR_MAP, _map_chars

    for code in _CHAR_MAP:
        for text in (f"é{chr(code)}é", f"a{chr(code)}b", chr(code)):
            assert _map_chars(text) == text.translate(_CHAR_MAP), hex(code)
    assert _map_chars("é sans rien à changer") == "é sans rien à changer"


def test_every_caption_class_word_holds_a_stem_the_parser_looks_for_first() -> None:
    from bot.content.clean import _CAPTION_CLASS_WORDS, CAPTION_CLASS_STEMS

    for word in _CAPTION_CLASS_WORDS:
        assert any(stem in word for stem in CAPTION_CLASS_STEMS), word


TRICKY_HTML = [
    "<p>Un</p><p>Deux &amp; trois</p>",
    '<p>Avant<!-- un <p>commentaire</p> > qui dure --> après</p><p title="a<b>">Suite</p>',
    "<p>Texte</p><script>if (a < b) { x = '<p>'; }</script><p>Fin</p>",
    "<p>Entité coupée &eacute; &#233 &#x00e9; &nbsp;</p><p>a < b et c<d</p>",
    "<div class='wp-caption'><p>Légende</p></div><p>Le texte.</p><br><br><p>x<br>y</p>",
    "<p>Sans fin <b>gras <i>italique",
    "<![CDATA[x]]><p>après un CDATA</p><?php echo 1; ?><p>et un PI</p><!DOCTYPE html><p>z</p>",
    "<p>" + "mot " * 3000 + "</p><p>" + "<b>x</b> " * 2000 + "</p>",
]


@pytest.mark.parametrize("html_text", TRICKY_HTML)
def test_paragraphs_read_in_pieces_are_those_of_one_reading(
    html_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.content import clean

    monkeypatch.setattr(clean, "FIRST_PIECE", len(html_text) + 1)
    whole = clean.html_to_paragraphs(html_text)
    monkeypatch.setattr(clean, "FIRST_PIECE", 1)  # a piece ends before nearly every "<"
    assert clean.html_to_paragraphs(html_text) == whole


def test_paragraphs_are_parsed_only_as_far_as_they_are_read() -> None:
    from bot.content.clean import iter_html_paragraphs

    rejected_later = f"<p>{LEAD}</p>" + "<p>suite</p>" * 2000 + "<![foo bar]><p>fin</p>"
    with pytest.raises(AssertionError):  # html.parser rejects the marked section
        html_to_paragraphs(rejected_later)
    assert next(iter_html_paragraphs(rejected_later)) == LEAD
