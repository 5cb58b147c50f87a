"""ReaderStore on SQLite and PostgreSQL: readers, topics, search, broadcasts, digests, migration."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.feeds.identity import normalise_title
from bot.models import DeliveryState, NewArticle, Outcome, PublishResult
from bot.storage import migrations
from bot.storage import tables as t
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.search import query_terms, search_text, topic_key
from tests.builders import claim_due
from tests.telegram_bot.conftest import ARCHIVE, START, article, record

GAP = timedelta(seconds=1)


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    store = Storage.open(db_url)
    yield store
    store.close()


@pytest.fixture
def readers(storage: Storage) -> ReaderStore:
    record(storage, ARCHIVE)
    store = ReaderStore(storage.engine)
    store.index((a.key, search_text(a)) for a in ARCHIVE)
    return store


def subscribe_many(readers: ReaderStore, users: range, topic: str = "Sécurité") -> None:
    for user in users:
        readers.subscribe(user, user, topic_key(topic), topic, START)


# ---- readers and topics ---------------------------------------------------------------------


def test_readers_are_kept_only_once_they_choose_something(readers: ReaderStore) -> None:
    assert readers.subscriber(1) is None
    readers.touch(1, "fr", START)  # a reader we keep nothing about: still nothing
    assert readers.subscriber(1) is None
    readers.set_language(1, 1, "en", START, telegram_language="fr-FR")
    row = readers.subscriber(1)
    assert row is not None and (row.language, row.telegram_language) == ("en", "fr-FR")
    readers.touch(1, "fr", START)
    row = readers.subscriber(1)
    assert row is not None and row.telegram_language == "fr"


def test_subscribe_unsubscribe_and_counts(readers: ReaderStore) -> None:
    assert readers.subscribe(1, 1, "securite", "Sécurité", START)
    assert not readers.subscribe(1, 1, "securite", "Sécurité", START)
    assert readers.subscribe(1, 1, "politique", "Politique", START)
    assert [s.label for s in readers.subscriptions(1)] == ["Politique", "Sécurité"]
    assert readers.subscription_count(1) == 2
    assert readers.set_digest(2, 2, True, START)
    assert not readers.set_digest(2, 2, True, START)
    assert readers.subscriber_count() == (2, 1)
    assert readers.unsubscribe(1, "securite")
    assert not readers.unsubscribe(1, "securite")
    assert readers.set_digest(2, 2, False, START)
    assert readers.subscriber_count() == (1, 0)


def test_topics_are_folded_and_counted(readers: ReaderStore, storage: Storage) -> None:
    record(storage, [article(20, categories=("SÉCURITÉ", "Politique", "politique"))])
    topics = {tp.key: (tp.label, tp.count) for tp in readers.topics(topic_key)}
    assert topics["securite"] == ("Sécurité", 2)  # the most used spelling wins
    assert topics["politique"] == ("Politique", 3)  # counted once per article
    assert next(iter(topics)) == "politique"  # most used first


def test_topic_counts_kept_as_articles_come_match_a_recount(
    readers: ReaderStore, storage: Storage
) -> None:
    """/topics reads the counts kept at each recording (schema 4); they are what counting
    every article again gives, and what the migration of an older database counts."""
    from bot.storage import topics

    record(storage, ARCHIVE)
    kept = readers.topics(topic_key)
    assert kept == readers.topics(lambda label: topic_key(label))  # counted from the articles
    with storage.db.tx() as conn:
        conn.execute(sa.delete(t.topic_counts))
        topics.recount(conn)
    assert readers.topics(topic_key) == kept and kept


def test_forget_deletes_everything_about_a_reader(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 3))
    readers.set_digest(1, 1, True, START)
    readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "Sécurité"}, START, due=START)
    readers.plan_digests("2026-11-02", START, START, max_span=timedelta(days=3))
    gone = readers.forget(1)
    assert gone.anything and gone.subscriber and gone.subscriptions == 1
    assert gone.digests == 1
    assert readers.subscriber(1) is None
    assert readers.broadcast_rows(user_id=1) == [] and readers.digest_rows(user_id=1) == []
    assert readers.subscriber(2) is not None  # the others stay
    assert not readers.forget(1).anything


# ---- latest and search ----------------------------------------------------------------------


def test_latest_pages_newest_first(readers: ReaderStore) -> None:
    first = readers.latest(limit=3)
    assert [a.key for a in first] == [a.key for a in ARCHIVE[::-1][:3]]
    second = readers.latest(offset=3, limit=3)
    assert [a.key for a in second] == [a.key for a in ARCHIVE[::-1][3:6]]


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("securite", [1]),
        ("SÉCURITÉ", [1]),
        ("Sécurité Mopti", [1]),
        ("armee", [1]),  # "l'armée" in the title
        ("elections", [2]),
        ("election", [2]),
        ("électoral", [2]),
        ("politique", [6, 2]),  # a category or a title word, newest first
        ("bamako", [7, 4]),  # in the lead of 4
        ("mali", [4, 1]),  # "Mali", "malienne"; never "Somalie"
        ("coupures & délestages", [7]),
        ("<b>", []),
        ("100%", []),
        ("_", []),
        ("zzz", []),
    ],
)
def test_search_is_accent_and_case_insensitive(
    readers: ReaderStore, query: str, numbers: list[int]
) -> None:
    found, more = readers.search(query_terms(query))
    assert [a.key for a in found] == [ARCHIVE[n - 1].key for n in numbers]
    assert not more


def test_the_search_index_is_built_from_the_texts_already_stored(
    readers: ReaderStore, storage: Storage
) -> None:
    """The migration to schema 4 builds the full-text index of an existing database: FTS5 on
    SQLite (rebuilt from the stored texts), a pg_trgm index on PostgreSQL."""
    from bot.storage.search import FTS_TABLE, TRIGRAM_INDEX, create_search_index

    found = [a.key for a in readers.search(["bamako"])[0]]
    assert found
    with storage.db.tx() as conn:
        if storage.is_postgres:
            conn.exec_driver_sql(f"DROP INDEX {TRIGRAM_INDEX}")
        else:
            conn.exec_driver_sql(f"DROP TABLE {FTS_TABLE}")
        create_search_index(conn)
        if storage.is_postgres:
            indexes = sa.inspect(conn).get_indexes("article_search")
            assert TRIGRAM_INDEX in {index["name"] for index in indexes}
    assert [a.key for a in readers.search(["bamako"])[0]] == found


def test_search_does_not_match_inside_words(readers: ReaderStore, storage: Storage) -> None:
    somalie = article(30, title="La Somalie et ses voisins", categories=("Monde",))
    record(storage, [somalie])
    readers.index([(somalie.key, search_text(somalie))])
    found, _ = readers.search(["mali"])
    assert somalie.key not in {a.key for a in found}


def test_search_pages(readers: ReaderStore, storage: Storage) -> None:
    more_articles = [article(40 + n, categories=("Sport",)) for n in range(8)]
    record(storage, more_articles)
    readers.index((a.key, search_text(a)) for a in more_articles)
    first, more = readers.search(["sport"], limit=5)
    second, again = readers.search(["sport"], offset=5, limit=5)
    assert (len(first), more, len(second), again) == (5, True, 4, False)
    assert not {a.key for a in first} & {a.key for a in second}


def test_index_ignores_unrecorded_articles_and_fills_the_backlog(
    readers: ReaderStore, storage: Storage
) -> None:
    ghost = article(99)
    assert readers.index([(ghost.key, " ghost ")]) == 0
    late = article(50, title="Hivernage : pluies abondantes à Kayes")
    record(storage, [late])
    assert [a.key for a in readers.unindexed()] == [late.key]
    readers.index([(late.key, search_text(late))])
    assert readers.unindexed() == []
    assert [a.key for a in readers.search(["kayes"])[0]] == [late.key]


# ---- broadcasts -----------------------------------------------------------------------------


def test_enqueue_one_row_per_reader_and_article(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 6))
    readers.subscribe(1, 1, "actualite", "Actualité", START)  # two matching topics: one row
    readers.set_digest(5, 5, True, START)  # on the digest: no instant message
    topics = {"securite": "Sécurité", "actualite": "Actualité"}
    assert readers.enqueue_broadcasts(ARCHIVE[0].key, topics, START, due=START) == 4
    assert readers.enqueue_broadcasts(ARCHIVE[0].key, topics, START, due=START) == 0
    rows = readers.broadcast_rows()
    assert sorted(r["user_id"] for r in rows) == [1, 2, 3, 4]
    assert {r["state"] for r in rows} == {"queued"}
    assert readers.enqueue_broadcasts(ARCHIVE[1].key, {}, START, due=START) == 0


def test_claim_gives_one_row_per_reader_and_respects_the_chat_gap(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 4))
    for item in ARCHIVE[:2]:
        readers.enqueue_broadcasts(item.key, {"securite": "Sécurité"}, START, due=START)
    claim = readers.claim_broadcasts(START, limit=10, worker="w", chat_gap=GAP)
    assert sorted(r.user_id for r in claim.rows) == [1, 2, 3]
    assert claim.next_due == START  # the second article waits for each reader's gap
    assert readers.claim_broadcasts(START, limit=10, worker="w", chat_gap=GAP).rows == []
    readers.finish_broadcasts(
        [(r, Outcome(DeliveryState.SENT, result=PublishResult("7"))) for r in claim.rows],
        START,
    )
    later = START + GAP
    second = readers.claim_broadcasts(later, limit=10, worker="w", chat_gap=GAP)
    assert sorted(r.user_id for r in second.rows) == [1, 2, 3]
    assert {r.article_key for r in second.rows} == {ARCHIVE[1].key}
    assert second.next_due is None
    states = Counter(r["state"] for r in readers.broadcast_rows())
    assert states == {"sent": 3, "sending": 3}


def test_claim_returns_the_readers_language_and_limits_the_batch(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 6))
    readers.set_language(2, 2, "en", START)
    readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "Sécurité"}, START, due=START)
    claim = readers.claim_broadcasts(START, limit=2, worker="w", chat_gap=GAP)
    assert [r.user_id for r in claim.rows] == [1, 2]
    assert [r.language for r in claim.rows] == [None, "en"]
    assert claim.rows[0].topic == "Sécurité" and claim.rows[0].attempts == 1


def test_a_reader_who_blocked_the_bot_is_unsubscribed(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 3))
    readers.set_digest(1, 1, True, START)
    readers.subscribe(1, 1, "securite", "Sécurité", START)
    readers.set_digest(1, 1, False, START)
    for item in ARCHIVE[:2]:
        readers.enqueue_broadcasts(item.key, {"securite": "Sécurité"}, START, due=START)
    claim = readers.claim_broadcasts(START, limit=10, worker="w", chat_gap=GAP)
    blocked = next(r for r in claim.rows if r.user_id == 1)
    fine = next(r for r in claim.rows if r.user_id == 2)
    readers.finish_broadcasts(
        [
            (blocked, Outcome(DeliveryState.SKIPPED, "blocked", unsubscribe=True)),
            (fine, Outcome(DeliveryState.SENT, result=PublishResult("1"))),
        ],
        START,
    )
    assert readers.subscriptions(1) == []
    assert [r["state"] for r in readers.broadcast_rows(user_id=1)] == ["skipped", "skipped"]
    assert Counter(r["state"] for r in readers.broadcast_rows(user_id=2)) == {
        "sent": 1,
        "queued": 1,
    }


def test_retry_release_and_unknown_outcomes(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 4))
    readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "Sécurité"}, START, due=START)
    a, b, c = readers.claim_broadcasts(START, limit=10, worker="w", chat_gap=GAP).rows
    due = START + timedelta(seconds=30)
    readers.finish_broadcasts(
        [
            (a, Outcome(DeliveryState.QUEUED, "flood", due=due)),
            (b, Outcome(DeliveryState.QUEUED, "token", release=True)),
            (c, Outcome(DeliveryState.UNKNOWN, "timeout")),
        ],
        START,
    )
    rows = {r["user_id"]: r for r in readers.broadcast_rows()}
    assert (rows[a.user_id]["state"], rows[a.user_id]["due_at"]) == ("queued", due)
    assert (rows[b.user_id]["state"], rows[b.user_id]["attempts"]) == ("queued", 0)
    assert rows[c.user_id]["state"] == "unknown"
    assert readers.next_broadcast_due() == START
    # an outcome for a row that is no longer `sending` changes nothing
    sent = Outcome(DeliveryState.SENT, result=PublishResult("9"))
    assert readers.finish_broadcasts([(c, sent)], START) == [c.id]
    assert readers.broadcast_rows(user_id=c.user_id)[0]["state"] == "unknown"


def test_recover_turns_sending_into_unknown(readers: ReaderStore) -> None:
    subscribe_many(readers, range(1, 3))
    readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "Sécurité"}, START, due=START)
    readers.claim_broadcasts(START, limit=1, worker="w", chat_gap=GAP)
    later = START + timedelta(minutes=10)
    assert readers.recover(later, older_than=START) == {"broadcasts": 0, "digests": 0}
    assert readers.recover(later) == {"broadcasts": 1, "digests": 0}
    assert Counter(r["state"] for r in readers.broadcast_rows()) == {"unknown": 1, "queued": 1}


@pytest.mark.parametrize("table", ["broadcasts", "digests"])
def test_only_the_worker_and_attempt_that_claimed_a_row_can_finish_it(
    readers: ReaderStore, table: str
) -> None:
    """The channels' guard (state, worker and attempt) holds for reader rows too."""
    if table == "broadcasts":
        subscribe_many(readers, range(1, 2))
        readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "Sécurité"}, START, due=START)
        [row] = readers.claim_broadcasts(START, limit=10, worker="w1", chat_gap=GAP).rows
    else:
        readers.set_digest(1, 1, True, START - timedelta(days=1))
        readers.plan_digests("2026-11-02", START, START, max_span=timedelta(days=3))
        [row] = readers.claim_digests(START, limit=10, worker="w1")
    assert row.worker == "w1" and row.attempts == 1
    sent = Outcome(DeliveryState.SENT, result=PublishResult("11"))

    def finish(claimed: Any) -> list[int]:
        if table == "broadcasts":
            return readers.finish_broadcasts([(claimed, sent)], START)
        return readers.finish_digests([(claimed, sent, 2)], START)

    rows = readers.broadcast_rows if table == "broadcasts" else readers.digest_rows
    assert finish(replace(row, worker="w2")) == [row.id]  # another worker's claim
    assert finish(replace(row, attempts=2)) == [row.id]  # an older attempt
    assert [r["state"] for r in rows()] == ["sending"]
    assert finish(row) == []
    [done] = rows()
    assert (done["state"], done["message_id"]) == ("sent", 11)


@pytest.mark.postgres
def test_concurrent_workers_on_postgres_never_claim_the_same_row(postgres_url: str) -> None:
    storage = Storage.open(postgres_url)
    try:
        record(storage, ARCHIVE[:3])
        setup = ReaderStore(storage.engine)
        with storage.engine.begin() as conn:
            conn.execute(
                t.subscriptions.insert(),
                [
                    {"user_id": u, "topic": "securite", "label": "Sécurité", "created_at": START}
                    for u in range(1, 601)
                ],
            )
            conn.execute(
                t.subscribers.insert(),
                [
                    {"user_id": u, "chat_id": u, "created_at": START, "updated_at": START}
                    for u in range(1, 601)
                ],
            )
        for item in ARCHIVE[:3]:
            setup.enqueue_broadcasts(item.key, {"securite": "Sécurité"}, START, due=START)
        claimed: dict[str, list[int]] = {}
        barrier = threading.Barrier(6)
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            store = ReaderStore(Storage.open(postgres_url).engine)
            mine: list[int] = []
            try:
                barrier.wait()
                now = START
                for _round in range(200):
                    claim = store.claim_broadcasts(now, limit=25, worker=name, chat_gap=GAP)
                    if not claim.rows:
                        if claim.next_due is None:
                            break
                        now += GAP  # due rows wait only for their reader's gap
                        continue
                    mine += [r.id for r in claim.rows]
                    store.finish_broadcasts(
                        [
                            (r, Outcome(DeliveryState.SENT, result=PublishResult("1")))
                            for r in claim.rows
                        ],
                        now,
                    )
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)
            finally:
                claimed[name] = mine
                store.engine.dispose()

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        every = [i for ids in claimed.values() for i in ids]
        assert len(every) == len(set(every)) == 1800  # each row once, and all of them
        assert sum(1 for ids in claimed.values() if ids) >= 2  # the work was shared
        assert Counter(r["state"] for r in setup.broadcast_rows()) == {"sent": 1800}
    finally:
        storage.close()


# ---- digests --------------------------------------------------------------------------------


def test_one_digest_per_reader_and_day(readers: ReaderStore) -> None:
    readers.set_digest(1, 1, True, START - timedelta(days=1))
    readers.set_digest(2, 2, True, START + timedelta(hours=1))  # chose it after today's time
    span = timedelta(days=3)
    assert readers.plan_digests("2026-11-02", START, START, max_span=span) == 1
    assert readers.plan_digests("2026-11-02", START, START, max_span=span) == 0
    [row] = readers.claim_digests(START, limit=10, worker="w")
    assert (row.user_id, row.day, row.since, row.until) == (
        1,
        "2026-11-02",
        START - timedelta(days=1),
        START,
    )
    assert readers.claim_digests(START, limit=10, worker="w") == []
    readers.finish_digests(
        [(row, Outcome(DeliveryState.SENT, result=PublishResult("5")), 3)], START
    )
    assert readers.plan_digests("2026-11-02", START, START, max_span=span) == 0
    tomorrow = START + timedelta(days=1)
    assert readers.plan_digests("2026-11-03", tomorrow, tomorrow, max_span=span) == 2
    rows = {r["user_id"]: r for r in readers.digest_rows() if r["day"] == "2026-11-03"}
    assert rows[1]["since"] == START  # from the previous digest on
    assert rows[2]["since"] == START + timedelta(hours=1)


def test_digest_articles_are_the_readers_topics_since_the_last_one(
    readers: ReaderStore, storage: Storage
) -> None:
    fresh = [
        article(60, categories=("Sécurité",)),
        article(61, categories=("Sport",)),
        article(62, categories=("SECURITE",)),
    ]
    record(storage, fresh, START + timedelta(hours=1))
    readers.subscribe(1, 1, "securite", "Sécurité", START)
    found = readers.digest_articles(1, START, START + timedelta(hours=2), topic_key, limit=10)
    assert {a.key for a in found} == {fresh[0].key, fresh[2].key}
    everything = readers.digest_articles(2, START, START + timedelta(hours=2), topic_key, limit=10)
    assert {a.key for a in everything} == {a.key for a in fresh}  # no topics: all of them
    later = START + timedelta(hours=1)
    assert readers.digest_articles(1, later, later + timedelta(hours=1), topic_key, limit=9) == []


# ---- the outbox as admins see it ------------------------------------------------------------


def test_outbox_queue_puts_what_needs_attention_first(storage: Storage) -> None:
    items = [article(70 + n) for n in range(4)]
    storage.record(
        [NewArticle(a, normalise_title(a.title), [("tg-main", None)]) for a in items], START
    )
    ids = [d.id for d in storage.deliveries()]
    claimed, _ = claim_due(storage, "tg-main", START, n=2, worker="w")
    by_id = {d.id: d for d in claimed}
    storage.finish(by_id[ids[0]], START, state=DeliveryState.UNKNOWN, error="timeout")
    storage.finish(by_id[ids[1]], START, state=DeliveryState.FAILED, error="bad request")
    readers = ReaderStore(storage.engine)
    rows = readers.outbox_queue()
    assert [(r.id, r.state) for r in rows] == [
        (ids[0], DeliveryState.UNKNOWN),
        (ids[2], DeliveryState.QUEUED),
        (ids[3], DeliveryState.QUEUED),
        (ids[1], DeliveryState.FAILED),
    ]
    assert readers.outbox_queue("other") == []
    assert rows[0].title == items[0].title


# ---- migration ------------------------------------------------------------------------------


def _version_1_schema() -> sa.MetaData:
    """The schema as version 1 created it: a frozen copy, since later versions change `tables`."""
    v1 = sa.MetaData()
    when = t.UTCDateTime
    sa.Table(
        "relais_meta",
        v1,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    sa.Table(
        "feeds",
        v1,
        sa.Column("feed_id", sa.String(128), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("configured_url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_poll", when),
        sa.Column("last_result", sa.Text),
        sa.Column("next_poll", when),
        sa.Column("consecutive_errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("baselined", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failing_since", when),
    )
    sa.Table(
        "articles",
        v1,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("feed_id", sa.String(128), nullable=False),
        sa.Column("guid", sa.Text),
        sa.Column("guid_key", sa.String(16)),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_key", sa.String(16), nullable=False),
        sa.Column("published", when),
        sa.Column("author", sa.Text),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("image", sa.Text),
        sa.Column("content_html", sa.Text, nullable=False, server_default=""),
        sa.Column("summary_html", sa.Text, nullable=False, server_default=""),
        sa.Column("first_seen", when, nullable=False),
        sa.Column("duplicate_of", sa.String(64)),
    )
    sa.Table(
        "sightings",
        v1,
        sa.Column("article_key", sa.String(64), primary_key=True),
        sa.Column("feed_id", sa.String(128), primary_key=True),
        sa.Column("first_seen", when, nullable=False),
    )
    sa.Table(
        "deliveries",
        v1,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_key", sa.String(64), sa.ForeignKey("articles.key"), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempted_at", when),
        sa.Column("remote_id", sa.Text),
        sa.Column("remote_link", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("sent_at", when),
        sa.Column("worker", sa.String(64)),
        sa.UniqueConstraint("article_key", "channel_id", name="uq_delivery_article_channel"),
    )
    sa.Table(
        "channels",
        v1,
        sa.Column("channel_id", sa.String(128), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("pause_reason", sa.Text),
        sa.Column("paused_by", sa.String(16)),
        sa.Column("paused_at", when),
        sa.Column("chat_override", sa.Text),
        sa.Column("chat_override_from", sa.Text),
        sa.Column("created_at", when),
        sa.Column("updated_at", when),
    )
    return v1


def test_a_version_1_database_is_upgraded(db_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        _version_1_schema().create_all(conn)
        conn.execute(t.meta.insert().values(key="schema_version", value="1"))
    engine.dispose()
    old = Storage.open(db_url)  # upgrades
    try:
        with old.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST >= 2
            names = set(sa.inspect(conn).get_table_names())
        assert {"subscribers", "subscriptions", "broadcasts", "digests", "article_search"} <= names
        record(old, ARCHIVE[:2])
        readers = ReaderStore(old.engine)
        assert len(readers.unindexed()) == 2  # articles from before: indexed by the bot later
        readers.index((a.key, search_text(a)) for a in ARCHIVE[:2])
        assert [a.key for a in readers.search(["securite"])[0]] == [ARCHIVE[0].key]
        readers.subscribe(1, 1, "securite", "Sécurité", START)
        assert readers.enqueue_broadcasts(ARCHIVE[0].key, {"securite": "S"}, START, due=START) == 1
    finally:
        old.close()
