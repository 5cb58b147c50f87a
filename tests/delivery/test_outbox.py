"""The outbox engine against scripted publishers: every outcome lands in the right state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.delivery.alerts import Alerts
from bot.delivery.outbox import RECONCILE_AFTER, Outbox
from bot.errors import (
    AuthError,
    ChatMovedError,
    CredentialsError,
    PermanentError,
    StorageError,
    TooLongError,
    TransientError,
    UnknownOutcomeError,
)
from bot.models import (
    ConsolePost,
    DeliveryState,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
    TelegramPost,
)
from bot.settings import ChannelSettings
from bot.storage.store import Storage
from tests.builders import BASE, article, settings
from tests.builders import new_article as new
from tests.fakes.scripted_publisher import ScriptedPublisher


class Notes:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def notify(self, message: str) -> None:
        self.messages.append(message)


class Rig:
    """Storage + outbox + one scripted publisher per channel, on a fake clock."""

    def __init__(self, db_url: str, channels: list[dict[str, Any]]) -> None:
        self.settings = settings(channels, telegram={"token": "123:abc"})
        self.storage = Storage.open(db_url)
        self.clock = FakeClock(BASE)
        self.notes = Notes()
        self.publishers: dict[str, ScriptedPublisher] = {}
        self.built: list[tuple[str, str | None]] = []
        self.outbox = self._outbox()

    def _outbox(self) -> Outbox:
        def make(channel: ChannelSettings, chat: str | None) -> ScriptedPublisher:
            self.built.append((channel.id, chat))
            return self.publishers.setdefault(channel.id, ScriptedPublisher(channel.id))

        return Outbox(
            self.storage,
            self.settings,
            make,
            clock=self.clock,
            alerts=Alerts([self.notes]),
            rand=lambda: 0.0,
        )

    def queue(self, *numbers: int, channels: tuple[str, ...] | None = None, **kw: Any) -> None:
        ids = channels or tuple(c.id for c in self.settings.channels)
        self.storage.record([new(article(n, **kw), ids) for n in numbers], self.clock.now())

    def pub(self, channel_id: str) -> ScriptedPublisher:
        return self.publishers.setdefault(channel_id, ScriptedPublisher(channel_id))

    def states(self, channel_id: str | None = None) -> list[DeliveryState]:
        return [d.state for d in self.storage.deliveries(channel_id=channel_id)]


CONSOLE = {"id": "out", "type": "console", "min_gap": "0s", "max_age": None}
TELEGRAM = {"id": "tg", "type": "telegram", "chat": "@sahel_actu", "max_age": None}


@pytest.fixture
def rig(db_url: str) -> Rig:
    r = Rig(db_url, [CONSOLE])
    yield r
    r.storage.close()


async def test_sends_each_due_delivery_once_oldest_first(rig: Rig) -> None:
    rig.queue(3, 1, 2)
    report = await rig.outbox.deliver_due()
    assert report.sent == 3
    posts = rig.pub("out").posts
    assert all(isinstance(p, ConsolePost) for p in posts)
    assert posts[0].text.startswith("Article numéro 1")
    assert rig.states() == [DeliveryState.SENT] * 3
    again = await rig.outbox.deliver_due()
    assert again.sent == 0 and len(rig.pub("out").posts) == 3


async def test_rate_limit_requeues_after_retry_after_and_stops_the_round(rig: Rig) -> None:
    rig.queue(1, 2)
    rig.pub("out").script.append(TransientError("429 Too Many Requests", retry_after=30))
    report = await rig.outbox.deliver_due()
    assert report.retried == 1 and report.sent == 0
    assert report.next_due == BASE + timedelta(seconds=31)
    assert rig.states() == [DeliveryState.QUEUED, DeliveryState.QUEUED]
    rig.clock.advance(31)
    report = await rig.outbox.deliver_due()
    assert report.sent == 2 and rig.states() == [DeliveryState.SENT] * 2


async def test_permanent_failures_are_failed_and_alerted_once_per_incident(rig: Rig) -> None:
    rig.queue(1, 2, 3)
    rig.pub("out").script.extend(
        [PermanentError("chat not found"), PermanentError("chat not found")]
    )
    report = await rig.outbox.deliver_due()
    assert (report.failed, report.sent) == (2, 1)
    assert rig.states() == [DeliveryState.FAILED, DeliveryState.FAILED, DeliveryState.SENT]
    assert len(rig.notes.messages) == 1
    assert rig.notes.messages[0].count("chat not found") == 2


async def test_auth_error_pauses_the_channel_and_keeps_its_queue(db_url: str) -> None:
    r = Rig(db_url, [CONSOLE | {"id": "a"}, CONSOLE | {"id": "b"}])
    r.queue(1, 2)
    r.pub("a").script.append(AuthError("the bot was removed from the channel"))
    report = await r.outbox.deliver_due()
    assert report.paused == ["a"] and report.sent == 2  # b is not affected
    assert r.states("a") == [DeliveryState.QUEUED, DeliveryState.QUEUED]
    assert r.storage.deliveries(channel_id="a")[0].attempts == 0
    assert r.storage.channel_state("a").paused
    assert any("Canal en pause" in m for m in r.notes.messages)
    r.notes.messages.clear()
    report = await r.outbox.deliver_due()  # paused: no hammering, no new alert
    assert r.pub("a").attempts == 1 and report.paused == ["a"] and r.notes.messages == []
    r.storage.set_paused("a", False, None, BASE)
    await r.outbox.deliver_due()
    assert r.states("a") == [DeliveryState.SENT, DeliveryState.SENT]
    r.storage.close()


async def test_invalid_credentials_pause_every_channel_of_the_platform(db_url: str) -> None:
    r = Rig(db_url, [TELEGRAM, TELEGRAM | {"id": "tg2", "chat": "@autre"}, CONSOLE])
    r.queue(1, channels=("tg",))
    r.pub("tg").script.append(CredentialsError("the bot token is invalid"))
    await r.outbox.deliver_due()
    assert r.storage.channel_state("tg").paused and r.storage.channel_state("tg2").paused
    assert not r.storage.channel_state("out").paused
    r.storage.close()


async def test_unknown_outcome_is_never_resent_on_its_own(db_url: str) -> None:
    r = Rig(db_url, [TELEGRAM])
    r.queue(1)
    r.pub("tg").script.append(UnknownOutcomeError("timed out after the request was sent"))
    report = await r.outbox.deliver_due()
    assert report.unknown == 1 and r.states() == [DeliveryState.UNKNOWN]
    r.clock.advance(timedelta(hours=3))
    await r.outbox.deliver_due()
    assert r.pub("tg").attempts == 1 and r.states() == [DeliveryState.UNKNOWN]
    assert any("incertaine" in m for m in r.notes.messages)
    r.storage.close()


@pytest.mark.parametrize(
    ("answer", "final", "sends"),
    [
        (
            Reconciliation(
                ReconcileOutcome.FOUND, PublishResult("123_456", "https://fb.example/1")
            ),
            DeliveryState.SENT,
            0,
        ),
        (Reconciliation(ReconcileOutcome.ABSENT), DeliveryState.SENT, 1),
        (Reconciliation(ReconcileOutcome.CANNOT_TELL), DeliveryState.UNKNOWN, 0),
    ],
)
async def test_reconciliation(
    rig: Rig, answer: Reconciliation, final: DeliveryState, sends: int
) -> None:
    rig.queue(1)
    rig.pub("out").script.append(UnknownOutcomeError("read timeout"))
    await rig.outbox.deliver_due()
    rig.pub("out").reconcile_answer = answer
    report = await rig.outbox.deliver_due()  # too early: a late POST may still land
    assert rig.states() == [DeliveryState.UNKNOWN] and report.reconciled == 0
    rig.clock.advance(RECONCILE_AFTER)
    report = await rig.outbox.deliver_due()
    assert rig.states() == [final]
    assert len(rig.pub("out").posts) == sends
    if answer.outcome is ReconcileOutcome.FOUND:
        assert report.reconciled == 1
        assert rig.storage.deliveries()[0].remote_id == "123_456"


async def test_too_long_is_rendered_shorter_once(db_url: str) -> None:
    long_text = "<p>" + " ".join(["Le conseil a adopté le texte."] * 60) + "</p>"
    r = Rig(db_url, [TELEGRAM])
    r.queue(1, 2, content_html=long_text)
    r.pub("tg").script.extend(
        [
            TooLongError("message is too long"),
            None,
            TooLongError("message is too long"),
            TooLongError("again"),
        ]
    )
    await r.outbox.deliver_due()
    assert r.states() == [DeliveryState.SENT, DeliveryState.FAILED]
    [post] = r.pub("tg").posts
    assert isinstance(post, TelegramPost)
    first = r.storage.article(r.storage.deliveries()[0].article_key)
    normal = r.outbox._render(r.settings.channels[0], first, shorter=False)
    assert len(post.text) < len(normal.text)
    r.storage.close()


async def test_chat_moved_stores_the_new_chat_and_retries_there(db_url: str) -> None:
    r = Rig(db_url, [TELEGRAM])
    r.queue(1)
    r.pub("tg").script.append(ChatMovedError("group upgraded", new_chat_id=-1001234567890))
    await r.outbox.deliver_due()
    assert r.storage.channel_state("tg").chat_override == "-1001234567890"
    assert r.built == [("tg", None), ("tg", "-1001234567890")]
    assert r.states() == [DeliveryState.SENT]
    r.storage.close()


async def test_max_age_is_checked_again_at_send_time(db_url: str) -> None:
    r = Rig(db_url, [CONSOLE | {"max_age": "1d"}])
    r.queue(1, published=BASE - timedelta(hours=20))
    r.clock.advance(timedelta(hours=5))  # e.g. the channel was paused meanwhile
    report = await r.outbox.deliver_due()
    assert report.skipped == 1 and r.states() == [DeliveryState.SKIPPED]
    assert r.pub("out").posts == []
    r.storage.close()


async def test_a_post_that_goes_out_late_says_when_the_article_was_published(db_url: str) -> None:
    """Rendered at send time with the outbox's clock: held five hours (quiet hours, a queue),
    the post shows the publication date; one sent at once does not."""
    r = Rig(db_url, [CONSOLE])
    r.queue(1, published=BASE)
    r.clock.advance(timedelta(hours=5))
    assert (await r.outbox.deliver_due()).sent == 1
    r.queue(2, published=r.clock.now())
    assert (await r.outbox.deliver_due()).sent == 1
    late, prompt = (post.text for post in r.pub("out").posts)
    assert "Publié le 2 novembre 2026" in late
    assert "Publié le" not in prompt
    r.storage.close()


async def test_min_gap_spreads_a_burst(db_url: str) -> None:
    r = Rig(db_url, [CONSOLE | {"min_gap": "10m"}])
    r.queue(1, 2, 3)
    report = await r.outbox.deliver_due()
    assert report.sent == 1 and report.next_due == BASE + timedelta(minutes=10)
    r.clock.advance(timedelta(minutes=10))
    assert (await r.outbox.deliver_due()).sent == 1
    r.clock.advance(timedelta(minutes=10))
    assert (await r.outbox.deliver_due()).sent == 1
    assert r.states() == [DeliveryState.SENT] * 3
    r.storage.close()


async def test_process_killed_while_sending_leaves_unknown_after_restart(db_url: str) -> None:
    r = Rig(db_url, [TELEGRAM])
    r.queue(1)
    claimed, _ = r.storage.claim(
        "tg", BASE, day_start=BASE, next_slot=lambda _l, _t: BASE, limit=1, worker="dead"
    )
    assert claimed  # … and the process dies before the publisher answers
    r.storage.close()
    restarted = Rig(db_url, [TELEGRAM])
    restarted.clock.advance(timedelta(minutes=6))  # past PostgreSQL's lease on `sending` rows
    assert restarted.outbox.recover() == [claimed[0].id]
    await restarted.outbox.deliver_due()
    assert restarted.states() == [DeliveryState.UNKNOWN]
    assert restarted.pub("tg").attempts == 0
    restarted.storage.close()


async def test_a_post_sent_but_not_recorded_is_recorded_later_not_resent(rig: Rig) -> None:
    rig.queue(1)
    real_finish = rig.storage.finish
    calls = {"n": 0}

    def flaky(claim, now, **outcome):
        calls["n"] += 1
        if outcome.get("state") is DeliveryState.SENT and calls["n"] == 1:
            raise StorageError("database error: the disk is full")
        return real_finish(claim, now, **outcome)

    rig.storage.finish = flaky  # type: ignore[method-assign]
    await rig.outbox.deliver_due()
    assert rig.states() == [DeliveryState.SENDING]
    await rig.outbox.deliver_due()  # written first, before `sending` rows are recovered
    assert rig.states() == [DeliveryState.SENT]
    assert len(rig.pub("out").posts) == 1


async def test_pause_during_a_round_stops_the_channel(rig: Rig) -> None:
    rig.queue(1, 2, 3)
    publish = rig.pub("out").publish

    async def pause_after_first(post):
        result = await publish(post)
        rig.storage.set_paused("out", True, "/pause by an admin", BASE)
        return result

    rig.pub("out").publish = pause_after_first  # type: ignore[method-assign]
    report = await rig.outbox.deliver_due()
    assert report.sent == 1
    assert rig.states() == [DeliveryState.SENT, DeliveryState.QUEUED, DeliveryState.QUEUED]


async def test_an_unexpected_error_after_the_request_went_out_is_unknown_not_failed(
    rig: Rig,
) -> None:
    """A ValueError from the publisher is not a template that cannot render: the request may
    have reached the platform, so the row is `unknown` (a /retry of a `failed` row would post
    it twice)."""
    rig.queue(1, 2)
    rig.pub("out").script.append(ValueError("unexpected answer from the platform"))
    report = await rig.outbox.deliver_due()
    assert (report.unknown, report.failed, report.sent) == (1, 0, 0)
    [first, second] = rig.storage.deliveries()
    assert first.state is DeliveryState.UNKNOWN and second.state is DeliveryState.QUEUED
    assert first.error == "unexpected error: ValueError"
    assert "cannot render" not in (first.error or "")
    assert any("unexpected error: ValueError" in m for m in rig.notes.messages)
    report = await rig.outbox.deliver_due()  # never sent again on its own; the rest goes
    assert report.sent == 1 and rig.pub("out").attempts == 2


async def test_an_article_that_cannot_be_rendered_is_failed_without_a_request(
    rig: Rig,
) -> None:
    rig.queue(1)
    rig.queue(2, url="ftp://sahel-actu.example/2026/11/article-2/")  # never an http(s) link
    report = await rig.outbox.deliver_due()
    assert (report.failed, report.sent) == (1, 1)
    assert rig.pub("out").attempts == 1  # nothing was sent for the row that cannot render
    by_state = {d.state: d for d in rig.storage.deliveries()}
    assert set(by_state) == {DeliveryState.SENT, DeliveryState.FAILED}
    assert (by_state[DeliveryState.FAILED].error or "").startswith("cannot render: refusing")
