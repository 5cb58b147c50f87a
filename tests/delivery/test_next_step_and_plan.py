"""The schedule played with a fake clock, as the outbox will play it, and `relais plan` from the
same decisions: the issue's scenarios at the pure level."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import FakeClock
from bot.delivery.next_post import next_step
from bot.delivery.plan import PendingApproval, Why, merge_plans, plan_channel, plan_record
from bot.delivery.queue_order import Waiting
from bot.delivery.slots import Tally
from bot.settings import ChannelSettings
from tests.builders import BAMAKO, channel, local, overnight, waiting

FIVE_SLOTS = {
    "mon-fri": ["07:30", "09:00", "12:30", "18:00", "21:00"],
    "sat-sun": ["09:00", "19:00"],
}
HOURLY = {"mon-sun": [f"{h:02d}:00" for h in range(7, 22)]}  # 15 slots, 07:00 to 21:00


@dataclass
class Sent:
    at: datetime
    kind: str
    deliveries: list[int | None]


def play(
    c: ChannelSettings,
    items: list[Waiting],
    start: datetime,
    until: datetime,
    tz: ZoneInfo = BAMAKO,
) -> tuple[list[Sent], list[int | None]]:
    """Apply `next_step` like the outbox: send, skip or sleep on a fake clock, until `until`."""
    clock, queue, tally, last_roundup = FakeClock(start), list(items), Tally(), None
    sent: list[Sent] = []
    skipped: list[int | None] = []
    for _ in range(500):
        now = clock.now()
        step = next_step(now, queue, channel=c, tz=tz, tally=tally, last_roundup=last_roundup)
        if step.kind == "idle" or step.at > until:
            break
        if step.kind == "wait":
            assert step.at > now
            clock.advance(step.at - now)
            continue
        queue = [i for i in queue if i not in step.items]
        if step.kind == "skip":
            skipped += [i.delivery for i in step.items]
            continue
        sent.append(Sent(now, step.kind, [i.delivery for i in step.items]))
        tally = tally.after_post(now, tz)
        if step.kind == "roundup":
            last_roundup = step.roundup_of
    return sent, skipped


def night_channel(**kw: Any) -> ChannelSettings:
    return channel(quiet_hours="00:00-06:00", **kw)


def test_15_articles_overnight_become_one_0700_roundup_and_no_single_post() -> None:
    c = night_channel(slots=FIVE_SLOTS, roundup={"at": ["07:00"], "min_items": 3, "max_items": 15})
    items = overnight(15)
    sent, skipped = play(c, items, local(3, 0), local(4, 0))
    assert [(s.at, s.kind) for s in sent] == [(local(3, 7), "roundup")]
    assert sorted(sent[0].deliveries) == list(range(1, 16)) and skipped == []


def test_without_a_roundup_the_15_are_spread_over_the_slots_newest_first() -> None:
    c = night_channel(slots=HOURLY, order="newest")
    sent, _ = play(c, overnight(15), local(3, 0), local(4, 0))
    assert [s.at for s in sent] == [local(3, h) for h in range(7, 22)]
    assert [s.deliveries[0] for s in sent] == list(range(15, 0, -1))
    assert {s.kind for s in sent} == {"post"}


def test_overflow_moves_to_the_next_slots_and_days_never_dropped() -> None:
    c = night_channel(slots=FIVE_SLOTS)
    sent, skipped = play(c, overnight(12), local(3, 0), local(10, 0))  # Tuesday 3 November
    days = [s.at.astimezone(BAMAKO).date().day for s in sent]
    assert days == [3] * 5 + [4] * 5 + [5] * 2
    assert sorted(d for s in sent for d in s.deliveries) == list(range(1, 13)) and skipped == []


def test_more_than_max_items_the_rest_go_out_alone_in_the_slots() -> None:
    c = night_channel(slots=FIVE_SLOTS, roundup={"at": ["07:00"], "max_items": 10})
    sent, _ = play(c, overnight(15), local(3, 0), local(3, 23, 59))
    assert sent[0].kind == "roundup" and sent[0].deliveries == list(range(15, 5, -1))
    assert [(s.at, s.deliveries) for s in sent[1:]] == [
        (local(3, 7, 30), [5]),
        (local(3, 9), [4]),
        (local(3, 12, 30), [3]),
        (local(3, 18), [2]),
        (local(3, 21), [1]),
    ]


def test_fewer_than_min_items_fall_back_to_single_posts_in_slots() -> None:
    c = night_channel(slots=FIVE_SLOTS, roundup={"at": ["07:00"], "min_items": 3})
    sent, _ = play(c, overnight(2), local(3, 0), local(4, 0))
    assert [(s.at, s.kind, s.deliveries) for s in sent] == [
        (local(3, 7, 30), "post", [2]),
        (local(3, 9), "post", [1]),
    ]


def test_without_slots_a_roundup_still_holds_the_night_until_0700() -> None:
    c = night_channel(min_gap="2m", roundup={"at": ["07:00"]})
    items = [*overnight(4), waiting(50, local(3, 6, 30))]
    sent, _ = play(c, items, local(3, 0), local(4, 0))
    assert [(s.at, s.kind, len(s.deliveries)) for s in sent] == [
        (local(3, 6, 30), "post", 1),
        (local(3, 7), "roundup", 4),
    ]


def test_a_roundup_waits_for_the_gap() -> None:
    c = night_channel(min_gap="10m", roundup={"at": ["07:00"]})
    items = [*overnight(3), waiting(50, local(3, 6, 55))]
    sent, _ = play(c, items, local(3, 0), local(4, 0))
    assert [(s.at, s.kind) for s in sent] == [
        (local(3, 6, 55), "post"),
        (local(3, 7, 5), "roundup"),
    ]


def test_urgent_skips_quiet_hours_slots_gap_and_cap() -> None:
    c = night_channel(slots=FIVE_SLOTS, min_gap="1h", max_per_day=1, roundup={"at": ["07:00"]})
    items = [
        *overnight(3),
        waiting(99, local(3, 2, 15), urgent=True),
        waiting(98, local(3, 2, 20), urgent=True),
    ]
    sent, _ = play(c, items, local(3, 0), local(3, 8))
    assert [(s.at, s.kind, s.deliveries) for s in sent][:2] == [
        (local(3, 2, 15), "urgent", [99]),
        (local(3, 2, 20), "urgent", [98]),
    ]
    assert sent[2].kind == "roundup" and sent[2].at == local(3, 7)


def test_stale_posts_are_skipped_when_their_turn_comes() -> None:
    c = night_channel(slots=FIVE_SLOTS, max_age="6h")
    fresh = waiting(1, local(3, 5), published=local(3, 5))
    ageing = waiting(2, local(3, 4), published=local(3, 1, 20))  # 6 h old at 07:20
    sent, skipped = play(c, [fresh, ageing], local(3, 0), local(4, 0))
    assert skipped == [2] and [(s.at, s.deliveries) for s in sent] == [(local(3, 7, 30), [1])]


def test_dst_keeps_the_slots_wall_clock_time_in_the_played_schedule() -> None:
    from tests.builders import PARIS

    c = channel(slots={"mon-sun": ["09:00"]})
    items = [waiting(i, local(24, 10, month=10, tz=PARIS)) for i in range(1, 4)]
    sent, _ = play(
        c, items, local(24, 10, month=10, tz=PARIS), local(28, 0, month=10, tz=PARIS), PARIS
    )
    assert [s.at.astimezone(PARIS).strftime("%d %H:%M %Z") for s in sent] == [
        "25 09:00 CET",
        "26 09:00 CET",
        "27 09:00 CET",
    ]
    assert [s.at.hour for s in sent] == [8, 8, 8]


# ---- relais plan --------------------------------------------------------------------------------


def test_the_plan_is_the_played_schedule() -> None:
    c = night_channel(slots=FIVE_SLOTS, roundup={"at": ["07:00"], "max_items": 10})
    items = overnight(13)
    played, _ = play(c, items, local(3, 0), local(4, 0))
    plan = plan_channel(local(3, 0), hours=24, channel=c, tz=BAMAKO, items=items, tally=Tally())
    assert [(p.due, p.kind) for p in plan] == [(s.at, s.kind) for s in played]
    assert [[a.key for a in p.articles] for p in plan] == [
        [next(i.article.key for i in items if i.delivery == d) for d in s.deliveries]
        for s in played
    ]
    assert [p.why.text("fr") for p in plan] == [
        "récapitulatif de 07:00",
        "créneau de 07:30",
        "créneau de 09:00",
        "créneau de 12:30",
    ]
    assert plan[0].delivery is None and plan[1].delivery == 3


def test_the_plan_without_slots_says_why_each_post_waits() -> None:
    c = night_channel(min_gap="30m", max_per_day=3)
    items = [
        waiting(1, local(3, 2)),
        waiting(2, local(3, 3)),
        waiting(3, local(3, 9)),
        waiting(4, local(3, 9)),
    ]
    plan = plan_channel(
        local(3, 2, 30), hours=48, channel=c, tz=BAMAKO, items=items, tally=Tally(local(2, 23))
    )
    assert [(p.due, p.why.text("fr")) for p in plan] == [
        (local(3, 6), "fin des heures calmes"),
        (local(3, 6, 30), "après l'intervalle minimal"),
        (local(3, 9), "dès que possible"),
        (local(4, 6), "limite quotidienne atteinte : le lendemain"),
    ]
    assert plan[3].why.text("en") == "daily cap reached: next day"


def test_the_plan_lists_pending_approvals_and_stops_at_the_window() -> None:
    c = channel(slots=FIVE_SLOTS, approval=True, approval_timeout={"after": "2h"})
    asked = waiting(7, local(3, 8))
    pending = [PendingApproval(7, asked.article, local(3, 8))]
    items = [waiting(i, local(3, 8)) for i in range(1, 6)]
    plan = plan_channel(
        local(3, 8), hours=6, channel=c, tz=BAMAKO, items=items, tally=Tally(), pending=pending
    )
    assert [(p.due, p.state, p.why.text("fr")) for p in plan] == [
        (local(3, 9), "queued", "créneau de 09:00"),
        (local(3, 10), "pending", "en attente d'approbation"),
        (local(3, 12, 30), "queued", "créneau de 12:30"),
    ]


def test_plan_json_lines_follow_the_contract() -> None:
    c = night_channel(roundup={"at": ["07:00"]})
    items = overnight(3)
    other = plan_channel(
        local(3, 0),
        hours=24,
        channel=channel(id="fb"),
        tz=BAMAKO,
        items=[waiting(9, local(3, 7))],
        tally=Tally(),
    )
    plan = merge_plans(
        [
            plan_channel(local(3, 0), hours=24, channel=c, tz=BAMAKO, items=items, tally=Tally()),
            other,
        ]
    )
    records = [json.loads(json.dumps(plan_record(p, language="fr", tz=BAMAKO))) for p in plan]
    assert [r["channel"] for r in records] == ["fb", "tg"]
    roundup = records[1]
    assert set(roundup) == {"channel", "due", "kind", "state", "delivery", "articles", "why"}
    assert (
        roundup["kind"] == "roundup"
        and roundup["state"] == "queued"
        and roundup["delivery"] is None
    )
    assert (
        roundup["due"] == "2026-11-03T07:00:00+00:00" and roundup["why"] == "récapitulatif de 07:00"
    )
    assert [set(a) for a in roundup["articles"]] == [{"id", "title", "url"}] * 3
    assert datetime.fromisoformat(roundup["due"]).tzinfo is not None


def test_why_texts_in_both_languages() -> None:
    from datetime import time

    assert Why("slot", time(12, 30)).text("fr") == "créneau de 12:30"
    assert Why("slot", time(12, 30)).text("en") == "12:30 slot"
    assert Why("roundup", time(7)).text("en") == "07:00 roundup"
    assert Why("pending").text("fr") == "en attente d'approbation"
    assert Why("quiet_end").text("fr") == "fin des heures calmes"


def test_plan_lines_for_the_manager() -> None:
    from bot.delivery.plan import plan_line

    c = night_channel(slots=FIVE_SLOTS, roundup={"at": ["07:00"]})
    items = [*overnight(3), waiting(9, local(3, 7, 10), title="Sikasso : la foire agricole ouvre")]
    plan = plan_channel(local(3, 0), hours=24, channel=c, tz=BAMAKO, items=items, tally=Tally())
    assert [plan_line(p, language="fr", tz=BAMAKO) for p in plan] == [
        "03/11 07:00  tg  récapitulatif (3) — récapitulatif de 07:00",
        "03/11 07:30  tg  publication : Sikasso : la foire agricole ouvre — créneau de 07:30",
    ]
    assert plan_line(plan[0], language="en", tz=BAMAKO).endswith("roundup (3) — 07:00 roundup")
