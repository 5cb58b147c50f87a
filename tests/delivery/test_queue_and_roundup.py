"""Which waiting post takes the next opening, and which piled-up posts a roundup gathers."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.delivery.queue_order import STALE_AT_SLOT, pick_next
from bot.delivery.roundup import RoundupRules, covers, due_roundup, held_until
from bot.settings import settings_from_mapping
from tests.builders import BAMAKO, channel, local, overnight, waiting


def roundup_rules(**kw) -> RoundupRules:
    c = channel(quiet_hours=kw.pop("quiet", "00:00-06:00"), roundup={"at": ["07:00"], **kw})
    assert c.roundup is not None
    return RoundupRules(c.roundup, BAMAKO, c.quiet_hours, c.order)


def test_newest_or_oldest_takes_the_slot() -> None:
    items = [
        waiting(1, local(2, 8), published=local(2, 7)),
        waiting(2, local(2, 9), published=local(2, 9)),
        waiting(3, local(2, 10), published=local(2, 8)),
        waiting(4, local(2, 13), published=local(2, 13)),  # not due yet at 12:30
    ]
    at = local(2, 12, 30)
    assert pick_next(items, at, channel(order="newest")).take.delivery == 2
    assert pick_next(items, at, channel(order="oldest")).take.delivery == 1


def test_max_age_is_checked_again_when_the_slot_comes() -> None:
    c = channel(max_age="12h")
    items = [
        waiting(1, local(2, 8), published=local(1, 22)),  # 11 h old at 9:00, 14.5 h at 12:30
        waiting(2, local(2, 9), published=local(2, 6)),
    ]
    queued_then = pick_next(items, local(2, 9), c)
    assert queued_then.take.delivery == 2 and queued_then.stale == ()
    pick = pick_next(items, local(2, 12, 30), channel(max_age="12h", order="oldest"))
    assert pick.take.delivery == 2 and [s.delivery for s in pick.stale] == [1]
    pick = pick_next(items, local(3, 12, 30), c)
    assert pick.take is None and len(pick.stale) == 2
    assert "max_age" in STALE_AT_SLOT


@pytest.mark.parametrize(
    ("due", "quiet", "after_quiet", "covered"),
    [
        (local(3, 0, 10), "00:00-06:00", True, True),  # during quiet hours
        (local(3, 5, 59), "00:00-06:00", True, True),
        (local(3, 6, 0), "00:00-06:00", True, False),  # after they ended: a normal post
        (local(3, 6, 30), "00:00-06:00", True, False),
        (local(3, 0, 10), "00:00-06:00", False, False),  # after_quiet off
        (local(2, 23, 0), "22:00-06:00", True, True),  # quiet since yesterday 22:00
        (local(2, 21, 0), "22:00-06:00", False, True),  # left over from yesterday (cap, slots)
        (local(2, 21, 0), "00:00-06:00", True, True),
        (local(3, 7, 0), "00:00-06:00", True, False),  # due at the roundup itself
    ],
)
def test_what_the_0700_roundup_covers(due, quiet, after_quiet, covered) -> None:
    rules = roundup_rules(quiet=quiet, after_quiet=after_quiet)
    assert covers(waiting(1, due), local(3, 7), rules) is covered


def test_a_later_roundup_does_not_gather_the_night_again() -> None:
    c = channel(quiet_hours="00:00-06:00", roundup={"at": ["07:00", "13:00"]})
    rules = RoundupRules(c.roundup, BAMAKO, c.quiet_hours)
    night, left_over = waiting(1, local(3, 2)), waiting(2, local(2, 21))
    assert not covers(night, local(3, 13), rules) and not covers(left_over, local(3, 13), rules)


def test_night_posts_wait_for_the_roundup_not_for_the_end_of_quiet_hours() -> None:
    rules = roundup_rules()
    item = waiting(1, local(3, 2))
    assert held_until(item, local(3, 6), rules, None) == local(3, 7)
    assert held_until(item, local(3, 7), rules, None) is None  # its time came
    assert held_until(item, local(3, 6), rules, local(3, 7)) is None  # already made
    assert held_until(waiting(2, local(3, 6, 30)), local(3, 6, 40), rules, None) is None


@pytest.mark.parametrize(
    ("count", "min_items", "max_items", "covered"),
    [(15, 3, 15, 15), (15, 3, 10, 10), (2, 3, 10, 0), (3, 3, 10, 3)],
)
def test_roundup_sizes(count, min_items, max_items, covered) -> None:
    rules = roundup_rules(min_items=min_items, max_items=max_items)
    items = overnight(count)
    gathering = due_roundup(items, local(3, 7), rules, None)
    if not covered:
        assert gathering is None
        return
    assert gathering is not None and gathering.at == local(3, 7)
    assert len(gathering.covered) == covered
    newest = sorted(items, key=lambda i: i.due, reverse=True)[:covered]
    assert [i.delivery for i in gathering.covered] == [i.delivery for i in newest]


def test_a_roundup_is_made_once_and_late_if_the_service_was_down() -> None:
    rules = roundup_rules()
    items = overnight(5)
    assert due_roundup(items, local(3, 6, 59), rules, None) is None
    late = due_roundup(items, local(3, 9, 15), rules, None)
    assert late is not None and late.at == local(3, 7)
    assert due_roundup(items, local(3, 9, 15), rules, local(3, 7)) is None


def test_dst_roundup_in_paris_keeps_its_local_time() -> None:
    from tests.builders import PARIS

    c = channel(quiet_hours="00:00-06:00", roundup={"at": ["07:00"]})
    rules = RoundupRules(c.roundup, PARIS, c.quiet_hours)
    items = overnight(4, day=25, tz=PARIS)
    items = [waiting(i.delivery, i.due.replace(month=10)) for i in items]
    gathering = due_roundup(items, local(25, 8, month=10, tz=PARIS), rules, None)
    assert gathering is not None and gathering.at.astimezone(PARIS).time() == time(7, 0)
    assert gathering.at.utcoffset() == timedelta(0)


def test_settings_from_mapping_keeps_roundup_times_sorted() -> None:
    data = {"channels": [{"id": "c", "type": "console", "roundup": {"at": ["13:00", "07:00"]}}]}
    assert settings_from_mapping(data, env={}).channels[0].roundup.times == (time(7), time(13))
