"""Browser tests: the app on a loopback uvicorn server, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from draftsmith.app import create_app
from tests.conftest import _wipe_url, make_settings, run_sync, service_missing

CHROMIUM = os.environ.get("DRAFTSMITH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def wipe(url: str) -> None:
    """Empty the database (off this thread: Playwright's sync API owns its event loop)."""
    run_sync(_wipe_url, url)


@pytest.fixture(scope="module")
def chromium():
    """One browser per test file: Playwright's sync API keeps an event loop running in the
    main thread while it is started, where pytest-asyncio cannot run; stopped at the end of
    each file, it leaves the thread to the async tests that follow on the same worker."""
    if not Path(CHROMIUM).exists():
        service_missing(
            "Chromium", FileNotFoundError(f"not installed at {CHROMIUM} (make browser)")
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Server:
    """uvicorn on a loopback port chosen before the app, so BASE_URL is the real origin."""

    def __init__(self, build: Callable[[str], object]) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = build(self.url)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@dataclass
class Live:
    url: str
    app: object

    def page_url(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def settings_overrides() -> dict:
    return {}


@pytest.fixture
def live(tmp_path, sqlite_url, settings_overrides) -> Iterator[Live]:
    """The whole app over SQLite, with its in-process worker, at its real origin."""
    wipe(sqlite_url)
    server = Server(
        lambda url: create_app(
            make_settings(tmp_path, sqlite_url, base_url=url, **settings_overrides)
        )
    ).start()
    try:
        yield Live(server.url, server.app)
    finally:
        server.stop()
        wipe(sqlite_url)


class Watch:
    """Collects what must not happen: console errors, page errors, API 401/403s and 5xxs."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.denied: list[str] = []
        self.server_errors: list[str] = []
        self.api_statuses: list[tuple[int, str]] = []

    def attach(self, page) -> None:
        page.on(
            "console",
            lambda m: m.type == "error" and self.console_errors.append(f"{page.url}: {m.text}"),
        )
        page.on("pageerror", lambda e: self.page_errors.append(f"{page.url}: {e}"))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if "/api/" not in response.url:
            return
        self.api_statuses.append((response.status, response.url))
        if response.status in (401, 403):
            self.denied.append(f"{response.status} {response.request.method} {response.url}")
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def assert_clean(self) -> None:
        assert self.api_statuses, "the watch saw no API traffic: it is not attached"
        assert not self.page_errors, self.page_errors
        assert not self.denied, f"API refused the signed-in user: {self.denied}"
        assert not self.server_errors, self.server_errors
        assert not self.console_errors, self.console_errors


@pytest.fixture
def browser_context(chromium, live):
    context = chromium.new_context(viewport=DESKTOP, accept_downloads=True, base_url=live.url)
    context.set_default_timeout(15_000)
    watch = Watch()
    context.on("page", watch.attach)
    context.watch = watch
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


def screenshot(page, name: str, *, phone: bool = False, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{'phone' if phone else 'desktop'}.png"
    if full_page:  # a sticky header would otherwise be drawn where the page was scrolled to
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
