"""The storage contract: every public method of `Storage` (and so of `ReaderStore`, the same
parts) runs on SQLite and on PostgreSQL, in one walk through a day of Relais."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.models import (
    Claimed,
    Delivery,
    DeliveryState,
    FeedState,
    Outcome,
    PublishResult,
    SkipReason,
)
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from tests.builders import BASE, article
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


def slot(_last: Any, _today: int) -> Any:
    return BASE


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
    w.claimed, later = w.store.claim(
        "out", BASE, day_start=BASE, next_slot=slot, limit=2, worker="w1"
    )
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
    [lost], _ = w.store.claim("fb", BASE, day_start=BASE, next_slot=slot, limit=1, worker="w2")
    assert w.store.recover_sending(BASE) == [lost.id]
    assert w.store.mark_queued(lost.id, BASE, "/retry", BASE)
    [again], _ = w.store.claim("fb", BASE, day_start=BASE, next_slot=slot, limit=1, worker="w3")
    assert (again.id, again.attempts) == (lost.id, 2)
    assert w.store.finish(again, BASE, state=S.SENT, result=PublishResult("1_2"))


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
    ("record", _record),
    ("feed_state", lambda w: w.store.feed_state("site").baselined),  # type: ignore[union-attr]
    ("feed_states", lambda w: [s.feed_id for s in w.store.feed_states()] == ["other", "site"]),
    ("known_keys", lambda w: w.store.known_keys([A1, article(9)]) == {A1.key: A1.key}),
    ("carried", lambda w: w.store.carried("site", [A1.key, "nope"]) == {A1.key}),
    ("seen", lambda w: w.store.seen([A2.key])[A2.key][1] == {"out", "fb"}),
    ("recent_title", lambda w: w.store.recent_title("site", "x", BASE) is None),
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
