"""Is a changed article worth an edit, and which call edits it on each platform."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.delivery.corrections import (
    EditPlan,
    Version,
    beyond_typo,
    changes,
    edit_distance,
    edit_plan,
    same_image,
)
from bot.models import ChannelType
from tests.builders import local

LEAD = (
    "Le ministre de l'Éducation nationale, M. Amadou Touré, a annoncé lundi à Bamako le "
    "recrutement de 4 500 enseignants pour la rentrée de janvier. Les syndicats saluent une "
    "mesure attendue depuis trois ans."
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "abc", 0),
        ("enseignats", "enseignants", 1),
        ("Bamko", "Bamako", 1),
        ("hier", "lundi", 5),
    ],
)
def test_edit_distance(a, b, distance) -> None:
    assert edit_distance(a, b) == distance == edit_distance(b, a)


@pytest.mark.parametrize(
    ("new", "worth"),
    [
        (LEAD, False),
        (LEAD.replace("enseignants", "enseignats"), False),  # a typo fixed (or made)
        (LEAD.replace("Bamako", "Bamko"), False),
        (LEAD.replace("l'Éducation", "l’Éducation"), False),  # quote style
        (LEAD.replace("  ", " ").replace(" le ", "  le "), False),  # spacing
        (LEAD.replace("depuis trois", "depuis  trois"), False),
        (LEAD.replace("rentrée", "rentree"), False),  # an accent
        (LEAD.replace("recrutement", "recru tement"), False),  # a word split by mistake
        (LEAD.replace("4 500", "5 400"), True),  # a figure is never a typo
        (LEAD.replace("lundi", "mardi"), True),  # another word
        (LEAD.replace("a annoncé", "n'a pas annoncé"), True),  # words added
        (LEAD.replace(" Les syndicats saluent une mesure attendue depuis trois ans.", ""), True),
        (LEAD.replace("saluent", "dénoncent"), True),
    ],
)
def test_beyond_typo(new, worth) -> None:
    assert beyond_typo(LEAD, new) is worth


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        (
            "https://s.example/wp-content/uploads/2026/11/ecole-1024x576.jpg",
            "https://s.example/wp-content/uploads/2026/11/ecole-300x169.jpg",
            True,
        ),
        ("https://s.example/ecole.jpg?resize=300", "https://s.example/ecole.jpg", True),
        ("https://s.example/ecole.jpg", "https://s.example/marche.jpg", False),
        (None, "https://s.example/ecole.jpg", False),
    ],
)
def test_same_image(old, new, same) -> None:
    assert same_image(old, new) is same


POSTED = Version("Éducation : 4 500 enseignants recrutés", LEAD, "https://s.example/ecole.jpg")


@pytest.mark.parametrize(
    ("now", "found"),
    [
        (POSTED, ()),
        (Version(POSTED.title, LEAD.replace("Bamako", "Bamko"), POSTED.image), ()),
        (Version("Éducation : 5 000 enseignants recrutés", LEAD, POSTED.image), ("title",)),
        (Version(POSTED.title.replace(" : ", " :  "), LEAD, POSTED.image), ()),
        (Version(POSTED.title, LEAD.replace("lundi", "mardi"), POSTED.image), ("lead",)),
        (Version(POSTED.title, LEAD, "https://s.example/ministre.jpg"), ("image",)),
        (Version(POSTED.title, LEAD, None), ()),  # an image removed cannot be edited away
    ],
)
def test_changes(now, found) -> None:
    assert changes(POSTED, now) == found


NEW_TITLE = Version("Éducation : 5 000 enseignants recrutés", LEAD, POSTED.image)
NEW_LEAD = Version(POSTED.title, LEAD.replace("lundi", "mardi"), POSTED.image)
NEW_IMAGE = Version(POSTED.title, LEAD, "https://s.example/ministre.jpg")
TG, FB = ChannelType.TELEGRAM, ChannelType.FACEBOOK


def plan_for(now: Version, **kw: Any) -> EditPlan:
    """The edit plan for a post sent at 08:00 and an article seen changed at 09:00."""
    options: dict[str, Any] = {
        "platform": TG,
        "photo_post": False,
        "sent_at": local(3, 8),
        "at": local(3, 9),
        "window": timedelta(hours=24),
    }
    return edit_plan(POSTED, now, **{**options, **kw})


@pytest.mark.parametrize(
    ("now", "platform", "photo", "methods"),
    [
        (NEW_TITLE, TG, False, ("editMessageText",)),
        (NEW_TITLE, TG, True, ("editMessageCaption",)),
        (NEW_IMAGE, TG, True, ("editMessageMedia",)),
        (NEW_IMAGE, TG, False, ()),  # a text message cannot gain a photo
        (Version(NEW_TITLE.title, LEAD, NEW_IMAGE.image), TG, True, ("editMessageMedia",)),
        (NEW_LEAD, FB, False, ("facebook_message",)),
        (NEW_TITLE, FB, False, ("facebook_rescrape",)),  # the card shows the title
        (NEW_TITLE, FB, True, ("facebook_message",)),  # a photo post's text has the title
        (NEW_IMAGE, FB, False, ("facebook_rescrape",)),
        (NEW_IMAGE, FB, True, ()),  # Facebook ignores a new picture on a photo post
        (
            Version(NEW_TITLE.title, NEW_LEAD.lead, POSTED.image),
            FB,
            False,
            ("facebook_message", "facebook_rescrape"),
        ),
        (NEW_TITLE, ChannelType.CONSOLE, False, ()),
    ],
)
def test_edit_method_per_platform(now, platform, photo, methods) -> None:
    plan = plan_for(now, platform=platform, photo_post=photo)
    assert plan.methods == methods
    assert plan.why


@pytest.mark.parametrize(
    ("at", "window", "edits"),
    [
        (local(3, 9), timedelta(hours=24), True),
        (local(4, 8), timedelta(hours=24), True),
        (local(4, 8, 1), timedelta(hours=24), False),
        (local(3, 9), timedelta(0), False),  # update_window: 0s turns corrections off
    ],
)
def test_only_within_the_update_window(at, window, edits) -> None:
    plan = plan_for(NEW_TITLE, at=at, window=window)
    assert bool(plan.methods) is edits
    if not edits:
        assert "fenêtre" in plan.why


def test_a_typo_level_change_is_not_worth_an_edit() -> None:
    typo = Version(POSTED.title, LEAD.replace("enseignants", "enseignats"), POSTED.image)
    plan = plan_for(typo)
    assert plan.methods == () and "coquille" in plan.why
