"""Slots with min_gap, max_per_day and quiet hours: the next opening, across DST, overflowing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.delivery.plan_settings import WeekSlots
from bot.delivery.slots import Pacing, Tally, first_slot, next_opening, wall_clock
from tests.builders import BAMAKO, PARIS, local

WEEKDAY = (time(7, 30), time(9, 0), time(12, 30), time(18, 0), time(21, 0))
WEEKEND = (time(9, 0), time(19, 0))
WEEK = WeekSlots(days=(WEEKDAY,) * 5 + (WEEKEND,) * 2)
QUIET = (time(0, 0), time(6, 0))

# 2026-11-02 is a Monday; 2026-11-07 a Saturday.


@pytest.mark.parametrize(
    ("due", "pacing", "tally", "expected", "reason"),
    [
        # no slots: the old pacing rules alone
        (local(2, 10), Pacing(BAMAKO), Tally(), local(2, 10), "now"),
        (local(2, 3), Pacing(BAMAKO, quiet_hours=QUIET), Tally(), local(2, 6), "quiet_end"),
        (
            local(2, 10),
            Pacing(BAMAKO, min_gap=timedelta(minutes=10)),
            Tally(local(2, 9, 55)),
            local(2, 10, 5),
            "gap",
        ),
        (
            local(2, 10),
            Pacing(BAMAKO, max_per_day=2, quiet_hours=QUIET),
            Tally(local(2, 9), local(2, 9).date(), 2),
            local(3, 6),
            "daily_cap",
        ),
        # slots: the next one at or after the due time
        (local(2, 10), Pacing(BAMAKO, slots=WEEK), Tally(), local(2, 12, 30), "slot"),
        (local(2, 12, 30), Pacing(BAMAKO, slots=WEEK), Tally(), local(2, 12, 30), "slot"),
        (local(2, 22), Pacing(BAMAKO, slots=WEEK), Tally(), local(3, 7, 30), "slot"),
        (local(6, 22), Pacing(BAMAKO, slots=WEEK), Tally(), local(7, 9), "slot"),  # Saturday
        # a slot already used by the last post: overflow to the next one
        (local(2, 10), Pacing(BAMAKO, slots=WEEK), Tally(local(2, 12, 30)), local(2, 18), "slot"),
        (local(2, 10), Pacing(BAMAKO, slots=WEEK), Tally(local(2, 12, 31)), local(2, 18), "slot"),
        # the gap closes a slot: the post takes the next
        (
            local(2, 12),
            Pacing(BAMAKO, slots=WEEK, min_gap=timedelta(hours=1)),
            Tally(local(2, 11, 45)),
            local(2, 18),
            "slot",
        ),
        # quiet hours before the first slot: the first slot of the morning
        (
            local(2, 1),
            Pacing(BAMAKO, slots=WEEK, quiet_hours=QUIET),
            Tally(),
            local(2, 7, 30),
            "slot",
        ),
        # the daily cap reached: tomorrow's first slot
        (
            local(2, 10),
            Pacing(BAMAKO, slots=WEEK, max_per_day=3, quiet_hours=QUIET),
            Tally(local(2, 9), local(2, 9).date(), 3),
            local(3, 7, 30),
            "slot",
        ),
        # yesterday's count does not hold today back
        (
            local(3, 7),
            Pacing(BAMAKO, slots=WEEK, max_per_day=3),
            Tally(local(2, 21), local(2, 21).date(), 3),
            local(3, 7, 30),
            "slot",
        ),
    ],
)
def test_next_opening(due, pacing, tally, expected, reason) -> None:
    opening = next_opening(due, pacing, tally)
    assert (opening.at, opening.reason) == (expected, reason)


@pytest.mark.parametrize(
    ("day", "month", "utc_hour"),
    [
        (24, 10, 7),  # Saturday before the change: 09:00 CEST = 07:00 UTC
        (25, 10, 8),  # Sunday of the change (03:00 → 02:00): 09:00 CET = 08:00 UTC
        (28, 3, 8),  # Saturday before spring: 09:00 CET
        (29, 3, 7),  # Sunday of the change (02:00 → 03:00): 09:00 CEST
    ],
)
def test_a_slot_keeps_its_wall_clock_time_across_dst(day, month, utc_hour) -> None:
    pacing = Pacing(PARIS, slots=WEEK)
    due = datetime(2026, month, day, 0, 30, tzinfo=PARIS).astimezone(UTC)
    opening = next_opening(due, pacing, Tally())
    assert opening.at == datetime(2026, month, day, utc_hour, 0, tzinfo=UTC)
    assert opening.at.astimezone(PARIS).time() == time(9, 0)


def test_a_week_of_slots_in_paris_then_bamako_keeps_the_wall_clock() -> None:
    for tz in (PARIS, BAMAKO):
        pacing = Pacing(tz, slots=WEEK)
        tally, at = Tally(), datetime(2026, 10, 22, tzinfo=tz).astimezone(UTC)
        times = []
        for _ in range(30):
            opening = next_opening(at, pacing, tally)
            times.append(opening.at.astimezone(tz))
            tally = tally.after_post(opening.at, tz)
        assert {t.time() for t in times} <= set(WEEKDAY) | set(WEEKEND)
        assert len(set(times)) == 30  # one post per slot, each slot once


def test_slot_in_the_spring_gap_and_the_autumn_repeat() -> None:
    night = WeekSlots(days=((time(2, 30),),) * 7)
    # 2026-03-29 02:30 does not exist in Paris: it is taken one hour later, 03:30 CEST
    spring = wall_clock(datetime(2026, 3, 29).date(), time(2, 30), PARIS)
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 2026-10-25 02:30 happens twice: the first one (CEST)
    autumn = wall_clock(datetime(2026, 10, 25).date(), time(2, 30), PARIS)
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    found = first_slot(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), night, PARIS)
    assert found == (autumn, time(2, 30))


def test_tally_counts_by_local_day() -> None:
    t = Tally().after_post(local(2, 23, 30, tz=PARIS), PARIS)
    t = t.after_post(local(3, 0, 10, tz=PARIS), PARIS)
    assert (t.day, t.count) == (datetime(2026, 11, 3).date(), 1)
    t = t.after_post(local(3, 8, tz=PARIS), PARIS)
    assert t.count_on(datetime(2026, 11, 3).date()) == 2
    assert t.count_on(datetime(2026, 11, 4).date()) == 0
