"""Pure decisions of the dashboard: reasons in words, login verdicts, health, the projected plan."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.alerts import Alerts
from bot.delivery.ingest import PollReport
from bot.delivery.outbox import Outbox
from bot.logs import setup_logging
from bot.models import Delivery, DeliveryState, Outcome, Pause, PublishResult, TelegramPost
from bot.settings import settings_from_mapping
from bot.storage.store import Storage
from bot.web import auth
from bot.web.health import health
from bot.web.metrics import ServiceMetrics
from bot.web.plan import next_slot_after
from bot.web.reasons import explain
from tests.builders import BASE, article, new_article, settings
from tests.fakes.scripted_publisher import ScriptedPublisher
from tests.web.conftest import make_article

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BAMAKO = ZoneInfo("Africa/Bamako")
CHANNEL = settings_from_mapping(
    {
        "channels": [
            {
                "id": "tg",
                "type": "telegram",
                "chat": "@kibaru_info",
                "exclude": {"categories": ["Publicité"], "keywords": ["pari sportif"]},
                "min_gap": "10m",
                "max_per_day": 3,
                "quiet_hours": "22:00-06:00",
            }
        ],
        "telegram": {"token": "1:x"},
    },
    env={},
).channels[0]


def delivery(
    state: DeliveryState, *, error: str | None = None, due: datetime = NOW, **kw: object
) -> Delivery:
    return Delivery(1, "k", "tg", state, due, error=error, **kw)  # type: ignore[arg-type]


EXCLUDE = "filtered out: matches the channel's exclude rules"


@pytest.mark.parametrize(
    ("lang", "state", "error", "categories", "title", "expected"),
    [
        (
            "fr",
            DeliveryState.SKIPPED,
            EXCLUDE,
            ("Publicité",),
            "Offre",
            "ignoré : catégorie Publicité exclue",
        ),
        (
            "fr",
            DeliveryState.SKIPPED,
            EXCLUDE,
            (),
            "Le pari sportif en ligne",
            "ignoré : mot-clé « pari sportif » exclu",
        ),
        (
            "en",
            DeliveryState.SKIPPED,
            EXCLUDE,
            ("publicite",),
            "Ad",
            "skipped: category Publicité excluded",
        ),
        (
            "fr",
            DeliveryState.SKIPPED,
            "baseline: already in the feed on the first poll",
            (),
            "x",
            "ignoré : déjà dans le flux au premier relevé",
        ),
        (
            "fr",
            DeliveryState.SKIPPED,
            "older than the channel's max_age",
            (),
            "x",
            "ignoré : article trop ancien (plus de 48 h)",
        ),
        (
            "fr",
            DeliveryState.SKIPPED,
            "filtered out: matches none of the channel's include rules",
            (),
            "x",
            "ignoré : ne correspond à aucune rubrique suivie par ce canal",
        ),
        (
            "fr",
            DeliveryState.SKIPPED,
            "skipped by admin 42",
            (),
            "x",
            "ignoré : écarté par un admin 42",
        ),
        (
            "fr",
            DeliveryState.FAILED,
            "Bad Request: chat not found",
            (),
            "x",
            "échec définitif : Bad Request: chat not found",
        ),
        ("fr", DeliveryState.QUEUED, None, (), "x", "part au prochain tour de publication"),
        ("fr", DeliveryState.SENDING, None, (), "x", "en cours d'envoi"),
    ],
)
def test_reasons_in_words(lang, state, error, categories, title, expected) -> None:  # type: ignore[no-untyped-def]
    art = make_article(1, title, categories=categories)
    assert (
        explain(delivery(state, error=error), art, CHANNEL, lang=lang, tz=BAMAKO, now=NOW)
        == expected
    )


def test_sent_and_waiting_give_local_times() -> None:
    art = make_article(1, "x")
    sent = delivery(DeliveryState.SENT, sent_at=datetime(2026, 5, 3, 7, 30, tzinfo=UTC))
    assert (
        explain(sent, art, CHANNEL, lang="fr", tz=BAMAKO, now=NOW) == "déjà publié le 3 mai 07:30"
    )
    later = delivery(DeliveryState.QUEUED, due=NOW + timedelta(hours=3, minutes=30))
    assert (
        explain(later, art, CHANNEL, lang="fr", tz=BAMAKO, now=NOW)
        == "en attente du créneau de 2 nov. 12:30"
    )


ADMINS = frozenset({7})
CLAIM = auth.LoginClaim(7, "n")


@pytest.mark.parametrize(
    ("claim", "first_use", "expected"),
    [
        (CLAIM, True, None),
        (CLAIM, False, auth.LoginRefusal.USED),
        (auth.LoginClaim(8, "n"), True, auth.LoginRefusal.NOT_ADMIN),
        (auth.LoginRefusal.FORGED, True, auth.LoginRefusal.FORGED),
        (auth.LoginRefusal.EXPIRED, True, auth.LoginRefusal.EXPIRED),
    ],
)
def test_login_verdicts(claim, first_use, expected) -> None:  # type: ignore[no-untyped-def]
    assert auth.decide_login(claim, ADMINS, first_use=first_use) == expected


def test_tokens_expire_after_ten_minutes_and_need_the_secret() -> None:
    token = auth.login_token("s3cret", 7, NOW)
    assert auth.read_token("s3cret", token, NOW + timedelta(minutes=10)) == auth.LoginClaim(
        7,
        auth.read_token("s3cret", token, NOW).nonce,  # type: ignore[union-attr]
    )
    assert (
        auth.read_token("s3cret", token, NOW + timedelta(minutes=10, seconds=1))
        is auth.LoginRefusal.EXPIRED
    )
    assert auth.read_token("other", token, NOW) is auth.LoginRefusal.FORGED
    assert auth.login_token("s3cret", 7, NOW) != token  # a fresh nonce each time
    assert not auth.csrf_ok("a", None) and not auth.csrf_ok("", "") and auth.csrf_ok("a", "a")


@pytest.mark.parametrize(
    ("db", "last", "worker", "ok"),
    [
        (None, NOW - timedelta(seconds=40), True, True),
        (None, None, False, True),  # relais web: no delivery loop here
        (None, None, True, False),
        (None, NOW - timedelta(minutes=6), True, False),
        ("connection refused", NOW, True, False),
    ],
)
def test_health(db, last, worker, ok) -> None:  # type: ignore[no-untyped-def]
    verdict = health(database_error=db, last_round=last, worker=worker, now=NOW)
    assert verdict.ok is ok and verdict.status == (200 if ok else 503)
    assert bool(verdict.reasons) is not ok


RESULT = PublishResult("77", "https://t.me/kibaru_info/77")
LIMITED = Outcome(DeliveryState.QUEUED, "429", due=NOW, end_round=True, rate_limited=True)


@pytest.mark.parametrize(
    ("outcome", "counts"),
    [
        (Outcome(DeliveryState.SENT, result=RESULT), {"sent": 1}),
        (LIMITED, {"queued": 1, "rate_limited": 1, "retries": 1}),
        (Outcome(DeliveryState.QUEUED, "502 Bad Gateway", due=NOW), {"queued": 1, "retries": 1}),
        (
            Outcome(DeliveryState.QUEUED, "moved", due=NOW, chat_moved="-1002"),
            {"queued": 1, "retries": 1},
        ),
        # refused credentials: the attempt does not count, the channel pauses; no retry
        (Outcome(DeliveryState.QUEUED, release=True, pause=Pause("token refused")), {"queued": 1}),
        (Outcome(DeliveryState.UNKNOWN, "timeout"), {"unknown": 1}),
        (Outcome(DeliveryState.FAILED, "chat not found"), {"failed": 1}),
    ],
)
def test_service_metrics_count_each_outcome(outcome: Outcome, counts: dict[str, int]) -> None:
    metrics = ServiceMetrics()
    metrics.decided("tg-main", outcome)
    got = {
        state.value: metrics.registry.get_sample_value(
            "relais_publish_outcomes_total", {"channel": "tg-main", "state": state.value}
        )
        for state in DeliveryState
    }
    for name, counter in (
        ("rate_limited", "relais_rate_limited_total"),
        ("retries", "relais_publish_retries_total"),
    ):
        got[name] = metrics.registry.get_sample_value(counter, {"channel": "tg-main"})
    assert {k: v for k, v in got.items() if v} == counts


def test_service_metrics_count_polls_on_a_registry_of_their_own() -> None:
    one, other = ServiceMetrics(), ServiceMetrics()  # one per App: no shared global registry
    found = [new_article(article(n)) for n in range(3)]
    one.polled(PollReport("kibaru", "ok", new=found), 0.2)
    one.polled(PollReport("kibaru", "not_modified"), 0.05)
    one.polled(PollReport("kibaru", "error", "HTTP 500"), 1.5)
    value = one.registry.get_sample_value
    assert [
        value("relais_polls_total", {"result": r}) for r in ("ok", "not_modified", "error")
    ] == [1, 1, 1]
    assert value("relais_poll_duration_seconds_count") == 3
    assert value("relais_poll_duration_seconds_bucket", {"le": "0.25"}) == 2
    assert value("relais_articles_seen_total", {"feed": "kibaru"}) == 3
    assert other.registry.get_sample_value("relais_polls_total", {"result": "ok"}) == 0


SLOTTED = settings_from_mapping(
    {
        "channels": [
            {
                "id": "tg",
                "type": "telegram",
                "chat": "@kibaru_info",
                "slots": {"mon-fri": ["07:30", "12:30"], "sat-sun": ["09:00"]},
            }
        ],
        "telegram": {"token": "1:x"},
    },
    env={},
).channels[0]
MONDAY = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)  # Bamako is UTC all year


@pytest.mark.parametrize(
    ("channel", "planned", "expected"),
    [
        (CHANNEL, MONDAY, MONDAY + timedelta(hours=1)),  # no slots: one hour later
        (CHANNEL, MONDAY - timedelta(days=1), MONDAY + timedelta(hours=1)),  # from now, not before
        (SLOTTED, MONDAY, datetime(2026, 11, 2, 12, 30, tzinfo=UTC)),
        (
            SLOTTED,
            datetime(2026, 11, 2, 12, 30, tzinfo=UTC),
            datetime(2026, 11, 3, 7, 30, tzinfo=UTC),
        ),
        (
            SLOTTED,
            datetime(2026, 11, 6, 12, 30, tzinfo=UTC),
            datetime(2026, 11, 7, 9, 0, tzinfo=UTC),
        ),
    ],
)
def test_move_to_the_next_slot(channel, planned, expected) -> None:  # type: ignore[no-untyped-def]
    assert next_slot_after(channel, planned, MONDAY, BAMAKO) == expected


def test_json_logs_are_one_object_a_line_without_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(logging.INFO, ["fb-secret-token-value"], json_lines=True)
    logging.getLogger("relais.test").warning(
        "token fb-secret-token-value refused for %s", "fb-main"
    )
    [line] = capsys.readouterr().err.strip().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "relais.test"
    assert entry["message"] == "token *** refused for fb-main"


async def test_the_outbox_posts_the_teaser_an_admin_wrote(db_url: str) -> None:
    from bot.clock import FakeClock

    config = settings(
        [{"id": "tg", "type": "telegram", "chat": "@sahel_actu", "max_age": None}],
        telegram={"token": "123:abc"},
    )
    storage = Storage.open(db_url)
    publisher = ScriptedPublisher("tg")
    outbox = Outbox(
        storage, config, lambda _c, _o: publisher, clock=FakeClock(BASE), alerts=Alerts([])
    )
    storage.record([new_article(article(1), ["tg"])], BASE)
    [row] = storage.deliveries()
    text = "Texte réécrit par la rédaction : le conseil se tient à Koulouba."
    assert storage.set_teaser(row.id, text, 7, BASE)
    await outbox.deliver_due()
    [post] = publisher.posts
    assert isinstance(post, TelegramPost) and text in post.text
    assert not storage.set_teaser(row.id, "trop tard", 7, BASE)
    await outbox.aclose()
    storage.close()


def test_both_catalogues_say_everything_the_pages_ask_for() -> None:
    import re
    from importlib.resources import files

    from bot.web.actions import ACTIONS
    from bot.web.texts import EN, FR

    assert set(FR) == set(EN)
    used: set[str] = set()
    for template in files("bot.web").joinpath("templates").iterdir():
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", template.read_text()))
    used -= {"act_", "state_"}  # prefixes the templates complete
    used |= {f"act_{name}" for name in [*ACTIONS, "login", "planning"]}
    used |= {f"state_{state.value}" for state in DeliveryState}
    used |= {f"refused_{refusal.value}" for refusal in auth.LoginRefusal}
    assert used - set(FR) == set()
    for key, value in FR.items():  # the same placeholders in both languages
        assert set(re.findall(r"{(\w+)}", value)) == set(re.findall(r"{(\w+)}", EN[key])), key
