"""Every page and action through the real ASGI app: permissions, login links, CSRF, effects."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot.models import Article, DeliveryState
from bot.storage.store import Storage
from bot.web import auth
from bot.web.app import create_app
from tests.web.conftest import ADMIN, SITE, STRANGER, Client, World, client_for


def body(response: httpx.Response) -> str:
    """The page's text with its HTML entities decoded (the templates escape apostrophes)."""
    return html.unescape(response.text)


PAGES = [
    "/",
    "/queue",
    "/queue?channel=tg-main",
    "/history",
    "/history?q=kayes",
    "/preview",
    "/planning",
    "/subscribers",
]
CLOSED_PORT = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
ACTIONS = ["publish", "move", "skip", "retry", "teaser"]


@pytest.mark.parametrize("page", PAGES)
async def test_anonymous_pages_are_refused(client: Client, page: str) -> None:
    response = await client.http.get(page)
    assert response.status_code == 403
    assert "/web" in body(response)  # says how to get a link


async def test_anonymous_article_page_is_refused(client: Client, world: World) -> None:
    response = await client.http.get(f"/article/{world.keys['sent']}")
    assert response.status_code == 403 and "Kayes" not in body(response)


@pytest.mark.parametrize("action", ACTIONS)
async def test_anonymous_actions_are_refused(client: Client, world: World, action: str) -> None:
    before = world.storage.delivery(world.ids["queued"])
    response = await client.http.post(f"/queue/{world.ids['queued']}/{action}", data={"csrf": "x"})
    assert response.status_code == 403
    assert world.storage.delivery(world.ids["queued"]) == before


@pytest.mark.parametrize("page", PAGES)
async def test_admin_sees_every_page(client: Client, page: str) -> None:
    assert (await client.login()).status_code == 303
    response = await client.http.get(page)
    assert response.status_code == 200
    assert 'name="viewport"' in body(response) and "Se déconnecter" in body(response)


async def test_a_non_admin_link_is_refused(client: Client) -> None:
    response = await client.login(STRANGER)
    assert response.status_code == 403
    assert "n'est pas (ou plus) administrateur" in body(response)
    assert (await client.http.get("/")).status_code == 403


async def test_an_admin_removed_from_the_config_loses_the_session(
    client: Client, world: World
) -> None:
    await client.login()
    app_ctx = client.http._transport.app.state.dashboard.ctx  # type: ignore[attr-defined]
    app_ctx.settings = world.settings.model_copy(
        update={"telegram": world.settings.telegram.model_copy(update={"admins": ()})}
    )
    assert (await client.http.get("/")).status_code == 403


async def test_a_link_works_once(client: Client) -> None:
    link = client.link()
    path = "/" + link.split("/", 3)[3]
    assert (await client.http.get(path)).status_code == 200  # the button page uses nothing
    assert (await client.http.post(path)).status_code == 303
    client.http.cookies.clear()
    replay = await client.http.post(path)
    assert replay.status_code == 403 and "déjà servi" in body(replay)
    assert (await client.http.get("/")).status_code == 403


async def test_an_expired_link_is_refused(client: Client, world: World) -> None:
    link = client.link()
    world.clock.advance(timedelta(minutes=10, seconds=1))
    response = await client.http.post("/" + link.split("/", 3)[3])
    assert response.status_code == 403 and "expiré" in body(response)


@pytest.mark.parametrize("forge", ["tamper", "other-secret", "garbage"])
async def test_a_forged_link_is_refused(client: Client, world: World, forge: str) -> None:
    token = client.link().rsplit("/", 1)[1]
    if forge == "tamper":  # another admin's id with the old signature
        head, rest = token.split(".", 1)
        token = auth.login_token("x", 1, world.clock.now()).split(".", 1)[0] + "." + rest
        assert head != token.split(".", 1)[0]
    elif forge == "other-secret":
        token = auth.login_token("not-the-database-secret", ADMIN, world.clock.now())
    else:
        token = "bm9wZQ.aaaa.bbbb"
    response = await client.http.post(f"/login/{token}")
    assert response.status_code == 403 and "n'est pas valable" in body(response)
    assert (await client.http.get("/")).status_code == 403


async def test_login_attempts_are_rate_limited(client: Client) -> None:
    codes = [(await client.http.get("/login/forged.token.x")).status_code for _ in range(12)]
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]


async def test_session_cookie_flags(client: Client) -> None:
    response = await client.login()
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


async def test_logout_ends_the_session(client: Client) -> None:
    await client.login()
    csrf = await client.csrf("/")
    assert (await client.http.post("/logout", data={"csrf": csrf})).status_code == 303
    assert (await client.http.get("/")).status_code == 403


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_form_without_csrf_is_refused(client: Client, world: World, action: str) -> None:
    await client.login()
    before = world.storage.delivery(world.ids["queued"])
    for data in ({}, {"csrf": "wrong"}):
        response = await client.http.post(f"/queue/{world.ids['queued']}/{action}", data=data)
        assert response.status_code == 403 and "Formulaire expiré" in body(response)
    assert world.storage.delivery(world.ids["queued"]) == before


async def test_planning_without_csrf_is_refused(client: Client, world: World) -> None:
    await client.login()
    before = world.config.read_text()
    response = await client.http.post("/planning/tg-main", data={"quiet_hours": "22:00-07:00"})
    assert response.status_code == 403
    assert world.config.read_text() == before


async def act(client: Client, delivery_id: int, action: str, **data: str) -> str:
    csrf = await client.csrf()
    response = await client.http.post(
        f"/queue/{delivery_id}/{action}", data={"csrf": csrf, **data}, follow_redirects=True
    )
    assert response.status_code == 200
    found = re.search(r'<p class="flash" role="status">([^<]*)</p>', body(response))
    assert found, body(response)[:500]
    return found.group(1)


def audit(world: World) -> list[tuple[int, str, str]]:
    return [(a.author, a.action, a.target) for a in world.storage.actions()]


async def test_skip_and_retry(client: Client, world: World) -> None:
    await client.login()
    queued, failed = world.ids["queued"], world.ids["failed"]
    assert "est ignorée" in await act(client, queued, "skip")
    skipped = world.storage.delivery(queued)
    assert skipped is not None and skipped.state is DeliveryState.SKIPPED
    assert skipped.error == f"skipped by admin {ADMIN}"
    assert "remise en file" in await act(client, failed, "retry")
    retried = world.storage.delivery(failed)
    assert retried is not None and retried.state is DeliveryState.QUEUED
    refused = await act(client, queued, "retry")  # a skipped post cannot be retried
    assert "Impossible" in refused and "ignoré" in refused
    assert audit(world)[:2] == [(ADMIN, "retry", f"#{failed}"), (ADMIN, "skip", f"#{queued}")]


async def test_publish_now_and_move(client: Client, world: World) -> None:
    await client.login()
    queued = world.ids["second"]
    assert "reportée" in await act(client, queued, "move")
    moved = world.storage.delivery(queued)
    # planned at 09:10 (the newer article goes at 09:00, then the 10-minute gap): one hour later
    assert moved is not None and moved.due_at == world.clock.now() + timedelta(hours=1, minutes=10)
    assert "part dès que" in await act(client, queued, "publish")
    now = world.storage.delivery(queued)
    assert now is not None and now.due_at == world.clock.now()


async def test_edit_teaser_is_rendered_by_the_preview(client: Client, world: World) -> None:
    await client.login()
    queued = world.ids["queued"]
    text = "Le ministère détaille le calendrier : rentrée le 2 décembre dans tout le pays."
    assert "est enregistré" in await act(client, queued, "teaser", teaser=text)
    assert world.storage.teaser_edit(queued) == text
    preview = await client.http.get(f"/preview?delivery={queued}")
    assert text in body(preview)
    queue = await client.http.get("/queue?channel=tg-main")
    assert "texte modifié par un admin" in body(queue)
    refused = await act(client, world.ids["sent"], "teaser", teaser="trop tard")
    assert "Impossible" in refused


async def test_unknown_action_or_delivery_is_404(client: Client, world: World) -> None:
    await client.login()
    csrf = await client.csrf()
    assert (await client.http.post("/queue/999999/skip", data={"csrf": csrf})).status_code == 404
    response = await client.http.post(f"/queue/{world.ids['queued']}/explode", data={"csrf": csrf})
    assert response.status_code == 404


async def test_history_finds_by_title_and_url_with_reasons(client: Client, world: World) -> None:
    await client.login()
    by_title = body(await client.http.get("/history?q=offre spéciale"))
    assert "ignoré : catégorie Publicité exclue" in by_title
    by_url = body(await client.http.get("/history?q=article-2/"))
    assert "Kayes" in by_url and "déjà publié le" in by_url and "Sikasso" not in by_url
    assert 'href="https://t.me/kibaru_info/77"' in by_url
    nothing = body(await client.http.get("/history?q=100%25"))  # a LIKE wildcard, literally
    assert "Aucun article ne correspond" in nothing


async def test_article_page_gives_every_channel(client: Client, world: World) -> None:
    await client.login()
    page = body(await client.http.get(f"/article/{world.keys['sent']}"))
    assert "déjà publié le 2 nov. 08:10" in page  # 08:10 UTC is 08:10 in Bamako
    assert 'href="https://t.me/kibaru_info/77"' in page
    assert "fb-main" in page and "pas concerné" in page
    waiting = body(await client.http.get(f"/article/{world.keys['queued']}"))
    assert "part au prochain tour" in waiting
    assert (await client.http.get("/article/nope")).status_code == 404


async def test_preview_refuses_other_sites(client: Client) -> None:
    await client.login()
    page = body(await client.http.get("/preview?url=https://ailleurs.example/x"))
    assert "Seuls les articles de kibaru-info.example" in page


async def test_preview_by_url_renders_both_platforms(world: World) -> None:
    second = world.storage.article(world.keys["second"])

    async def fetch(url: str) -> Article | None:  # the app's fetch_article: a recorded article
        return second if url == second.url else None

    async with client_for(world, fetch_article=fetch) as client:
        await client.login()
        page = (await client.http.get("/preview", params={"url": second.url})).text
        missing = body(await client.http.get("/preview", params={"url": f"{SITE}/nulle-part/"}))
    assert page.count('class="preview"') == 2
    assert 'class="tg"' in page and 'class="fb"' in page
    assert "<b>Ségou : les maraîchers" in page  # Telegram's bold title, as HTML
    assert "Lire l'article" in html.unescape(page)
    assert "Aucun article trouvé à cette adresse" in missing


async def test_english_pages(world: World) -> None:
    site = world.settings.site.model_copy(update={"language": "en"})
    world.settings = world.settings.model_copy(update={"site": site})
    async with client_for(world) as client:
        await client.login()
        page = body(await client.http.get("/history?q=offre"))
    assert "skipped: category Publicité excluded" in page and 'lang="en"' in page


async def test_today_shows_feeds_channels_alerts(client: Client, world: World) -> None:
    await client.login()
    page = body(await client.http.get("/"))
    assert "Échec sur tg-main : « Sikasso" in page
    assert "Issue incertaine sur tg-main : « Mopti" in page
    assert "kibaru" in page and "pas encore relevé" in page
    assert "connexion" not in page.lower() or "login" in audit(world)[0][1]


async def test_subscribers_page(client: Client, world: World) -> None:
    from bot.storage.readers import ReaderStore

    readers = ReaderStore(world.storage.engine)
    readers.subscribe(7001, 7001, "politique", "Politique", world.clock.now())
    await client.login()
    page = body(await client.http.get("/subscribers"))
    assert "1 abonné(s)" in page and "Politique : 1" in page


async def test_healthz_and_metrics(client: Client, world: World) -> None:
    health = await client.http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    text = body(await client.http.get("/metrics"))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    counts = {c.channel_id: c.counts for c in world.storage.channel_counts()}["tg-main"]
    for state, n in counts.items():
        key = ("relais_deliveries_total", (("channel", "tg-main"), ("state", state)))
        assert samples[key] == n
    assert samples[("relais_queue_depth", (("channel", "tg-main"),))] == counts["queued"]
    assert samples[("relais_articles", ())] == 6
    # No service in this process (as `relais web`): the database's figures only, and it says so.
    assert samples[("relais_in_process_metrics", ())] == 0
    assert samples[("relais_database_up", ())] == 1
    assert "relais_polls" not in families and "relais_rate_limited" not in families


async def test_healthz_is_503_when_the_database_does_not_answer(world: World) -> None:
    """PostgreSQL "stopped": the dashboard's store points at a closed port, then back."""
    ctx = world.context()
    app = create_app(ctx)
    alive = ctx.storage
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as http:
        ctx.storage = Storage(sa.create_engine(CLOSED_PORT))
        down = await http.get("/healthz")
        assert down.status_code == 503
        assert down.json()["reasons"][0].startswith("database: ")
        ctx.storage = alive
        assert (await http.get("/healthz")).status_code == 200


async def test_metrics_keep_the_process_counters_when_the_database_does_not_answer(
    world: World,
) -> None:
    from bot.delivery.ingest import PollReport
    from bot.web.metrics import ServiceMetrics

    service = ServiceMetrics()
    service.polled(PollReport("kibaru", "error", "HTTP 503"), 0.4)
    ctx = world.context(metrics=service)
    alive = ctx.storage
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://x"
    ) as http:
        ctx.storage = Storage(sa.create_engine(CLOSED_PORT))
        down = await http.get("/metrics")
        ctx.storage = alive
        back = await http.get("/metrics")
    for answer, up in ((down, 0), (back, 1)):
        assert answer.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(answer.text)
            for s in f.samples
        }
        assert samples[("relais_database_up", ())] == up
        assert samples[("relais_polls_total", (("result", "error"),))] == 1
        assert samples[("relais_in_process_metrics", ())] == 1
        assert (("relais_articles", ()) in samples) is bool(up)


async def test_healthz_flags_a_stuck_delivery_loop(world: World) -> None:
    rounds = [world.clock.now()]
    async with client_for(world, last_round=lambda: rounds[-1]) as client:
        assert (await client.http.get("/healthz")).status_code == 200
        world.clock.advance(timedelta(minutes=6))
        stuck = await client.http.get("/healthz")
        rounds.append(world.clock.now())  # the loop finishes a round again
        again = await client.http.get("/healthz")
    assert stuck.status_code == 503
    assert stuck.json() == {
        "status": "unhealthy",
        "reasons": ["delivery: the last round ended 6 min ago"],
    }
    assert again.status_code == 200 and again.json() == {"status": "ok", "reasons": []}


async def test_every_answer_carries_the_security_headers(client: Client) -> None:
    for path in ("/", "/healthz", "/static/relais.css"):
        headers = (await client.http.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"


def test_only_web_addresses_become_links() -> None:
    from bot.web.base import web_link

    assert web_link("https://t.me/kibaru_info/77") == "https://t.me/kibaru_info/77"
    assert web_link("javascript:alert(1)") == "#" and web_link(None) == "#"


async def test_alerts_sent_to_the_admins_are_listed_on_today(client: Client, world: World) -> None:
    from bot.delivery.alerts import Alerts
    from bot.web.journal import AlertJournal

    alerts = Alerts([])
    alerts.add_notifier(AlertJournal(world.storage, world.clock))
    alerts.add("Jeton Facebook refusé", "fb-main : le jeton a expiré, la Page est en pause.")
    await alerts.flush()
    await client.login()
    page = body(await client.http.get("/"))
    assert "Jeton Facebook refusé — fb-main : le jeton a expiré" in page
    metrics = (await client.http.get("/metrics")).text
    assert "relais_alerts_total 1.0" in metrics
    world.clock.advance(timedelta(days=3))
    assert "Aucune alerte ces deux derniers jours" in body(await client.http.get("/"))
