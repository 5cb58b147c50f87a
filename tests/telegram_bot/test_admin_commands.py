"""Admin commands through the real Application, and the polite refusal for everyone else."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.content.telegram_html import validate_telegram_html
from bot.models import DeliveryState, FeedState
from bot.storage.store import Storage
from bot.telegram_bot.service import ADMIN_COMMANDS, ReaderBot
from tests.builders import BAMADA, new_article
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_bot.conftest import ADMIN, EN, SITE, START, Chat, FakeHooks, reader_settings


def queue_some(storage: Storage) -> list[int]:
    """Four deliveries on tg-main: one sent, one unknown, one failed, one queued."""
    items = [BAMADA.article(80 + n, title=f"Dépêche {n} : <i>urgent</i>") for n in range(4)]
    storage.record([new_article(a, ["tg-main"]) for a in items], START)
    ids = [d.id for d in storage.deliveries(channel_id="tg-main")]
    claimed, _ = storage.claim(
        "tg-main", START, day_start=START, next_slot=lambda _l, _n: START, limit=3, worker="w"
    )
    from bot.models import DeliveryState, PublishResult

    sent, unknown, failed = sorted(claimed, key=lambda d: ids.index(d.id))
    storage.finish(sent, START, state=DeliveryState.SENT, result=PublishResult("42"))
    storage.finish(unknown, START, state=DeliveryState.UNKNOWN, error="Telegram did not answer")
    storage.finish(
        failed, START, state=DeliveryState.FAILED, error="Telegram refused the post: chat not found"
    )
    return ids


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_everyone_else_is_refused_politely_and_logged(
    reader: ReaderBot,
    awa: Chat,
    john: Chat,
    storage: Storage,
    hooks: FakeHooks,
    caplog: pytest.LogCaptureFixture,
    command: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="relais.admin")
    assert await awa.text(f"/{command} 1") == (
        "Désolé, cette commande est réservée aux administrateurs du bot."
    )
    assert await john.text(f"/{command} tg-main") == (
        "Sorry, this command is for the bot's administrators only."
    )
    assert f"refused /{command} from user {EN}" in caplog.text
    assert not storage.channel_state("tg-main").paused
    assert hooks.fetched == []


async def test_status_in_both_languages(
    reader: ReaderBot, boss: Chat, storage: Storage, tg: FakeTelegram
) -> None:
    queue_some(storage)
    storage.save_feed_state(
        FeedState(
            "bamada",
            url=f"{SITE}/feed",
            last_poll=START,
            last_result="12 entries, 1 new",
            next_poll=START + timedelta(minutes=5),
        )
    )
    storage.save_feed_state(
        FeedState(
            "journal",
            url="https://www.journal-du-mali.example/feed",
            last_poll=START,
            last_result="error: HTTP 503 <html>",
            consecutive_errors=3,
        )
    )
    storage.set_paused("out", True, "paused by admin", START)
    reader.readers.subscribe(1, 1, "securite", "Sécurité", START)
    reader.readers.set_digest(2, 2, True, START)
    message = await boss.text("/status")
    validate_telegram_html(message)
    assert message.startswith("📊 <b>État de Relais — Bamada.net</b>")
    assert (
        "✅ bamada : 12 entries, 1 new\n   relevé 2 nov. 09:00 · prochain 2 nov. 09:05" in message
    )
    assert "⚠️ journal : 3 échec(s) de suite — error: HTTP 503 &lt;html&gt;" in message
    assert "⚠️ tg-main (telegram) : 1 en attente, 1 envoyé(s), 1 en échec, 1 incertain(s)" in message
    assert "⚠️ out (console) : rien · ⏸ en pause : paused by admin" in message
    assert "2 abonné(s), dont 1 au résumé quotidien" in message
    english = Chat(tg, ADMIN, "en", "Moussa")
    message = await english.text("/status")
    assert message.startswith("📊 <b>Relais status — Bamada.net</b>")
    assert "1 queued, 1 sent, 1 failed, 1 unknown" in message


async def test_queue(reader: ReaderBot, boss: Chat, storage: Storage) -> None:
    assert "Rien en attente" in await boss.text("/queue")
    ids = queue_some(storage)
    message = await boss.text("/queue")
    validate_telegram_html(message)
    lines = message.splitlines()
    assert lines[0] == "📬 <b>File d'attente</b>"
    assert lines[1].startswith(f"#{ids[1]} tg-main · ⚠️ incertaine — Dépêche 1 : &lt;i&gt;")
    assert lines[2].startswith(f"#{ids[3]} tg-main · en attente (2 nov. 09:00)")
    assert lines[3].startswith(f"#{ids[2]} tg-main · ❌ en échec")
    assert "/retry" in lines[-1]
    assert (await boss.text("/queue tg-main")).startswith("📬 <b>File d'attente — tg-main</b>")
    assert await boss.text("/queue nope") == (
        "Je ne connais pas le canal « nope ». Canaux : tg-main, out."
    )


async def test_pause_and_resume(
    reader: ReaderBot, boss: Chat, storage: Storage, hooks: FakeHooks
) -> None:
    assert await boss.text("/pause tg-main") == "⏸ En pause : tg-main."
    assert storage.channel_state("tg-main").paused
    assert storage.channel_state("tg-main").pause_reason == f"paused by admin {ADMIN}"
    assert await boss.text("/pause") == "⏸ En pause : out.\nDéjà en pause : tg-main."
    assert hooks.woken == 0
    assert await boss.text("/resume") == "▶️ Reprise : tg-main, out."
    assert not storage.channel_state("out").paused
    assert hooks.woken == 1
    assert await boss.text("/resume out") == "Déjà en marche : out."
    assert (await boss.text("/pause <b>")).startswith("Je ne connais pas le canal « &lt;b&gt; »")


async def test_retry_and_skip(
    reader: ReaderBot, boss: Chat, storage: Storage, hooks: FakeHooks, clock: FakeClock
) -> None:
    sent, unknown, failed, queued = queue_some(storage)
    clock.advance(60)
    assert await boss.text(f"/retry {unknown}") == (
        f"🔁 La publication n° {unknown} (tg-main) est remise en file : elle partira bientôt."
    )
    row = storage.delivery(unknown)
    assert row is not None and row.state is DeliveryState.QUEUED
    assert row.error == "retried by admin" and row.due_at == START + timedelta(seconds=60)
    assert hooks.woken == 1
    assert (await boss.text(f"/retry #{failed}")).startswith(f"🔁 La publication n° {failed}")
    assert (await boss.text(f"/retry {sent}")).startswith(
        f"La publication n° {sent} est « sent » : seule une publication incertaine"
    )
    assert await boss.text("/retry 99999") == "Aucune publication n° 99999."
    for odd in ("", "abc", "-3", "0", "99999999999999999999999", "1e9"):
        assert (await boss.text(f"/retry {odd}")).startswith("Écrivez /retry"), odd
    assert await boss.text(f"/skip {queued}") == (
        f"⏭ La publication n° {queued} (tg-main) est abandonnée."
    )
    row = storage.delivery(queued)
    assert row is not None and row.state is DeliveryState.SKIPPED
    assert row.error == f"skipped by admin {ADMIN}"
    assert await boss.text(f"/skip {sent}") == f"La publication n° {sent} est déjà « sent »."
    assert (await boss.text("/skip")).startswith("Écrivez /skip")


async def test_post_only_fetches_urls_of_the_configured_sites(
    reader: ReaderBot, boss: Chat, hooks: FakeHooks
) -> None:
    url = f"{SITE}/2026/11/02/crue-du-niger/"
    hooks.articles[url] = BAMADA.article(90, title="Crue du Niger : alerte à Bamako")
    assert await boss.text(f"/post {url}") == (
        "📤 « Crue du Niger : alerte à Bamako » est en file pour : tg-main, out."
    )
    assert hooks.fetched == [url] and [a.key for a in hooks.enqueued] == [BAMADA.article(90).key]
    assert hooks.woken == 1
    for bad in ("https://evil.example/x", "http://127.0.0.1:8080/admin", "file:///etc/passwd"):
        message = await boss.text(f"/post {bad}")
        assert message in {
            "Je ne publie que des articles de bamada.net, journal-du-mali.example.",
            "Ce n'est pas une adresse web (https://…).",
        }, bad
    assert hooks.fetched == [url]  # nothing else was fetched
    assert await boss.text(f"/post {SITE}/nothing-here/") == (
        "Je n'ai pas trouvé d'article à cette adresse."
    )
    assert await boss.text("/post https://journal-du-mali.example/a/") == (
        "Je n'ai pas trouvé d'article à cette adresse."
    )  # a configured feed's host (without www.) is allowed
    hooks.channels = []
    assert (await boss.text(f"/post {url}")).startswith(
        "« Crue du Niger : alerte à Bamako » est déjà"
    )
    assert (await boss.text("/post")).startswith("Écrivez /post")


async def test_preview_renders_each_channel(
    reader: ReaderBot, boss: Chat, hooks: FakeHooks
) -> None:
    url = f"{SITE}/2026/11/02/crue-du-niger/"
    hooks.articles[url] = BAMADA.article(
        91,
        title="Crue du Niger : alerte <b>rouge</b> à Bamako",
        content="<p>Le fleuve a atteint un niveau record lundi soir, selon la direction de "
        "l'hydraulique.</p><p>Suivez-nous sur Facebook pour ne rien rater.</p>",
    )
    replies = await boss.say(f"/preview {url}", expect=2)
    telegram, console = (str(r.params["text"]) for r in replies)
    for message in (telegram, console):
        validate_telegram_html(message)
    assert telegram.startswith("👁 <b>Aperçu pour tg-main</b> (Telegram)")
    assert "<b>Crue du Niger : alerte rouge à Bamako</b>" in telegram  # markup is not text
    assert "Le fleuve a atteint un niveau record lundi soir" in telegram
    assert "Suivez-nous sur Facebook pour ne rien rater." not in telegram
    assert console.startswith("👁 <b>Aperçu pour out</b> (console)")
    assert hooks.enqueued == []  # a preview queues nothing
    assert (await boss.text("/preview https://evil.example/")).startswith("Je ne publie que")


async def test_post_without_hooks(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, bot: ExtBot[object]
) -> None:
    service = ReaderBot(reader_settings(tg), storage, bot=bot, clock=clock, poll_timeout=1)
    await service.start()
    try:
        boss = Chat(tg, ADMIN, "en", "Moussa")
        assert await boss.text(f"/post {SITE}/x/") == "This command is not available in this mode."
        assert await boss.text(f"/preview {SITE}/x/") == (
            "This command is not available in this mode."
        )
    finally:
        await service.stop()
