"""The dashboard under test: a commented config file, a database with every delivery state, and
an httpx client on the real ASGI app (ASGITransport), logged in or not."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.clock import FakeClock
from bot.feeds.identity import article_key, canonical_url, normalise_title
from bot.models import Article, DeliveryState, NewArticle, PublishResult, SkipReason
from bot.settings import Settings, load_settings
from bot.storage.store import Storage
from bot.web.app import create_app
from bot.web.context import WebContext
from bot.web.server import login_link

ADMIN = 424242
OTHER_ADMIN = 515151
STRANGER = 999
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SITE = "https://kibaru-info.example"
BASE_URL = "https://relais.kibaru.example"  # web.base_url in CONFIG

CONFIG = f"""\
# Relais, configuration de Kibaru Info (test du tableau de bord)
site: {{name: "Kibaru Info", url: "{SITE}", language: fr, timezone: "Africa/Bamako"}}
feeds:
  - id: kibaru
    url: "{SITE}/feed"      # le flux principal
channels:
  - id: tg-main
    type: telegram
    chat: "@kibaru_info"
    exclude: {{categories: ["Publicité"]}}
    min_gap: 10m                     # au moins dix minutes entre deux publications
    max_per_day: 40
    quiet_hours: "00:00-06:00"       # la nuit, on attend
  - {{id: fb-main, type: facebook, page_id: "1234567890", token: "${{FB_TOKEN}}", min_gap: 30m}}
telegram:
  token: "${{TG_TOKEN}}"
  admins: [{ADMIN}, {OTHER_ADMIN}]
web: {{listen: 127.0.0.1, port: 8080, base_url: "https://relais.kibaru.example"}}
"""
ENV = {"FB_TOKEN": "fb-secret-token-value", "TG_TOKEN": "123456:" + "A" * 35}


def make_article(n: int, title: str, *, categories: tuple[str, ...] = ()) -> Article:
    url = f"{SITE}/2026/11/{n:02d}/article-{n}/"
    canon = canonical_url(url)
    return Article(
        feed_id="kibaru",
        key=article_key(canon),
        guid=f"{SITE}/?p={500 + n}",
        url=url,
        canonical_url=canon,
        title=title,
        published=NOW - timedelta(hours=1, minutes=n),
        categories=categories,
        content_html=(
            f"<p>Bamako, le {n} novembre. Les autorités ont annoncé une série de mesures pour "
            "la rentrée scolaire. Les parents d'élèves saluent la décision.</p>"
        ),
    )


@dataclass
class World:
    settings: Settings
    storage: Storage
    clock: FakeClock
    config: Path
    ids: dict[str, int]  # name → delivery id
    keys: dict[str, str]  # name → article key

    def context(self, **kw: object) -> WebContext:
        return WebContext(
            settings=self.settings,
            storage=self.storage,
            clock=self.clock,
            config_path=self.config,
            **kw,  # type: ignore[arg-type]
        )


def build_world(url: str, tmp_path: Path) -> World:
    """Articles in every state a manager meets: queued, sent with a link, failed, unknown,
    skipped by the exclude filter (Publicité) and by the first poll."""
    config = tmp_path / "relais.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()))
    settings = load_settings(config, env={})
    storage = Storage.open(url)
    clock = FakeClock(NOW)
    storage.ensure_channels(["tg-main", "fb-main"], NOW - timedelta(days=1))
    arts = {
        "queued": make_article(1, "Rentrée scolaire : les nouvelles mesures du ministère"),
        "sent": make_article(2, "Kayes : la route nationale rouverte après les pluies"),
        "failed": make_article(3, "Sikasso : la foire agricole attire les producteurs"),
        "unknown": make_article(4, "Mopti : le festival des pêcheurs reporté"),
        "advert": make_article(5, "Offre spéciale : forfaits internet", categories=("Publicité",)),
        "second": make_article(6, "Ségou : les maraîchers face à la hausse des intrants"),
    }
    skip = SkipReason.EXCLUDED
    items = [
        NewArticle(a, normalise_title(a.title), [("tg-main", skip if name == "advert" else None)])
        for name, a in arts.items()
    ]
    storage.record(items, NOW - timedelta(hours=1))
    ids = {d.article_key: d.id for d in storage.deliveries(channel_id="tg-main")}
    by_name = {name: ids[a.key] for name, a in arts.items()}
    outcomes = {
        "sent": DeliveryState.SENT,
        "failed": DeliveryState.FAILED,
        "unknown": DeliveryState.UNKNOWN,
    }
    for name, state in outcomes.items():
        delivery = storage.delivery(by_name[name])
        assert delivery is not None
        with storage.engine.begin() as conn:  # straight to the state, as a past round left it
            from bot.storage import tables as t

            conn.execute(
                t.deliveries.update()
                .where(t.deliveries.c.id == delivery.id)
                .values(
                    state=DeliveryState.SENDING.value,
                    worker="w",
                    attempts=1,
                    attempted_at=NOW - timedelta(hours=2),
                )
            )
        claimed = storage.delivery(delivery.id)
        assert claimed is not None
        result = PublishResult("77", "https://t.me/kibaru_info/77") if name == "sent" else None
        storage.finish(
            claimed,
            NOW - timedelta(minutes=50),
            state=state,
            error=None if name == "sent" else "Bad Request: chat not found",
            result=result,
        )
    return World(settings, storage, clock, config, by_name, {n: a.key for n, a in arts.items()})


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    built = build_world(db_url, tmp_path)
    yield built
    built.storage.close()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    built = build_world(f"sqlite:///{tmp_path / 'relais.db'}", tmp_path)
    yield built
    built.storage.close()


class Client:
    """An httpx client on the ASGI app, with helpers to log in and post forms."""

    def __init__(self, http: httpx.AsyncClient, world: World) -> None:
        self.http = http
        self.world = world

    def link(self, user: int = ADMIN) -> str:
        return login_link(self.world.settings, self.world.storage, user, self.world.clock.now())

    async def login(self, user: int = ADMIN) -> httpx.Response:
        path = "/" + self.link(user).split("/", 3)[3]
        return await self.http.post(path)

    async def csrf(self, page: str = "/queue") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', (await self.http.get(page)).text)
        assert found, "the page carries no CSRF token"
        return found.group(1)


@asynccontextmanager
async def client_for(world: World, **context: object) -> AsyncIterator[Client]:
    """A client on an app built from the world's context, with `context` overriding parts."""
    app = create_app(world.context(**context))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield Client(http, world)


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    async with client_for(world) as made:
        yield made
