"""Reader bot fixtures: the fake Bot API, an archive, a running ReaderBot, a chat driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.clock import FakeClock
from bot.models import Article
from bot.publishers.telegram import BotTimeouts, make_bot
from bot.settings import Settings
from bot.storage.store import Storage
from bot.telegram_bot.context import AdminHooks
from bot.telegram_bot.service import ReaderBot
from tests.builders import BAMADA, BASE, new_article, settings
from tests.fakes.telegram_api import Call, FakeTelegram, callback_update, message_update
from tests.waiting import wait_until_async

ADMIN = 900
FR = 555  # a reader whose Telegram speaks French
EN = 556  # a reader whose Telegram speaks English
OTHER = 557  # a third reader (for the command limit)
CHANNEL_ID = -1001234567890
SITE = BAMADA.url
START = BASE
FAST = BotTimeouts(connect=2.0, read=3.0, write=3.0, media_write=3.0, pool=2.0)


def reader_settings(tg: FakeTelegram, **telegram: Any) -> Settings:
    """Bamada.net with two feeds, a channel and the console, and the reader bot on `tg`."""
    return settings(
        site=BAMADA,
        about={"language": "fr", "timezone": "Africa/Bamako"},
        feeds=[
            {"id": "bamada", "url": f"{SITE}/feed"},
            {"id": "journal", "url": "https://www.journal-du-mali.example/feed"},
        ],
        channels=[
            {"id": "tg-main", "type": "telegram", "chat": "@bamada_net", "max_age": None},
            {"id": "out", "type": "console", "max_age": None},
        ],
        telegram={
            "token": tg.token,
            "api_url": tg.base_url,
            "admins": [ADMIN],
            "digest_at": "07:00",
            **telegram,
        },
    )


# Re-export for test_store.py and test_broadcasts.py (edited on another branch); the other
# reader tests call BAMADA.article from tests/builders.py.
article = BAMADA.article


def record(storage: Storage, articles: Sequence[Article], now: datetime = START) -> None:
    storage.record([new_article(a) for a in articles], now)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(long_poll_cap=0.2) as fake:
        fake.set_chat(CHANNEL_ID, username="bamada_net", title="Bamada.net")
        for user_id, name in ((ADMIN, "Moussa"), (FR, "Awa"), (EN, "John"), (OTHER, "Fanta")):
            fake.set_chat(user_id, type="private", first_name=name)
        yield fake


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = Storage.open(f"sqlite:///{tmp_path / 'relais.db'}")
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@dataclass
class FakeHooks:
    """The app's /post and /preview callables, faked: known URLs → articles."""

    articles: dict[str, Article] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    enqueued: list[Article] = field(default_factory=list)
    woken: int = 0
    channels: list[str] = field(default_factory=lambda: ["tg-main", "out"])

    async def fetch_article(self, url: str) -> Article | None:
        self.fetched.append(url)
        return self.articles.get(url)

    async def enqueue(self, item: Article) -> list[str]:
        self.enqueued.append(item)
        return list(self.channels)

    def wake(self) -> None:
        self.woken += 1

    def hooks(self) -> AdminHooks:
        return AdminHooks(fetch_article=self.fetch_article, enqueue=self.enqueue, wake=self.wake)


@pytest.fixture
def hooks() -> FakeHooks:
    return FakeHooks()


async def open_bot(tg: FakeTelegram, *, rate_limited: bool = False) -> ExtBot[Any]:
    bot = make_bot(reader_settings(tg).telegram, rate_limited=rate_limited, timeouts=FAST)
    await bot.initialize()
    return bot


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[ExtBot[Any]]:
    client = await open_bot(tg)
    yield client
    await client.shutdown()


@pytest.fixture
async def reader(
    tg: FakeTelegram,
    storage: Storage,
    clock: FakeClock,
    hooks: FakeHooks,
    bot: ExtBot[Any],
) -> AsyncIterator[ReaderBot]:
    record(storage, ARCHIVE)
    service = ReaderBot(
        reader_settings(tg), storage, bot=bot, clock=clock, hooks=hooks.hooks(), poll_timeout=1
    )
    service.broadcaster.index_backlog()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


# The archive the reader tests start with: accents in titles and categories on purpose.
ARCHIVE = [
    article(
        1,
        title="Sécurité : l'armée malienne renforce sa présence à Mopti",
        categories=("Sécurité", "Actualité"),
    ),
    article(
        2,
        title="Élections : le calendrier électoral publié par l'AIGE",
        categories=("Politique",),
    ),
    article(3, title="Économie : le prix du coton fixé pour la campagne", categories=("Économie",)),
    article(
        4,
        title="Football : les Aigles qualifiés pour la CAN",
        categories=("Sport",),
        content="<p>Les Aigles du Mali se sont qualifiés dimanche à Bamako pour la prochaine "
        "CAN, après une victoire nette.</p>",
    ),
    article(
        5,
        title="Santé : une campagne de vaccination contre la rougeole",
        categories=("Santé", "Société"),
    ),
    article(
        6,
        title="Politique : le Premier ministre reçoit les partis",
        categories=("Politique",),
    ),
    article(7, title="Bamako : <b>coupures</b> & délestages à répétition", categories=("Société",)),
]


class Chat:
    """A reader's private chat with the bot, driven through the fake server."""

    def __init__(
        self, tg: FakeTelegram, user_id: int, language: str | None = "fr", name: str = "Awa"
    ) -> None:
        self.tg = tg
        self.user_id = user_id
        self.language = language
        self.name = name

    def replies(self) -> list[Call]:
        """Messages the bot sent or edited in this chat, in order."""
        return [
            c
            for c in self.tg.calls()
            if c.method in {"sendMessage", "editMessageText"}
            and c.params.get("chat_id") == str(self.user_id)
        ]

    def answers(self) -> list[Call]:
        return self.tg.calls("answerCallbackQuery")

    async def _wait(self, count: Any, target: int, wait: float) -> None:
        await wait_until_async(lambda: len(count()) >= target, wait, what=f"{target} answers")

    async def say(self, message: str, *, expect: int = 1, wait: float = 5.0) -> list[Call]:
        """Send a message; wait for `expect` new replies and return them."""
        before = len(self.replies())
        self.tg.push_update(
            message_update(
                message,
                chat_id=self.user_id,
                user_id=self.user_id,
                language_code=self.language,
                first_name=self.name,
            )
        )
        await self._wait(self.replies, before + expect, wait)
        return self.replies()[before:]

    async def text(self, message: str) -> str:
        """Send a message and return the text of the one reply."""
        [reply] = await self.say(message)
        return str(reply.params["text"])

    async def press(
        self, data: str, *, message_id: int = 1, expect: int = 0, wait: float = 5.0
    ) -> list[Call]:
        """Press an inline button; wait for its answerCallbackQuery and `expect` replies."""
        answers, before = len(self.answers()), len(self.replies())
        self.tg.push_update(
            callback_update(
                data,
                chat_id=self.user_id,
                user_id=self.user_id,
                message_id=message_id,
                query_id=f"q{answers + 1}",
                first_name=self.name,
            )
        )
        await self._wait(self.answers, answers + 1, wait)
        await self._wait(self.replies, before + expect, wait)
        return self.replies()[before:]


@pytest.fixture
def awa(tg: FakeTelegram) -> Chat:
    return Chat(tg, FR, "fr")


@pytest.fixture
def john(tg: FakeTelegram) -> Chat:
    return Chat(tg, EN, "en", "John")


@pytest.fixture
def boss(tg: FakeTelegram) -> Chat:
    return Chat(tg, ADMIN, "fr", "Moussa")


class Handled:
    """The ids of the updates the bot's application has finished handling, handlers and all."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    async def wait(self, *update_ids: int) -> None:
        """Until every one of these updates (ids from `push_update`) has been handled."""
        wanted = set(update_ids)
        await wait_until_async(lambda: wanted <= self.ids, what=f"updates {sorted(wanted)}")


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> Handled:
    """Record each update once python-telegram-bot's `process_update` is done with it: the event
    a test waits on before it asserts that an update got no answer."""
    record = Handled()
    original = Application.process_update

    async def process_update(
        app: Application[Any, Any, Any, Any, Any, Any], update: object
    ) -> None:
        try:
            await original(app, update)
        finally:
            if isinstance(update, Update):
                record.ids.add(update.update_id)

    monkeypatch.setattr(Application, "process_update", process_update)
    return record


def buttons(call: Call) -> list[tuple[str, str]]:
    """(text, callback_data or url) of every inline button of a reply."""
    markup = call.params.get("reply_markup") or {}
    return [
        (b["text"], b.get("callback_data") or b.get("url") or "")
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]
