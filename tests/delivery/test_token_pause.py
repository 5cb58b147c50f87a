"""The Facebook token policy: the pure decision as a table, then its application on storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.clock import Clock, FakeClock
from bot.delivery.alerts import Alerts
from bot.delivery.outbox import Outbox
from bot.delivery.token_pause import (
    REFUSED,
    TokenAction,
    TokenHealth,
    TokenMove,
    TokenWatch,
    token_action,
)
from bot.settings import ChannelSettings, FacebookSettings, Settings
from bot.storage.store import Storage
from tests.builders import BASE, settings
from tests.fakes.scripted_publisher import ScriptedPublisher

EXPIRED = "Jeton refusé : le jeton a expiré."


@dataclass
class Health:
    ok: bool
    reachable: bool = True
    messages: Sequence[str] = field(default_factory=list)


@pytest.mark.parametrize(
    ("health", "action"),
    [
        (Health(ok=True), TokenAction(TokenMove.RESUME)),
        (Health(ok=True, messages=["Jeton valide."]), TokenAction(TokenMove.RESUME)),
        (
            Health(ok=False, messages=[EXPIRED, "Étapes"]),
            TokenAction(TokenMove.PAUSE, f"{EXPIRED} Étapes"),
        ),
        (Health(ok=False), TokenAction(TokenMove.PAUSE, REFUSED)),  # Facebook said nothing more
        (
            Health(ok=False, reachable=False, messages=["Graph API en panne"]),
            TokenAction(TokenMove.KEEP),
        ),
        (Health(ok=True, reachable=False), TokenAction(TokenMove.KEEP)),
    ],
)
def test_token_action(health: Health, action: TokenAction) -> None:
    assert token_action(health) == action


class Recorder:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def notify(self, message: str) -> None:
        self.messages.append(message)


class ScriptedCheck:
    """Answers each channel's token check from a table: a Health, or an exception to raise."""

    def __init__(self, answers: dict[str, Health | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(
        self, channel: ChannelSettings, fb: FacebookSettings, clock: Clock
    ) -> TokenHealth:
        self.asked.append(channel.id)
        answer = self.answers[channel.id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def fb_settings() -> Settings:
    page: dict[str, Any] = {"type": "facebook", "token": "${FB_TOKEN}", "max_age": None}
    return settings(
        [
            {"id": "fb-a", "page_id": "111", **page},
            {"id": "fb-b", "page_id": "222", **page},
            {"id": "out", "type": "console"},
        ],
        env={"FB_TOKEN": "EAAtoken"},
    )


@pytest.fixture
def storage(db_url: str) -> Any:
    storage = Storage.open(db_url)
    yield storage
    storage.close()


def watch(storage: Storage, check: ScriptedCheck, recorder: Recorder) -> TokenWatch:
    settings = fb_settings()
    clock = FakeClock(BASE)
    alerts = Alerts([recorder])
    outbox = Outbox(
        storage, settings, lambda c, _o: ScriptedPublisher(c.id), clock=clock, alerts=alerts
    )
    return TokenWatch(settings, storage, outbox, clock=clock, alerts=alerts, check=check)


def paused_by(storage: Storage, channel_id: str) -> str | None:
    state = storage.channel_state(channel_id)
    return state.paused_by if state.paused else None


async def test_a_refused_token_pauses_its_page_once_and_a_working_one_resumes_it(
    storage: Storage,
) -> None:
    recorder = Recorder()
    check = ScriptedCheck({"fb-a": Health(ok=False, messages=[EXPIRED]), "fb-b": Health(ok=True)})
    tokens = watch(storage, check, recorder)
    await tokens.check_all()
    assert check.asked == ["fb-a", "fb-b"]  # only the Facebook channels are asked
    assert (paused_by(storage, "fb-a"), paused_by(storage, "fb-b")) == ("auth", None)
    assert storage.channel_state("fb-a").pause_reason == EXPIRED
    assert len(recorder.messages) == 1 and "fb-a" in recorder.messages[0]

    await tokens.check_all()  # still refused: the pause stays, no second alert
    assert paused_by(storage, "fb-a") == "auth" and len(recorder.messages) == 1

    check.answers["fb-a"] = Health(ok=True)
    await tokens.check_all()
    assert paused_by(storage, "fb-a") is None
    assert "Canal repris" in recorder.messages[-1] and "fb-a" in recorder.messages[-1]


async def test_a_working_token_never_lifts_an_admins_pause(storage: Storage) -> None:
    storage.set_paused("fb-a", True, "/pause", BASE, by="admin")
    recorder = Recorder()
    tokens = watch(
        storage, ScriptedCheck({"fb-a": Health(ok=True), "fb-b": Health(ok=True)}), recorder
    )
    await tokens.check_all()
    assert paused_by(storage, "fb-a") == "admin"
    assert recorder.messages == []


async def test_an_unreachable_graph_api_or_a_failing_check_changes_nothing(
    storage: Storage,
) -> None:
    storage.set_paused("fb-b", True, EXPIRED, BASE, by="auth")
    recorder = Recorder()
    check = ScriptedCheck(
        {"fb-a": RuntimeError("a bug in the check"), "fb-b": Health(ok=True, reachable=False)}
    )
    await watch(storage, check, recorder).check_all()
    assert check.asked == ["fb-a", "fb-b"]  # the first one's failure does not stop the second
    assert (paused_by(storage, "fb-a"), paused_by(storage, "fb-b")) == (None, "auth")
    assert recorder.messages == []
