"""The storage contract: every public method of `Storage` (and so of `ReaderStore`, the same
parts) runs on SQLite and on PostgreSQL, in one walk through a day of Relais."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.delivery.approval import Verdict
from bot.delivery.corrections import Edit, EditPlan, Version, version_key
from bot.delivery.next_post import Step
from bot.models import (
    Claimed,
    Delivery,
    DeliveryState,
    EditClaim,
    FeedState,
    Outcome,
    PublishResult,
    SkipReason,
    Start,
)
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from tests.builders import BASE, article, claim_due
from tests.builders import new_article as new

S = DeliveryState
A1, A2, A3 = article(1, categories=("Sécurité",)), article(2), article(3)
GAP = timedelta(seconds=1)


def fold(text: str) -> str:
    return text.casefold().replace("é", "e")


@dataclass
class Walk:
    """What the steps pass to each other."""

    store: Storage
    claimed: list[Delivery] = field(default_factory=list)
    broadcast: list[Claimed] = field(default_factory=list)
    digest: list[Claimed] = field(default_factory=list)
    roundup: Any = None


def _record(w: Walk) -> None:
    state = FeedState("site", "https://sahel-actu.example/feed", baselined=True)
    keys = w.store.record(
        [new(A1, ["out", "fb"]), new(A2, ["out"]), new(A3, ["out"], SkipReason.BASELINE)],
        BASE,
        feed_state=state,
        sighted=[A1.key, A2.key, A3.key],
    )
    assert keys == [A1.key, A2.key, A3.key]
    assert w.store.record([], BASE, more=[(A2.key, "fb", SkipReason.TOO_OLD)]) == []


def _claim(w: Walk) -> None:
    w.claimed, later = claim_due(w.store, "out", BASE, n=2, worker="w1")
    assert [d.article_key for d in w.claimed] == [A1.key, A2.key] and later is None
    assert all(d.state is S.SENDING and d.worker == "w1" for d in w.claimed)


def _finish(w: Walk) -> None:
    sent, failing = w.claimed
    assert w.store.finish(sent, BASE, state=S.SENT, result=PublishResult("m1", "https://x/1"))
    assert w.store.finish(failing, BASE, state=S.FAILED, error="chat not found")
    assert not w.store.finish(sent, BASE, state=S.UNKNOWN)  # no longer this claim


def _claim_broadcasts(w: Walk) -> None:
    claim = w.store.claim_broadcasts(BASE, limit=10, worker="w1", chat_gap=GAP)
    w.broadcast = claim.rows
    assert [(r.user_id, r.article_key, r.worker) for r in claim.rows] == [(7, A1.key, "w1")]


def _finish_broadcasts(w: Walk) -> None:
    [row] = w.broadcast
    sent = Outcome(S.SENT, result=PublishResult("99"))
    assert w.store.finish_broadcasts([(row, sent)], BASE) == []
    assert w.store.finish_broadcasts([(row, sent)], BASE) == [row.id]


def _claim_digests(w: Walk) -> None:
    w.digest = w.store.claim_digests(BASE + timedelta(hours=1), limit=10, worker="w1")
    assert [(r.user_id, r.day) for r in w.digest] == [(8, "2026-11-02")]


def _finish_digests(w: Walk) -> None:
    [row] = w.digest
    done = (row, Outcome(S.SKIPPED, SkipReason.NOTHING_NEW), 0)
    assert w.store.finish_digests([done], BASE) == []


def _recover_and_settle(w: Walk) -> None:
    """A worker dies while sending: its row turns unknown, an admin retries it, it goes."""
    assert w.store.set_paused("fb", False, None, BASE, by="auth")
    [lost], _ = claim_due(w.store, "fb", BASE, n=1, worker="w2")
    assert w.store.recover_sending(BASE) == [lost.id]
    assert w.store.mark_queued(lost.id, BASE, "/retry", BASE)
    [again], _ = claim_due(w.store, "fb", BASE, n=1, worker="w3")
    assert (again.id, again.attempts) == (lost.id, 2)
    assert w.store.finish(again, BASE, state=S.SENT, result=PublishResult("1_2"))


def _roundup(w: Walk) -> None:
    """A roundup is made with the posts it covers in one claim; a failure gives them back."""
    w.store.record([new(article(4), ["out"]), new(article(5), ["out"])], BASE)
    queued = [d for d in w.store.deliveries(channel_id="out") if d.state is S.QUEUED]

    def decide(facts):
        return Step("roundup", BASE, facts.items, "roundup", None, BASE)

    turn = w.store.claim("out", BASE, day_start=BASE, decide=decide, worker="w1")
    assert turn.roundup is not None and set(turn.roundup.covered) == {d.id for d in queued}
    covered = {
        d.state for d in w.store.deliveries(channel_id="out") if d.id in turn.roundup.covered
    }
    assert covered == {S.COVERED}
    w.roundup = turn.roundup


def _finish_roundup(w: Walk) -> None:
    assert w.store.finish_roundup(w.roundup, BASE, Outcome(S.FAILED, "chat not found"))
    back = {d.state for d in w.store.deliveries(channel_id="out") if d.id in w.roundup.covered}
    assert back == {S.QUEUED}


def _approvals(w: Walk) -> None:
    """A pending post: asked once, an admin's edit, the teaser, and a second answer refused."""
    w.store.record([new(article(6), ["out"], starts={"out": Start(pending=True)})], BASE)
    [pending] = w.store.pending_to_ask("out")
    assert w.store.mark_asked(pending.id, BASE) and not w.store.mark_asked(pending.id, BASE)
    w.store.set_approval_messages(pending.id, [(11, 7), (12, 9)])
    assert w.store.approval_messages(pending.id) == [(11, 7), (12, 9)]
    edit = Verdict("edit", "Awa (11)", BASE)
    assert w.store.answer_pending(pending.id, edit, state=S.PENDING, due=BASE) == (True, edit)
    late = Verdict("skip", "Moussa (12)", BASE)
    assert w.store.answer_pending(pending.id, late, state=S.SKIPPED, due=BASE) == (False, edit)
    assert w.store.editing("Awa (11)").id == pending.id  # type: ignore[union-attr]
    assert w.store.approve_with_teaser(pending.id, "Awa (11)", "Notre accroche", BASE, author=11)
    assert w.store.teaser_edit(pending.id) == "Notre accroche"
    assert w.store.overdue_pending("out", BASE) == []  # approved: no longer pending


def _corrections(w: Walk) -> None:
    """A sent post knows what it shows; a change adds one edit per version; made, it shows it."""
    sent = w.claimed[0]
    w.store.set_posted_version(sent.id, Version("Ancien titre", "chapeau", None), photo=False)
    [posted] = w.store.posted_of([sent.article_key], BASE)[sent.article_key]
    assert posted.delivery == sent.id and posted.shows.title == "Ancien titre"
    shows = Version("Nouveau titre", "chapeau", None)
    plan = EditPlan(("editMessageText",), ("title",), "nouveau titre")
    edit = Edit(sent.id, sent.channel_id, shows, plan, version_key(shows))
    assert w.store.record_correction(sent.article_key, A1, [edit], BASE) == 1
    assert w.store.record_correction(sent.article_key, A1, [edit], BASE) == 0  # once
    [claim] = w.store.claim_edits(BASE, worker="w1")
    assert claim.methods == ("editMessageText",) and claim.title == "Nouveau titre"
    assert w.store.recover_edits(BASE) == [claim.id]  # a stopped worker's edit goes again
    [again] = w.store.claim_edits(BASE, worker="w2")
    assert w.store.finish_edit(again, Outcome(S.SENT, result=PublishResult("m1")), BASE)
    [shown] = w.store.posted_of([sent.article_key], BASE)[sent.article_key]
    assert shown.shows.title == "Nouveau titre"
    assert [e["state"] for e in w.store.edits(sent.id)] == ["sent"]


def _vanished(w: Walk) -> list[int]:
    return [d.id for d, _title, _url in w.store.vanished_posts("site", [], BASE)]


def _prune_updates(w: Walk) -> None:
    assert w.store.claim_update(6, "w1", BASE + timedelta(hours=1))
    assert w.store.prune_updates(BASE + timedelta(minutes=1)) == 1  # 5 goes, the last one stays
    assert w.store.last_update_id() == 6
    assert w.store.prune_updates(BASE + timedelta(days=1)) == 0


NOBODY = Verdict("skip", "x", BASE)


def _open_post(w: Walk) -> int:
    """The one delivery still open at this point of the walk: A1 on the paused fb channel."""
    [post] = w.store.queue()
    assert (post.article.key, post.delivery.channel_id) == (A1.key, "fb")
    return post.delivery.id


def _teasers(w: Walk) -> bool:
    post = _open_post(w)
    done = w.store.set_teaser(post, "Texte de la rédaction.", 7, BASE)
    sent_one = w.claimed[0].id  # a sent post's teaser cannot change
    return (
        done
        and not w.store.set_teaser(sent_one, "trop tard", 7, BASE)
        and w.store.teaser_edit(post) == "Texte de la rédaction."
        and w.store.teaser_edits([post, sent_one]) == {post: "Texte de la rédaction."}
    )


# The dashboard's part (bot/storage/dashboard.py), near the end of the day.
DASHBOARD: list[tuple[str, Callable[[Walk], Any]]] = [
    ("ping", lambda w: w.store.ping()),
    ("web_secret", lambda w: len(w.store.web_secret()) == 64 == len(w.store.web_secret())),
    (
        "use_login_nonce",
        lambda w: (
            w.store.use_login_nonce("n1", 7, BASE) and not w.store.use_login_nonce("n1", 7, BASE)
        ),
    ),
    ("record_action", lambda w: w.store.record_action(7, "skip", "#2", "", BASE)),
    ("actions", lambda w: [(a.author, a.action) for a in w.store.actions()] == [(7, "skip")]),
    ("record_alert", lambda w: w.store.record_alert("Flux en panne", BASE)),
    ("alerts", lambda w: w.store.alerts(BASE) == [(BASE, "Flux en panne")]),
    (
        "search_articles",
        lambda w: [h.article.key for h in w.store.search_articles("article-1/")] == [A1.key],
    ),
    (
        "article_deliveries",
        lambda w: [d.channel_id for d in w.store.article_deliveries(A1.key)[2]] == ["fb", "out"],
    ),
    ("queue", lambda w: _open_post(w) > 0),
    ("reschedule", lambda w: w.store.reschedule(_open_post(w), BASE, BASE)),  # due now still
    ("set_teaser", _teasers),
    ("teaser_edit", lambda w: w.store.teaser_edit(w.claimed[0].id) is None),
    ("teaser_edits", lambda w: w.store.teaser_edits([]) == {}),
    ("pacing_facts", lambda w: w.store.pacing_facts("out", BASE) == (BASE, 1)),
    ("metrics", lambda w: w.store.metrics(BASE + GAP).articles == 3),
]


STEPS: list[tuple[str, Callable[[Walk], None]]] = [
    ("ensure_channels", lambda w: w.store.ensure_channels(["out", "fb"], BASE)),
    (
        "channels_created",
        lambda w: w.store.channels_created(["out", "fb", "x"]).keys() == {"out", "fb"},
    ),
    (
        "save_feed_state",
        lambda w: w.store.save_feed_state(FeedState("other", "https://b.example/f")),
    ),
    (
        "save_feed_states",
        lambda w: (
            w.store.save_feed_states(
                [FeedState("other", "https://b.example/f", etag='"2"'), FeedState("site", "u")]
            )
            or w.store.feed_state("other").etag == '"2"'
        ),  # type: ignore[union-attr]
    ),
    ("record", _record),
    ("feed_state", lambda w: w.store.feed_state("site").baselined),  # type: ignore[union-attr]
    ("feed_states", lambda w: [s.feed_id for s in w.store.feed_states()] == ["other", "site"]),
    ("known_keys", lambda w: w.store.known_keys([A1, article(9)]) == {A1.key: A1.key}),
    ("carried", lambda w: w.store.carried("site", [A1.key, "nope"]) == {A1.key}),
    ("seen", lambda w: w.store.seen([A2.key])[A2.key][1] == {"out", "fb"}),
    ("recent_title", lambda w: w.store.recent_title("site", "x", BASE) is None),
    ("recent_titles", lambda w: w.store.recent_titles("site", ["x", "y"], BASE) == {}),
    ("article", lambda w: w.store.article(A1.key).title == A1.title),
    ("existing_keys", lambda w: w.store.existing_keys([A1.key, "nope"]) == {A1.key}),
    ("latest", lambda w: [a.key for a in w.store.latest(limit=2)] == [A3.key, A2.key]),
    ("latest_articles", lambda w: [a.key for a in w.store.latest_articles(1)] == [A3.key]),
    ("channel_state", lambda w: not w.store.channel_state("out").paused),
    ("set_paused", lambda w: w.store.set_paused("fb", True, "token", BASE, by="auth")),
    ("set_chat_override", lambda w: w.store.set_chat_override("out", None, "-100", BASE)),
    ("claim", _claim),
    ("finish", _finish),
    ("recover_sending", lambda w: w.store.recover_sending(BASE) == []),
    ("mark_queued", lambda w: not w.store.mark_queued(w.claimed[0].id, BASE, None, BASE)),
    (
        "resolve_found",
        lambda w: not w.store.resolve_found(w.claimed[0].id, PublishResult("x"), BASE),
    ),
    ("mark_skipped", lambda w: w.store.mark_skipped(w.claimed[1].id, "skipped by admin 1", BASE)),
    ("deliveries", lambda w: len(w.store.deliveries(channel_id="out")) == 3),
    ("delivery", lambda w: w.store.delivery(w.claimed[0].id).state is S.SENT),  # type: ignore[union-attr]
    ("channel_counts", lambda w: [c.channel_id for c in w.store.channel_counts()] == ["fb", "out"]),
    (
        "history",
        lambda w: SkipReason.BASELINE.value not in [h.delivery.error for h in w.store.history()],
    ),
    ("outbox_queue", lambda w: [q.channel_id for q in w.store.outbox_queue()] == ["fb"]),
    ("subscribe", lambda w: w.store.subscribe(7, 7, "securite", "Sécurité", BASE)),
    ("subscriber", lambda w: w.store.subscriber(7).chat_id == 7),  # type: ignore[union-attr]
    ("touch", lambda w: w.store.touch(7, "fr", BASE)),
    ("set_language", lambda w: w.store.set_language(7, 7, "en", BASE)),
    ("set_digest", lambda w: w.store.set_digest(8, 8, True, BASE - timedelta(days=1))),
    ("subscriptions", lambda w: [s.topic for s in w.store.subscriptions(7)] == ["securite"]),
    ("readers_per_topic", lambda w: w.store.readers_per_topic() == [("Sécurité", 1)]),
    ("subscription_count", lambda w: w.store.subscription_count(7) == 1),
    ("subscriber_count", lambda w: w.store.subscriber_count() == (2, 1)),
    ("topics", lambda w: [t.key for t in w.store.topics(fold)] == ["securite"]),
    ("index", lambda w: w.store.index([(A1.key, " securite bamako"), ("nope", " x")]) == 1),
    ("unindexed", lambda w: {a.key for a in w.store.unindexed()} == {A2.key, A3.key}),
    ("search", lambda w: [a.key for a in w.store.search(["bamak"])[0]] == [A1.key]),
    (
        "enqueue_broadcasts",
        lambda w: w.store.enqueue_broadcasts(A1.key, {"securite": "Sécurité"}, BASE, due=BASE) == 1,
    ),
    ("next_broadcast_due", lambda w: w.store.next_broadcast_due() == BASE),
    ("claim_broadcasts", _claim_broadcasts),
    ("finish_broadcasts", _finish_broadcasts),
    ("broadcast_counts", lambda w: w.store.broadcast_counts() == {"sent": 1}),
    ("broadcast_rows", lambda w: w.store.broadcast_rows(user_id=7)[0]["message_id"] == 99),
    (
        "plan_digests",
        lambda w: w.store.plan_digests("2026-11-02", BASE, BASE, max_span=timedelta(days=3)) == 1,
    ),
    (
        "digest_articles",
        lambda w: w.store.digest_articles(8, BASE - timedelta(days=1), BASE, fold, limit=5) != [],
    ),
    ("claim_digests", _claim_digests),
    ("finish_digests", _finish_digests),
    ("digest_rows", lambda w: w.store.digest_rows(user_id=8)[0]["state"] == "skipped"),
    ("recent_digests", lambda w: [s for _d, s, _n in w.store.recent_digests()] == ["skipped"]),
    ("recover", lambda w: w.store.recover(BASE) == {"broadcasts": 0, "digests": 0}),
    ("unsubscribe", lambda w: w.store.unsubscribe(7, "securite")),
    ("forget", lambda w: w.store.forget(7).subscriber),
    *DASHBOARD,
    ("recover_sending", _recover_and_settle),
    ("claim", _roundup),
    ("schedule_facts", lambda w: w.store.schedule_facts("out", BASE).items == ()),
    ("finish_roundup", _finish_roundup),
    ("roundup", lambda w: w.store.roundup(w.roundup.id).state is S.FAILED),
    ("roundups", lambda w: [r.id for r in w.store.roundups("out")] == [w.roundup.id]),
    ("recover_roundups", lambda w: w.store.recover_roundups(BASE) == []),
    (
        "resolve_roundup_found",
        lambda w: not w.store.resolve_roundup_found(w.roundup.id, PublishResult("x"), BASE),
    ),
    ("set_pinned", lambda w: w.store.set_pinned(w.claimed[0].id, BASE, BASE)),
    ("due_unpins", lambda w: [d.id for d in w.store.due_unpins(BASE)] == [w.claimed[0].id]),
    ("unpinned", lambda w: w.store.unpinned(w.claimed[0].id, BASE)),
    ("due_unpins", lambda w: w.store.due_unpins(BASE) == []),
    ("pending_to_ask", _approvals),
    ("mark_asked", lambda w: not w.store.mark_asked(1, BASE)),
    ("set_approval_messages", lambda w: w.store.set_approval_messages(1, [])),
    ("approval_messages", lambda w: w.store.approval_messages(1) == []),
    (
        "answer_pending",
        lambda w: (
            w.store.answer_pending(1, Verdict("skip", "x", BASE), state=S.SKIPPED, due=BASE)[0]
            is False
        ),
    ),
    ("editing", lambda w: w.store.editing("nobody") is None),
    ("approve_with_teaser", lambda w: not w.store.approve_with_teaser(1, "x", "y", BASE, author=1)),
    ("overdue_pending", lambda w: w.store.overdue_pending("out", BASE) == []),
    ("states_of", lambda w: w.store.states_of(A1.key) == {"out": S.SENT, "fb": S.SENT}),
    ("promote_urgent", lambda w: not w.store.promote_urgent(A1.key, "out", BASE)),
    ("set_posted_version", _corrections),
    (
        "vanished_posts",
        lambda w: w.claimed[0].id in _vanished(w),
    ),
    ("mark_gone_checked", lambda w: w.store.mark_gone_checked([w.claimed[0].id], BASE)),
    ("vanished_posts", lambda w: w.claimed[0].id not in _vanished(w)),
    ("mark_deleted", lambda w: w.store.mark_deleted(w.claimed[0].id, "supprimée", BASE)),
    ("posted_of", lambda w: w.store.posted_of(["nope"], BASE) == {}),
    ("record_correction", lambda w: w.store.record_correction("nope", A1, [], BASE) == 0),
    ("claim_edits", lambda w: w.store.claim_edits(BASE, worker="w1") == []),
    ("recover_edits", lambda w: w.store.recover_edits(BASE) == []),
    ("edits", lambda w: len(w.store.edits()) == 1),
    (
        "finish_edit",
        lambda w: (
            not w.store.finish_edit(
                EditClaim(1, 1, "out", "t", "l", None, ()), Outcome(S.FAILED), BASE
            )
        ),
    ),
    ("renew_lease", lambda w: w.store.renew_lease("w1", BASE) is None),
    ("live_instances", lambda w: w.store.live_instances(BASE) == ["w1"]),
    ("drop_lease", lambda w: w.store.drop_lease("w1") is None and not w.store.live_instances(BASE)),
    (
        "claim_update",
        lambda w: w.store.claim_update(5, "w1", BASE) and not w.store.claim_update(5, "w2", BASE),
    ),
    ("last_update_id", lambda w: w.store.last_update_id() == 5),
    ("prune_updates", _prune_updates),
]
NOT_QUERIES = {"open", "close", "engine", "is_postgres", "readers"}  # opened and closed below


def public(cls: type) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}


def test_every_public_method_is_in_the_contract() -> None:
    assert public(Storage) - NOT_QUERIES == {name for name, _ in STEPS}
    assert public(ReaderStore) - NOT_QUERIES <= public(Storage)


def test_the_contract(db_url: str) -> None:
    store = Storage.open(db_url)
    try:
        walk = Walk(store)
        for name, step in STEPS:
            result = step(walk)
            assert result is None or result is True, f"{name} answered {result!r}"
        readers = store.readers  # the reader bot's view sees the same database
        assert isinstance(readers, ReaderStore) and readers.db is store.db
        assert readers.subscriber(8) is not None and readers.is_postgres == store.is_postgres
    finally:
        store.close()
