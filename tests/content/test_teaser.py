"""Table-driven tests of the French sentence splitter, the lead cut and the article teaser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.content.sentences import quote_spans, split_sentences
from bot.content.teaser import article_teaser, cut_at_word, make_teaser
from bot.models import Article

# Each lead is written as its expected sentences; the splitter must find them again.
SENTENCES = [
    [
        "M. Moussa Traoré, ministre de l’Économie, a présenté mardi le projet de loi.",
        "Le texte prévoit une hausse de 3,5 % des recettes.",
    ],
    ["Le Gén. Oumar Diarra a inspecté les troupes à Sévaré.", "Il a salué leur engagement."],
    [
        "Mme Aïssata Koné a été reçue par le Premier ministre.",
        "Les échanges ont porté sur la santé.",
    ],
    [
        "Selon le Dr Sidibé, « la situation est sous contrôle. Les cas reculent ».",
        "Le ministère reste prudent.",
    ],
    [
        "Le budget atteint 1.200 milliards de FCFA, soit 4,2 % de plus qu’en 2025.",
        "Les députés l’examineront lundi.",
    ],
    [
        "Me Fatoumata Diallo dénonce « une procédure bâclée. Rien ne tient ».",
        "Le procès reprend jeudi.",
    ],
    ["Le Col. Sangaré et le Cdt Keïta ont conduit l’opération.", "Aucune perte n’est à déplorer."],
    [
        "Le Pr Bréhima Coulibaly, doyen de la faculté, a ouvert le colloque.",
        "Plus de 300 chercheurs y participent.",
    ],
    ["L’arrêté n° 2026-114 fixe les nouveaux tarifs.", "Ils entrent en vigueur le 1er janvier."],
    ["MM. Traoré et Diakité ont signé l’accord à Ségou.", "Il couvre trois campagnes agricoles."],
    ["A. Diallo, porte-parole du syndicat, appelle au calme.", "La grève est suspendue."],
    ["Les cours reprennent le 5 janv. dans tout le pays.", "Les enseignants sont satisfaits."],
    ["La production a atteint 690.000 tonnes… un record.", "La CMDT s’en félicite."],
    ["Le Lt Coulibaly et le Capt. Touré ont été décorés.", "La cérémonie s’est tenue à Kati."],
    [
        "Le ministre a cité plusieurs villes (Kayes, Ségou, Mopti, etc.) parmi les priorités.",
        "Les travaux débuteront en mars.",
    ],
    ["Mlle Kadiatou Sow a remporté le concours d’éloquence.", "Elle représentera le pays à Dakar."],
    ["Que va faire le gouvernement ?", "Les syndicats attendent une réponse."],
    ["Le taux d’inflation est passé de 2,1 % à 3,4 % en un an !", "Les ménages s’inquiètent."],
    [
        "Le président a déclaré : « Nous irons jusqu’au bout. Personne ne nous arrêtera. »",
        "La salle a applaudi.",
    ],
    [
        "« Nous ne céderons pas », a martelé le Gén. Keïta devant la presse.",
        "Il a promis des renforts.",
    ],
    [
        "S.E. le Colonel Assimi Goïta a présidé le Conseil des ministres.",
        "Plusieurs décrets ont été adoptés.",
    ],
    [
        "Le Festival sur le Niger ouvre ses portes le 4 févr. à Ségou.",
        "Près de 30.000 visiteurs sont attendus.",
    ],
    [
        "Le Cdt Diallo (armée de l’Air) a détaillé le bilan : 12 assaillants neutralisés.",
        "Deux soldats ont été blessés.",
    ],
    [
        "Selon le rapport (p. 45), les recettes ont baissé de 1,5 milliard.",
        "Le ministère conteste.",
    ],
    ["Le président a cité l’art. 42 de la Constitution.", "L’opposition dénonce un abus."],
    ["« Assez ! » ont scandé les manifestants devant l’Assemblée.", "La police est intervenue."],
    ["Le Lt-Col. Sangaré prend le commandement de la zone.", "Il succède au Col. Dembélé."],
    ["Le journaliste K. Coulibaly a été libéré hier.", "Son employeur s’en réjouit."],
    ["Ils étaient sept.", "Trois sont rentrés."],
    ["👉 Le conseil a adopté le texte.", "👉 La séance est levée à 18 h."],
    ["La ville a été fondée en 500 av. J.-C. selon les archéologues.", "Les fouilles continuent."],
    # Malian ranks and titles (issue 10)
    ["Le Col.-Maj. Daouda Sagara a été installé jeudi à Kidal.", "Il succède au Col. Touré."],
    ["Le Col. Maj. Ismaël Wagué a présidé la cérémonie de Kati.", "Elle a duré deux heures."],
    ["Le Gén. de brigade Kèba Sangaré a visité l’EMIA vendredi.", "Les élèves l’ont accueilli."],
    ["Le Cdt. Moussa Diarra et le Lt. Awa Coulibaly sont décorés.", "La cérémonie a eu lieu hier."],
    ["Le Capt. Sidibé et l’Adj. Koné ont reçu S.E. M. l’Ambassadeur.", "Ils ont parlé sécurité."],
    ["Me Traoré et le Pr. Diakité ont témoigné devant la Cour.", "L’audience reprend lundi."],
    ["L’Hon. Malick Diaw a ouvert la session d’avril.", "Les conseillers siègent un mois."],
    ["Le Sgt-Chef Dembélé a été promu.", "Sa famille était présente."],
    # words that are abbreviations only sometimes end a sentence before a sentence's first word
    ["Deux jeunes ont été condamnés pour vol.", "Le procès a duré trois jours."],
    ["La réunion a commencé à 10 h.", "Elle s’est achevée vers midi."],
    ["Il a été condamné au titre de l’art. 12 du code pénal.", "Il fera appel."],
    ["Le débit a atteint son niveau min. Mardi, il est remonté."],
    ["La séance est levée à 18 h.", "Selon le président, elle reprendra demain."],
]


@pytest.mark.parametrize("sentences", SENTENCES, ids=[s[0][:30] for s in SENTENCES])
def test_split_sentences(sentences: list[str]) -> None:
    assert split_sentences(" ".join(sentences)) == sentences


def test_split_sentences_keeps_narrow_no_break_spaces() -> None:
    text = "Que faire\u202f? Le gouvernement hésite\u00a0! « Rien\u00a0», dit-il."
    assert split_sentences(text) == [
        "Que faire\u202f?",
        "Le gouvernement hésite\u00a0!",
        "« Rien\u00a0», dit-il.",
    ]


# ---------------------------------------------------------------------------------------------
# make_teaser
# ---------------------------------------------------------------------------------------------

S1 = "Le Gén. Oumar Sanogo a passé deux jours auprès des unités déployées à Mopti."  # 76
S2 = "Accompagné du Col. Adama Koné, il a visité six postes avancés."  # 62
S3 = "« Vous tenez une ligne. Le pays compte sur vous », a-t-il dit aux soldats."  # 74
LEAD = f"{S1} {S2} {S3}"
LONG_SENTENCE = (
    "Le ministre de l’Administration territoriale et de la Décentralisation, M. Issa Coulibaly, "
    "a présenté lundi devant la commission des lois un texte qui transfère aux conseils "
    "régionaux la gestion des écoles fondamentales, des centres de santé communautaires et "
    "des pistes rurales."
)

RANK_LEAD = (
    "Le Col.-Maj. Daouda Sagara a été installé jeudi à la tête de la 7e région militaire, lors "
    "d’une cérémonie au camp de Kidal. Il succède au Col. Ismaël Touré."
)
QUOTED = (
    "Le président de la commission a déclaré devant la presse que « les élections se tiendront "
    "à la date prévue » et que le fichier électoral serait révisé dans les quarante-cinq jours "
    "qui viennent, avec l’appui des partenaires techniques et financiers du pays, sans délai."
)

TEASER_CASES = [
    pytest.param([], 400, "", id="empty"),
    pytest.param(["", "   "], 400, "", id="blank-paragraphs"),
    pytest.param([LEAD], 0, "", id="zero-budget"),
    pytest.param([LEAD], 400, LEAD, id="whole-lead-fits"),
    pytest.param([LEAD], len(LEAD), LEAD, id="exact-fit"),
    pytest.param([LEAD], len(S1) + len(S2) + 1, f"{S1} {S2}", id="two-sentences-fit"),
    pytest.param([LEAD], len(S1) + 5, S1, id="one-sentence-fits"),
    pytest.param([LEAD], 150, f"{S1} {S2}", id="abbreviations-do-not-end-sentences"),
    pytest.param(
        [f"{S2} {S3}"],
        len(S2) + 40,
        S2,
        id="no-cut-inside-guillemets",
    ),
    pytest.param(
        ["Le PIB progresse de 3,5 % et la dette atteint 1.200 milliards. La BCEAO reste prudente."],
        70,
        "Le PIB progresse de 3,5 % et la dette atteint 1.200 milliards.",
        id="decimals-do-not-end-sentences",
    ),
    pytest.param(["Trop court.", LEAD], 400, LEAD, id="short-first-paragraph-skipped"),
    pytest.param(
        ["Le ministre de la Santé en visite à Kayes et à Nioro", LEAD],
        400,
        LEAD,
        id="kicker-without-full-stop-skipped",
    ),
    pytest.param(["Court.", "Bref."], 400, "Court.", id="only-short-paragraphs"),
    pytest.param(
        [LEAD, "Un second paragraphe qui ne doit pas venir."], 400, LEAD, id="only-the-lead"
    ),
    # whole sentences (issue 10)
    pytest.param([RANK_LEAD], 120, RANK_LEAD.split(" Il ")[0], id="rank-does-not-end-the-lead"),
    pytest.param([LONG_SENTENCE], 200, LONG_SENTENCE, id="long-sentence-runs-to-end-whole"),
    pytest.param(
        [f"{LONG_SENTENCE} {S2}"], 200, LONG_SENTENCE, id="overrun-keeps-one-sentence-only"
    ),
    pytest.param([QUOTED], 100, QUOTED[: QUOTED.index("»") + 1] + "…", id="cut-after-guillemet"),
    pytest.param(
        [f"{S1} Si les contentieux ont pesé, les militaires, comme leurs vOlivier Vallée"],
        400,
        S1,
        id="lead-cut-by-the-source-ends-at-its-last-sentence",
    ),
]


@pytest.mark.parametrize(("paragraphs", "budget", "expected"), TEASER_CASES)
def test_make_teaser(paragraphs: list[str], budget: int, expected: str) -> None:
    assert make_teaser(paragraphs, budget) == expected


@pytest.mark.parametrize("budget", [40, 100, 150, 171])
def test_long_first_sentence_is_cut_at_a_word(budget: int) -> None:
    teaser = make_teaser([LONG_SENTENCE], budget)
    assert teaser.endswith("…")
    assert len(teaser) <= budget
    body = teaser[:-1]
    assert LONG_SENTENCE.startswith(body)
    next_char = LONG_SENTENCE[len(body)]
    assert next_char in " ,", f"cut inside a word: {teaser!r}"
    assert not body.endswith((" ", ",")), f"trailing punctuation before the ellipsis: {teaser!r}"


def test_cut_at_word_hard_cut_for_one_huge_word() -> None:
    assert cut_at_word("x" * 50, 10) == "x" * 9 + "…"
    assert cut_at_word("court", 10) == "court"


# ---------------------------------------------------------------------------------------------
# article_teaser
# ---------------------------------------------------------------------------------------------


def article(content: str = "", summary: str = "", title: str = "Titre de l’article") -> Article:
    return Article(
        feed_id="demo",
        key="k",
        guid="g",
        url="https://sahel-actu.example/a/",
        canonical_url="https://sahel-actu.example/a",
        title=title,
        published=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        content_html=content,
        summary_html=summary,
    )


ARTICLE_CASES = [
    pytest.param(
        article(
            content=(
                "<p>Suivez-nous sur Facebook pour ne rien rater de l&#8217;actualité malienne</p>"
                "<p>Titre de l’article</p>"
                f"<p>Sahel-Actu &#8211; {S1} {S2}</p><p>Source : AMAP</p>"
            )
        ),
        f"{S1} {S2}",
        id="content-cleaned",
    ),
    pytest.param(article(summary=f"<p>{S1}</p>"), S1, id="summary-when-no-content"),
    pytest.param(
        article(content="<p>Par Sahel-Actu</p><p>12/05/2026</p>", summary=f"<p>{S2}</p>"),
        S2,
        id="summary-when-content-is-only-boilerplate",
    ),
    pytest.param(
        article(
            content="<p>Suivez-nous sur Facebook pour ne rien rater de l'actualité malienne</p>"
            "<p>Titre de l’article</p><p>Par Sahel-Actu</p>"
            "<p>NB : Toute reproduction est interdite.</p>"
        ),
        "",
        id="only-boilerplate-gives-empty",
    ),
    pytest.param(article(), "", id="no-text-at-all"),
    pytest.param(
        article(
            summary=(
                "<p>À compter du 1er décembre, le trajet coûtera 225 F CFA et les usagers "
                "protestent"
                " [&#8230;]</p><p>L&#8217;article <a href='x'>Titre</a> est apparu en premier sur "
                "<a href='y'>Sahel-Actu</a>.</p>"
            )
        ),
        "À compter du 1er décembre, le trajet coûtera 225 F CFA et les usagers protestent…",
        id="excerpt-with-footer",
    ),
]


@pytest.mark.parametrize(("item", "expected"), ARTICLE_CASES)
def test_article_teaser(item: Article, expected: str) -> None:
    assert article_teaser(item, 400, site_name="Sahel-Actu") == expected


def test_article_teaser_extra_patterns() -> None:
    sponsor = "Cette rubrique vous est proposée par notre partenaire, la société Kanaga Conseil."
    item = article(content=f"<p>{sponsor}</p><p>{S1}</p>")
    assert article_teaser(item, 400) == sponsor
    assert article_teaser(item, 400, extra_patterns=[r"^Cette rubrique vous est propos"]) == S1


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("", []),
        ("Il a dit « oui » puis « non ».", [(9, 15), (22, 28)]),
        ("« a “ b » c ”", [(0, 8)]),  # a closing mark closes what was opened after its opener
        ("“ « ” »", [(0, 4)]),
        ("» « ”", []),  # closers without an opener
        ('x "a" y "b', [(2, 4)]),  # straight quotes in pairs, the odd one left
    ],
)
def test_quote_spans(text: str, spans: list[tuple[int, int]]) -> None:
    assert quote_spans(text) == spans
