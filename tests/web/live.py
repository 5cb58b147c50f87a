"""A live dashboard on 127.0.0.1 (uvicorn in a thread) and headless Chromium to drive it."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.settings import WebSettings
from bot.web.context import WebContext
from bot.web.server import serve

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver",)


def _first(paths: tuple[str, ...], name: str) -> str | None:
    return next((p for p in paths if os.path.exists(p)), None) or shutil.which(name)


def browser_paths() -> tuple[str, str]:
    """Debian's chromium and chromium-driver; skip without them, but fail in CI."""
    chromium = _first(CHROMIUM, "chromium")
    driver = _first(CHROMEDRIVER, "chromedriver")
    if chromium is None or driver is None:
        message = "headless Chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ", and CI=true requires the browser tests")
        pytest.skip(message)
    return chromium, driver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(ctx: WebContext, port: int) -> Iterator[str]:
    """Serve the dashboard with the same code `relais run` uses, in a thread of its own."""
    web = WebSettings(listen="127.0.0.1", port=port, base_url=f"http://127.0.0.1:{port}")
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(ctx, web, stop),))
    thread.start()
    try:
        for _ in range(200):  # until the port answers
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            threading.Event().wait(0.02)
        yield web.base_url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


@contextmanager
def chromium(width: int = 360, height: int = 780) -> Iterator[Any]:
    """Headless Chromium emulating a phone screen `width` CSS pixels wide."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-extensions",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


MEASURE = """
const nav = performance.getEntriesByType('navigation')[0];
const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint');
const resources = performance.getEntriesByType('resource');
const bytes = nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0);
const decoded = nav.decodedBodySize + resources.reduce((sum, r) => sum + r.decodedBodySize, 0);
return {bytes: bytes, decoded: decoded, requests: 1 + resources.length,
        ttfb: nav.responseStart - nav.startTime,
        fcp: paint ? paint.startTime : null, load: nav.loadEventEnd - nav.startTime};
"""


def measure(driver: Any) -> dict[str, float]:
    """Navigation Timing of the page just loaded: weight over the wire and decoded, first
    contentful paint, load."""
    from selenium.webdriver.support.ui import WebDriverWait

    painted = "return performance.getEntriesByType('paint').length > 1;"  # FP and FCP
    WebDriverWait(driver, 5).until(lambda d: d.execute_script(painted))
    result: dict[str, float] = driver.execute_script(MEASURE)
    return result


def overflow(driver: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: no horizontal scroll)."""
    value: int = driver.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth;"
    )
    return value
