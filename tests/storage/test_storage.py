"""The storage suite, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.errors import InstanceLockedError, SchemaTooNewError
from bot.models import DeliveryState, FeedState, PublishResult, SkipReason
from bot.storage import migrations
from bot.storage.store import Storage
from tests.builders import BASE, article
from tests.builders import new_article as new

SENT, QUEUED, FAILED, UNKNOWN = (
    DeliveryState.SENT,
    DeliveryState.QUEUED,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
)


@pytest.fixture
def store(db_url: str) -> Storage:
    storage = Storage.open(db_url)
    yield storage
    storage.close()


def claim(store: Storage, channel: str = "out", *, now=BASE, limit: int = 10, gap=None):
    def slot(last, _today):
        if gap is None or last is None:
            return now
        return max(now, last + gap)

    return store.claim(
        channel, now, day_start=now - timedelta(hours=9), next_slot=slot, limit=limit, worker="w1"
    )


def test_fresh_database_is_at_latest_version(store: Storage) -> None:
    with store.engine.connect() as conn:
        assert migrations.current_version(conn) == migrations.LATEST


def test_reopening_keeps_data_and_version(db_url: str) -> None:
    first = Storage.open(db_url)
    first.record([new(article(1), ["out"])], BASE)
    first.close()
    again = Storage.open(db_url)
    assert [d.state for d in again.deliveries()] == [DeliveryState.QUEUED]
    again.close()


def test_newer_schema_is_refused(db_url: str) -> None:
    storage = Storage.open(db_url)
    with storage.engine.begin() as conn:
        conn.execute(sa.text("UPDATE relais_meta SET value = '999' WHERE key = 'schema_version'"))
    storage.close()
    with pytest.raises(SchemaTooNewError, match="schema version 999"):
        Storage.open(db_url)


def test_second_instance_on_same_sqlite_file_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relais.db'}"
    first = Storage.open(url, exclusive=True)
    with pytest.raises(InstanceLockedError, match="already running"):
        Storage.open(url, exclusive=True)
    reader = Storage.open(url)  # status and history may read meanwhile
    reader.close()
    first.close()
    Storage.open(url, exclusive=True).close()


def test_feed_state_round_trip(store: Storage) -> None:
    assert store.feed_state("site") is None
    state = FeedState(
        "site",
        "https://x.example/feed",
        configured_url="https://x.example/feed",
        etag='W/"abc"',
        last_poll=BASE,
        consecutive_errors=2,
        baselined=True,
    )
    store.save_feed_state(state)
    assert store.feed_state("site") == state
    store.save_feed_state(FeedState("site", "https://y.example/feed"))
    assert store.feed_state("site").url == "https://y.example/feed"
    assert store.feed_state("site").last_poll is None


def test_article_round_trip_keeps_aware_times_and_categories(store: Storage) -> None:
    a = article(
        1,
        categories=("Politique", "Sécurité"),
        author="La rédaction",
        image="https://sahel-actu.example/img.jpg",
    )
    store.record([new(a, ["out"])], BASE)
    assert store.article(a.key) == a
    assert store.article(a.key).published.tzinfo is not None


def test_known_by_guid_or_canonical_link(store: Storage) -> None:
    a = article(1)
    store.record([new(a, ["out"])], BASE)
    same_link = article(1, guid="another-guid", url=a.url.rstrip("/") + "?utm_source=x")
    same_guid = article(2, guid=a.guid)
    other = article(3)
    known = store.known_keys([same_link, same_guid, other])
    assert known == {same_link.key: a.key, same_guid.key: a.key}


def test_recording_twice_creates_nothing_twice(store: Storage) -> None:
    a = article(1)
    assert store.record([new(a, ["out", "tg"])], BASE) == [a.key]
    assert store.record([new(a, ["out", "tg"])], BASE) == []
    assert len(store.deliveries()) == 2


def test_skipped_decisions_keep_their_reason(store: Storage) -> None:
    store.record([new(article(1), ["out"], reason=SkipReason.BASELINE)], BASE)
    [d] = store.deliveries()
    assert d.state is DeliveryState.SKIPPED
    assert d.error == "baseline: already in the feed on the first poll"
    assert claim(store) == ([], None)


def test_recent_title_finds_republished_story(store: Storage) -> None:
    a = article(1, title="Grève des enseignants : le dialogue reprend")
    store.record([new(a, ["out"])], BASE)
    from bot.feeds.identity import normalise_title

    norm = normalise_title("GRÈVE des enseignants — le dialogue reprend !")
    assert store.recent_title("site", norm, BASE - timedelta(days=7)) == a.key
    assert store.recent_title("other", norm, BASE - timedelta(days=7)) is None
    assert store.recent_title("site", norm, BASE + timedelta(minutes=1)) is None


def test_state_machine(store: Storage) -> None:
    articles = [article(i) for i in range(1, 5)]
    store.record([new(a, ["out"]) for a in articles], BASE)
    claimed, _ = claim(store, limit=4)
    assert [d.state for d in claimed] == [DeliveryState.SENDING] * 4
    assert [d.article_key for d in claimed] == [a.key for a in articles]  # oldest first
    a, b, c, d = claimed
    assert store.finish(a, BASE, state=SENT, result=PublishResult("m1", "https://t.me/x/1"))
    assert store.finish(b, BASE, state=QUEUED, due=BASE + timedelta(minutes=5), error="429")
    assert store.finish(c, BASE, state=FAILED, error="chat not found")
    assert store.finish(d, BASE, state=UNKNOWN, error="timed out")
    assert not store.finish(a, BASE, state=UNKNOWN, error="late")  # sent stays sent
    states = {x.id: x for x in store.deliveries()}
    assert (
        states[a.id].state is DeliveryState.SENT and states[a.id].remote_link == "https://t.me/x/1"
    )
    assert states[b.id].state is DeliveryState.QUEUED and states[b.id].attempts == 1
    assert states[c.id].error == "chat not found"
    # b is not due yet; at its due time it is claimed again.
    assert claim(store)[0] == []
    again, _ = claim(store, now=BASE + timedelta(minutes=5))
    assert [x.id for x in again] == [b.id] and again[0].attempts == 2


def test_pacing_is_decided_inside_the_claim(store: Storage) -> None:
    store.record([new(article(i), ["out"]) for i in (1, 2)], BASE)
    first, _ = claim(store, limit=1, gap=timedelta(minutes=10))
    store.finish(first[0], BASE, state=SENT, result=PublishResult("1"))
    claimed, later = claim(store, limit=1, gap=timedelta(minutes=10))
    assert claimed == [] and later == BASE + timedelta(minutes=10)
    claimed, _ = claim(store, now=BASE + timedelta(minutes=10), limit=1, gap=timedelta(minutes=10))
    assert len(claimed) == 1


def test_crash_between_sending_and_answer_becomes_unknown(db_url: str) -> None:
    store = Storage.open(db_url)
    store.record([new(article(1), ["out"])], BASE)
    claimed, _ = claim(store)
    store.close()  # the process dies here: the publisher's answer is never recorded
    after = Storage.open(db_url)
    assert after.recover_sending(BASE + timedelta(minutes=1)) == [claimed[0].id]
    [d] = after.deliveries()
    assert d.state is DeliveryState.UNKNOWN
    assert claim(after, now=BASE + timedelta(hours=1))[0] == []  # never re-sent on its own
    after.close()


def test_recover_on_postgres_spares_recent_claims(store: Storage) -> None:
    store.record([new(article(1), ["out"])], BASE)
    claim(store)
    assert store.recover_sending(BASE, older_than=BASE - timedelta(minutes=5)) == []
    assert store.recover_sending(BASE, older_than=BASE + timedelta(seconds=1)) != []


def test_pause_and_chat_override(store: Storage) -> None:
    assert store.channel_state("tg").paused is False
    assert store.set_paused("tg", True, "bot kicked", BASE) is True
    assert store.set_paused("tg", True, "bot kicked", BASE) is False
    store.set_chat_override("tg", "@groupe_sahel", "-100777", BASE)
    state = store.channel_state("tg")
    assert state.paused and state.pause_reason == "bot kicked"
    assert state.chat_for("@groupe_sahel") == "-100777"
    assert state.chat_for("@nouvelle_chaine") == "@nouvelle_chaine"  # the config changed since
    store.set_paused("tg", False, None, BASE)
    assert store.channel_state("tg").pause_reason is None


def test_counts_and_history(store: Storage) -> None:
    store.record([new(article(i), ["out"]) for i in (1, 2, 3)], BASE)
    claimed, _ = claim(store, limit=1)
    store.finish(claimed[0], BASE + timedelta(minutes=1), state=SENT, result=PublishResult("42"))
    [counts] = store.channel_counts()
    assert counts.counts == {"queued": 2, "sent": 1}
    assert counts.next_due == BASE
    history = store.history(limit=5)
    assert history[0].delivery.remote_id == "42"
    assert history[0].title.startswith("Article numéro 1")


@pytest.mark.postgres
def test_two_concurrent_workers_never_claim_the_same_delivery(postgres_url: str) -> None:
    setup = Storage.open(postgres_url)
    setup.record([new(article(i), ["out"]) for i in range(1, 41)], BASE)
    setup.close()
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        store = Storage.open(postgres_url)
        barrier.wait()
        while True:
            got, _ = store.claim(
                "out", BASE, day_start=BASE, next_slot=lambda _l, _t: BASE, limit=1, worker=name
            )
            if not got:
                break
            claimed[name] += [d.id for d in got]
            store.finish(got[0], BASE, state=SENT, result=PublishResult(f"{name}-{got[0].id}"))
        store.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = claimed["a"] + claimed["b"]
    assert len(every) == 40 and len(set(every)) == 40
    check = Storage.open(postgres_url)
    assert {d.state for d in check.deliveries()} == {DeliveryState.SENT}
    check.close()


@pytest.mark.postgres
def test_min_gap_holds_across_two_workers(postgres_url: str) -> None:
    setup = Storage.open(postgres_url)
    setup.record([new(article(i), ["fb"]) for i in range(1, 6)], BASE)
    setup.close()
    gap = timedelta(minutes=10)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        store = Storage.open(postgres_url)
        barrier.wait()
        got, _ = store.claim(
            "fb",
            BASE,
            day_start=BASE,
            next_slot=lambda last, _t: BASE if last is None else max(BASE, last + gap),
            limit=1,
            worker="w",
        )
        results.append(len(got))
        store.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]


def test_several_processes_opening_a_new_database_at_once(db_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def opener() -> None:
        try:
            barrier.wait()
            Storage.open(db_url).close()
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_history_hides_only_the_baseline(store: Storage) -> None:
    store.record([new(article(1), ["out"], reason=SkipReason.BASELINE)], BASE)
    store.record([new(article(2), ["out"], reason=SkipReason.REPUBLISHED)], BASE)
    store.record([new(article(3), ["out"])], BASE)
    assert [h.delivery.error for h in store.history()] == [None, SkipReason.REPUBLISHED.value]


def test_a_claim_taken_over_cannot_be_finished_by_its_old_worker(store: Storage) -> None:
    store.record([new(article(1), ["out"])], BASE)
    [old], _ = claim(store)
    store.recover_sending(BASE)  # this worker was thought dead: unknown
    assert store.mark_queued(old.id, BASE, "admin /retry", BASE)
    [again], _ = claim(store)  # claimed anew (same worker name, next attempt)
    assert again.attempts == old.attempts + 1
    assert not store.finish(old, BASE, state=SENT, result=PublishResult("late"))
    assert store.finish(again, BASE, state=SENT, result=PublishResult("ok"))
    assert store.delivery(old.id).remote_id == "ok"


def test_only_uncertain_or_failed_deliveries_are_requeued_or_resolved(store: Storage) -> None:
    store.record([new(article(1), ["out"])], BASE)
    [sending], _ = claim(store)
    assert not store.mark_queued(sending.id, BASE, "x", BASE)  # in flight: its worker decides
    assert not store.resolve_found(sending.id, PublishResult("1"), BASE)
    store.finish(sending, BASE, state=UNKNOWN, error="timeout")
    assert store.resolve_found(sending.id, PublishResult("1"), BASE)
    assert not store.mark_queued(sending.id, BASE, "x", BASE)  # sent stays sent


def test_a_paused_channel_is_not_claimed_and_pauses_do_not_overwrite(store: Storage) -> None:
    store.record([new(article(1), ["out"])], BASE)
    assert store.set_paused("out", True, "paused by admin", BASE)
    assert claim(store) == ([], None)
    assert not store.set_paused("out", True, "token refused", BASE, by="auth")
    assert store.channel_state("out").paused_by == "admin"
    assert not store.set_paused("out", False, None, BASE, by="auth")  # not an auth pause
    assert store.set_paused("out", False, None, BASE)
    assert len(claim(store)[0]) == 1


def test_a_plain_guid_only_matches_within_its_feed(store: Storage) -> None:
    store.record([new(article(1, feed="site-a", guid="1234"), ["out"])], BASE)
    store.record([new(article(2, feed="site-a", guid="https://a.example/?p=9"), ["out"])], BASE)
    other = article(3, feed="site-b", guid="1234")
    moved = article(4, feed="site-b", guid="https://a.example/?p=9")
    same_feed = article(5, feed="site-a", guid="1234")
    known = store.known_keys([other, moved, same_feed])
    assert other.key not in known
    assert moved.key in known and same_feed.key in known


def test_articles_and_feed_state_are_recorded_together(store: Storage) -> None:
    state = FeedState("site", "https://x.example/feed", baselined=True, etag='"e1"')
    store.record([new(article(1), ["out"])], BASE, feed_state=state)
    assert store.feed_state("site") == state
    assert len(store.deliveries()) == 1


def test_long_links_guids_and_titles_are_recorded(store: Storage) -> None:
    long = (
        "https://sahel-actu.example/" + "tres-long-" * 600
    )  # 6 KB: over PostgreSQL's B-tree limit
    a = article(1, url=long, guid=long + "?p=1", title="Titre " * 900)
    assert store.record([new(a, ["out"])], BASE) == [a.key]
    assert store.known_keys([a]) == {a.key: a.key}
