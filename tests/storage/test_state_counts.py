"""The deliveries counted per channel and state (`relais status`, /metrics) from the kept counts:
always what a GROUP BY over every delivery says, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.models import DeliveryState, PublishResult, SkipReason
from bot.storage import migrations, state_counts
from bot.storage import tables as t
from bot.storage.store import Storage
from tests.builders import BASE, article, claim_due
from tests.builders import new_article as new

S = DeliveryState


@pytest.fixture
def store(db_url: str) -> Iterator[Storage]:
    storage = Storage.open(db_url)
    yield storage
    storage.close()


def counted(store: Storage) -> dict[str, dict[str, int]]:
    """What the whole history says: every delivery counted."""
    d = t.deliveries
    found: dict[str, dict[str, int]] = {}
    with store.engine.connect() as conn:
        query = sa.select(d.c.channel_id, d.c.state, sa.func.count())
        for channel_id, state, n in conn.execute(query.group_by(d.c.channel_id, d.c.state)):
            found.setdefault(channel_id, {})[state] = n
    return found


def shown(store: Storage) -> dict[str, dict[str, int]]:
    return {c.channel_id: c.counts for c in store.channel_counts()}


INDEXES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
}


def count_rows(store: Storage) -> int:
    with store.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(t.delivery_state_counts)
        return int(conn.execute(query).scalar_one())


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], {}),
        (
            [("out", "sent", 1), ("out", "sent", 1), ("fb", "failed", 1)],
            {"out": {"sent": 2}, "fb": {"failed": 1}},
        ),
        (
            [("out", "sent", 3), ("out", "sent", -1), ("out", "queued", 2)],
            {"out": {"sent": 2, "queued": 2}},
        ),
        # a state that sums to nothing is not shown, nor a channel left with nothing
        ([("out", "failed", 1), ("out", "failed", -1), ("out", "sent", 1)], {"out": {"sent": 1}}),
        ([("fb", "skipped", 1), ("fb", "skipped", -1)], {}),
    ],
)
def test_count_rows_are_summed(rows, expected) -> None:
    assert state_counts.summed(rows) == expected


def test_counts_follow_every_change_of_state(store: Storage) -> None:
    store.record(
        [new(article(i), ["out", "fb"]) for i in range(1, 6)]
        + [new(article(9), ["out"], SkipReason.BASELINE)],
        BASE,
    )
    assert (
        shown(store) == counted(store) == {"out": {"queued": 5, "skipped": 1}, "fb": {"queued": 5}}
    )
    sent, failing, retried = claim_due(store, "out", BASE, n=3, worker="w1")[0]
    assert shown(store) == counted(store)
    store.finish(sent, BASE, state=S.SENT, result=PublishResult("1"))
    store.finish(failing, BASE, state=S.FAILED, error="chat not found")
    store.finish(retried, BASE, state=S.QUEUED, due=BASE)
    assert shown(store) == counted(store)
    assert store.mark_queued(failing.id, BASE, "/retry", BASE)  # out of an end state
    assert store.mark_skipped(retried.id, "admin", BASE)
    assert shown(store) == counted(store)
    d = t.deliveries
    with store.engine.begin() as conn:  # a bulk change, as an operator's SQL would make it
        conn.execute(d.update().where(d.c.channel_id == "fb").values(state=S.SENT.value))
        conn.execute(d.update().where(d.c.id == sent.id).values(channel_id="tg"))
        conn.execute(d.delete().where(d.c.id == retried.id))
    assert shown(store) == counted(store)
    assert store.metrics(BASE).deliveries == {
        (c, s): n for c, per in counted(store).items() for s, n in per.items()
    }


def test_a_read_folds_the_count_rows_and_the_counts_stay(store: Storage) -> None:
    store.record([new(article(i), ["out"]) for i in range(1, 2 * state_counts.FOLD_AT)], BASE)
    d = t.deliveries
    with store.engine.begin() as conn:
        conn.execute(d.update().values(state=S.SENT.value))
        conn.execute(d.update().where(d.c.id % 3 == 0).values(state=S.FAILED.value))
    assert count_rows(store) > state_counts.FOLD_AT
    before = counted(store)
    assert shown(store) == before  # read, then folded
    assert count_rows(store) == 2  # (out, sent) and (out, failed)
    assert shown(store) == before


def test_the_migration_counts_the_deliveries_already_recorded_and_moves_the_indexes(
    db_url: str,
) -> None:
    old = Storage.open(db_url)
    old.record([new(article(i), ["out"]) for i in range(1, 4)], BASE)
    [first, _second], _ = claim_due(old, "out", BASE, n=2, worker="w1")
    old.finish(first, BASE, state=S.SENT, result=PublishResult("1"))
    with old.engine.begin() as conn:  # back to version 6: no counts, no triggers
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER deliveries_count ON deliveries")
        else:
            for name in ("ai", "ad", "au_old", "au_new"):
                conn.exec_driver_sql(f"DROP TRIGGER deliveries_count_{name}")
        t.delivery_state_counts.drop(conn)
        for old_index, new_index in [
            (
                "ix_articles_latest ON articles (coalesce(published, first_seen) DESC, key)",
                "ix_articles_newest",
            ),
            ("ix_deliveries_state ON deliveries (state)", "ix_deliveries_live"),
        ]:
            conn.exec_driver_sql(f"DROP INDEX {new_index}")
            conn.exec_driver_sql(f"CREATE INDEX {old_index}")
        conn.execute(t.meta.update().values(value="6"))
    old.close()
    again = Storage.open(db_url)
    try:
        with again.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST == 7
            indexes = set(conn.execute(sa.text(INDEXES[conn.dialect.name])).scalars())
        assert {"ix_deliveries_live", "ix_articles_newest"} <= indexes
        assert not {"ix_deliveries_state", "ix_articles_latest"} & indexes
        assert shown(again) == counted(again) == {"out": {"queued": 1, "sending": 1, "sent": 1}}
        [last], _ = claim_due(again, "out", BASE, n=1, worker="w1")
        again.finish(last, BASE, state=S.SENT, result=PublishResult("2"))
        assert shown(again) == counted(again)
    finally:
        again.close()


@pytest.mark.postgres
def test_instances_changing_states_and_folding_at_once_keep_exact_counts(
    postgres_url: str,
) -> None:
    """Two instances finish deliveries (into and out of end states) while two readers fold
    the count rows over and over: nobody waits on a counter, and the counts stay exact."""
    setup = Storage.open(postgres_url)
    setup.record([new(article(i), ["a", "b"]) for i in range(1, 61)], BASE)
    setup.close()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def instance(channel: str) -> None:
        store = Storage.open(postgres_url)
        try:
            start.wait()
            for n in range(30):
                [claimed], _ = claim_due(store, channel, BASE, n=1, worker=channel)
                state = S.SENT if n % 3 else S.FAILED
                store.finish(claimed, BASE, state=state, result=PublishResult(str(n)))
                if state is S.FAILED:
                    store.mark_queued(claimed.id, BASE - timedelta(hours=1), "/retry", BASE)
        except BaseException as err:  # reported below
            errors.append(err)
        finally:
            store.close()

    def reader() -> None:
        store = Storage.open(postgres_url)
        try:
            start.wait()
            for _ in range(40):
                with store.db.tx() as conn:
                    state_counts.fold(conn)
        except BaseException as err:  # reported below
            errors.append(err)
        finally:
            store.close()

    threads = [
        threading.Thread(target=f, args=a)
        for f, a in [(instance, ("a",)), (instance, ("b",)), (reader, ()), (reader, ())]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = Storage.open(postgres_url)
    try:
        assert shown(check) == counted(check)
        assert counted(check)["a"]["sent"] == 20
    finally:
        check.close()
