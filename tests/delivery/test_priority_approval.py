"""Breaking news (priority rules, /urgent, pinning) and approval (who waits, timeouts, races)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.delivery.approval import (
    LATER,
    Verdict,
    after_verdict,
    callback_data,
    needs_approval,
    parse_callback,
    settle,
    timeout_verdict,
)
from bot.delivery.plan_settings import ApprovalRule, ApprovalTimeout, PrioritySettings
from bot.delivery.priority import priority_match, urgent_post, urgent_verdict
from tests.builders import article, local

RULES = PrioritySettings(
    categories=("Urgent",), keywords=("alerte", "dernière minute"), tags=("Alerte",)
)


@pytest.mark.parametrize(
    ("title", "categories", "text", "expected"),
    [
        ("Le conseil des ministres se réunit", ("Politique",), "", None),
        ("Attaque à Mopti", ("URGENT",), "", "catégorie URGENT"),
        ("Attaque à Mopti", ("alerte",), "", "étiquette alerte"),
        ("ALERTE : crue du fleuve Niger à Bamako", (), "", "mot-clé « alerte »"),
        ("Les alertes météo de la semaine", (), "", None),  # whole words only
        ("Dernière minute : le couvre-feu est levé", (), "", "mot-clé « dernière minute »"),
        (
            "Le couvre-feu est levé",
            (),
            "Derniere minute, a annoncé le gouverneur",
            "mot-clé « dernière minute »",
        ),
    ],
)
def test_priority_match(title, categories, text, expected) -> None:
    assert (
        priority_match(article(1, title=title, categories=categories), RULES, text=text) == expected
    )


def test_no_priority_rules_no_breaking_news() -> None:
    a = article(1, title="Alerte", categories=("Urgent",))
    assert priority_match(a, None) is None and priority_match(a, PrioritySettings(pin=True)) is None


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (None, "create"),
        ("queued", "promote"),
        ("pending", "promote"),
        ("covered", "promote"),
        ("failed", "promote"),
        ("skipped", "promote"),
        ("sending", "refuse"),
        ("sent", "refuse"),
        ("unknown", "refuse"),
    ],
)
def test_urgent_verdict(state, action) -> None:
    verdict = urgent_verdict(state)
    assert verdict.action == action
    if action == "refuse":
        assert verdict.message.startswith("refusé : ce canal")


@pytest.mark.parametrize(
    ("priority", "telegram", "pin", "unpin_after"),
    [
        (PrioritySettings(pin=True, pin_for=timedelta(hours=6)), True, True, timedelta(hours=6)),
        (PrioritySettings(pin=True, pin_for=None), True, True, None),
        (PrioritySettings(pin=True), False, False, None),
        (PrioritySettings(), True, False, None),
        (None, True, False, None),
    ],
)
def test_urgent_post_always_rings_and_pins_where_configured(
    priority, telegram, pin, unpin_after
) -> None:
    sent = local(3, 2)
    post = urgent_post(priority, telegram=telegram, sent_at=sent)
    assert not post.silent and post.pin is pin
    assert post.unpin_at == (sent + unpin_after if unpin_after else None)


@pytest.mark.parametrize(
    ("rule", "categories", "by_admin", "waits"),
    [
        (ApprovalRule(), ("Politique",), False, False),
        (ApprovalRule(all=True), (), False, True),
        (ApprovalRule(all=True), (), True, False),  # /urgent is an admin's own decision
        (ApprovalRule(categories=("Politique",)), ("POLITIQUE",), False, True),
        (ApprovalRule(categories=("Politique",)), ("Sport",), False, False),
    ],
)
def test_needs_approval(rule, categories, by_admin, waits) -> None:
    assert (
        needs_approval(article(1, categories=categories), rule, urgent_by_admin=by_admin) is waits
    )


def test_timeout_publishes_or_skips() -> None:
    asked = local(3, 8)
    publish = timeout_verdict(asked, ApprovalTimeout(after=timedelta(hours=2), then="publish"))
    assert (publish.answer, publish.at, after_verdict(publish)) == (
        "publish",
        local(3, 10),
        ("queued", local(3, 10)),
    )
    skip = timeout_verdict(asked, ApprovalTimeout(after=timedelta(minutes=30), then="skip"))
    assert after_verdict(skip) == ("skipped", local(3, 8, 30))


def test_after_verdict() -> None:
    at = local(3, 9)
    assert after_verdict(Verdict("later", "Awa", at)) == ("queued", at + LATER)
    assert after_verdict(Verdict("edit", "Awa", at)) == ("pending", at)


def test_two_admins_at_once_settle_on_the_first_answer() -> None:
    awa = Verdict("publish", "Awa", local(3, 9, 2))
    moussa = Verdict("skip", "Moussa", local(3, 9, 2))
    first = settle(None, awa)
    assert (
        first.applied and first.verdict == awa and first.message.startswith("✅ Publier — par Awa")
    )
    second = settle(awa, moussa)
    assert not second.applied and second.verdict == awa
    assert second.message == "Déjà décidé : ✅ Publier — par Awa à 09:02 UTC"
    # an edit is not final for the admin who is writing the new teaser
    editing = Verdict("edit", "Awa", local(3, 9, 3))
    assert settle(editing, Verdict("publish", "Awa", local(3, 9, 5))).applied
    assert not settle(editing, moussa).applied


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        ("ap:42:p", (42, "publish")),
        ("ap:42:e", (42, "edit")),
        ("ap:42:s", (42, "skip")),
        ("ap:7:l", (7, "later")),
        ("ap:42:x", None),
        ("ap:-1:p", None),
        ("ap::p", None),
        ("retry:42", None),
        ("ap:" + "9" * 40 + ":p", None),
    ],
)
def test_callback_data_round_trip(data, parsed) -> None:
    assert parse_callback(data) == parsed
    if parsed:
        assert callback_data(*parsed) == data and len(data.encode()) <= 64


def test_a_roundup_waits_when_one_of_its_articles_would() -> None:
    from bot.delivery.approval import roundup_needs_approval

    arts = [article(1, categories=("Sport",)), article(2, categories=("Politique",))]
    assert roundup_needs_approval(arts, ApprovalRule(categories=("Politique",)))
    assert not roundup_needs_approval(arts[:1], ApprovalRule(categories=("Politique",)))
    assert roundup_needs_approval(arts[:1], ApprovalRule(all=True))
