"""The manager's tasks in headless Chromium on a 360-pixel phone screen, against a live server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.models import Start
from bot.settings import WebSettings
from bot.web.server import login_link
from tests.builders import new_article
from tests.web.conftest import World, build_world, make_article
from tests.web.live import browser_paths, chromium, free_port, live_server, measure, overflow

MAIN_PAGES = ["/", "/queue", "/history", "/planning", "/preview", "/subscribers"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[World, str, Any]]:
    browser_paths()  # skip (or fail in CI) before building anything
    world = build_world(f"sqlite:///{tmp_path / 'relais.db'}", tmp_path)
    port = free_port()
    web = WebSettings(listen="127.0.0.1", port=port, base_url=f"http://127.0.0.1:{port}")
    world.settings = world.settings.model_copy(update={"web": web})
    try:
        with live_server(world.context(), port) as base, chromium() as driver:
            yield world, base, driver
    finally:
        world.storage.close()


def submit(driver: Any, element: Any) -> None:
    """Click a button (or submit a field) and wait for the next page to replace this one."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.relaisOldPage = true;")
    if element.tag_name == "input" and element.get_attribute("type") != "submit":
        element.submit()
    else:
        element.click()
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script(
            "return window.relaisOldPage === undefined && document.readyState === 'complete';"
        )
    )


def log_in(world: World, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(login_link(world.settings, world.storage, 424242, world.clock.now()))
    submit(driver, driver.find_element(By.ID, "login"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Aujourd'hui"


def flash(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, ".flash").text)


def test_the_managers_tasks(site: tuple[World, str, Any]) -> None:
    from selenium.webdriver.common.by import By

    world, base, driver = site
    log_in(world, driver)

    # Why was this article not posted? Search the history, open the article.
    submit(driver, driver.find_element(By.LINK_TEXT, "Historique"))
    box = driver.find_element(By.NAME, "q")
    box.send_keys("offre spéciale")
    submit(driver, box)
    submit(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Offre spéciale"))
    reason = driver.find_element(By.ID, "state-tg-main").text
    assert "ignoré : catégorie Publicité exclue" in reason

    # Edit a queued post's teaser, then see it in the preview.
    queued = world.ids["queued"]
    driver.get(f"{base}/queue?channel=tg-main")
    post = driver.find_element(By.ID, f"delivery-{queued}")
    post.find_element(By.TAG_NAME, "summary").click()
    text = "La rentrée est fixée au 2 décembre : le ministère publie le calendrier."
    post.find_element(By.NAME, "teaser").send_keys(text)
    submit(driver, post.find_element(By.CSS_SELECTOR, "button[value=teaser]"))
    assert f"Le texte de la publication n° {queued} est enregistré." == flash(driver)
    driver.get(f"{base}/preview?delivery={queued}")
    assert text in driver.find_element(By.CSS_SELECTOR, ".tg-text").text
    assert driver.find_element(By.CSS_SELECTOR, ".tg-button").text == "Lire l'article"

    # Retry the failed post, skip the uncertain one, move a queued one to the next slot.
    driver.get(f"{base}/queue?channel=tg-main")
    for name, action, said in (
        ("failed", "retry", "remise en file"),
        ("unknown", "skip", "est ignorée"),
        ("second", "move", "est reportée"),
    ):
        row = driver.find_element(By.ID, f"delivery-{world.ids[name]}")
        submit(driver, row.find_element(By.CSS_SELECTOR, f"button[value={action}]"))
        assert said in flash(driver)
    states = {n: world.storage.delivery(world.ids[n]).state.value for n in ("failed", "unknown")}  # type: ignore[union-attr]
    assert states == {"failed": "queued", "unknown": "skipped"}

    # A post waiting for approval: rewrite its teaser, then approve it.
    waiting = make_article(7, "Bamako : le conseil municipal adopte son budget")
    world.storage.record(
        [new_article(waiting, ["tg-main"], starts={"tg-main": Start(pending=True)})],
        world.clock.now(),
    )
    pending = world.storage.deliveries(channel_id="tg-main")[-1].id
    driver.get(f"{base}/queue?channel=tg-main")
    post = driver.find_element(By.ID, f"delivery-{pending}")
    post.find_element(By.TAG_NAME, "summary").click()
    lead = "Le conseil municipal a voté mardi soir un budget de 41 milliards de FCFA."
    post.find_element(By.NAME, "teaser").send_keys(lead)
    submit(driver, post.find_element(By.CSS_SELECTOR, "button[value=teaser]"))
    post = driver.find_element(By.ID, f"delivery-{pending}")
    submit(driver, post.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    assert "approuvée" in flash(driver)
    approved = world.storage.delivery(pending)
    assert approved is not None and approved.state.value == "queued"
    assert world.storage.teaser_edit(pending) == lead

    # Change the quiet hours and see the plan change.
    driver.get(f"{base}/planning")
    section = driver.find_element(By.ID, "planning-tg-main")
    before = section.find_element(By.CSS_SELECTOR, ".plan li .due").text
    assert before.endswith("09:00")  # now, 09:00 in Bamako
    field = section.find_element(By.NAME, "quiet_hours")
    field.clear()
    field.send_keys("08:00-12:30")
    submit(driver, section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert flash(driver) == "Planning de tg-main enregistré et appliqué."
    section = driver.find_element(By.ID, "planning-tg-main")
    after = section.find_element(By.CSS_SELECTOR, ".plan li .due").text
    assert after.endswith("12:30")
    assert 'quiet_hours: "08:00-12:30"       # la nuit, on attend' in world.config.read_text()

    # Give the channel a 14:00 slot on weekdays: the next post moves to it.
    section = driver.find_element(By.ID, "planning-tg-main")
    field = section.find_element(By.NAME, "slots")
    field.send_keys("mon-fri: 14:00 18:00; sat-sun: 13:00")
    submit(driver, section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert flash(driver) == "Planning de tg-main enregistré et appliqué."
    section = driver.find_element(By.ID, "planning-tg-main")
    first = section.find_element(By.CSS_SELECTOR, ".plan li").text
    assert "2 nov. 14:00" in first and "créneau de 14:00" in first
    assert '"14:00"' in world.config.read_text()


def test_no_horizontal_scroll_at_360_pixels_and_page_figures(
    site: tuple[World, str, Any],
) -> None:
    world, base, driver = site
    log_in(world, driver)
    figures = {}
    for page in [*MAIN_PAGES, f"/article/{world.keys['advert']}"]:
        driver.get(base + page)
        assert overflow(driver) <= 0, f"{page} scrolls sideways at 360 px"
        figures[page.split("/")[1] or "today"] = measure(driver)
    for page, found in figures.items():
        assert found["bytes"] > 0 and found["requests"] >= 3, page  # page, CSS, JS
    out = os.environ.get("RELAIS_PAGE_FIGURES")
    if out:  # bench/dashboard_pages.py reads them
        Path(out).write_text(json.dumps(figures, indent=2))
