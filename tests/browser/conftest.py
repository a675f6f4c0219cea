"""A real doclane server and Debian's Chromium (through Playwright) per test module.

Every page fails its test on a console error or an uncaught page error; screenshots go
to ``tests/browser/screenshots/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.browser.pages import ADMIN, USER, WatchedPage
from tests.utils.server import ServerProcess

_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    """Debian's Chromium; ``infra/chromium.sh`` installs it when it is missing."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found:
        return found
    result = subprocess.run([str(_ROOT / "infra" / "chromium.sh")], capture_output=True, text=True,
                            check=False)
    path = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not Path(path).exists():
        pytest.fail(f"Chromium is not installed and infra/chromium.sh could not install it:\n{result.stderr}")
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # The sync API runs its own event loop: these tests are plain functions, never coroutines.
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    users = f"{ADMIN.name}:{ADMIN.password}:admin,{USER.name}:{USER.password}:user"
    proc = ServerProcess(tmp_path_factory.mktemp("browser") / "data", env={
        "DOCLANE_USERS": users, "DOCLANE_HEARTBEAT_S": "1", "DOCLANE_AI_PROVIDER": "local",
    })
    with proc:
        yield proc


@pytest.fixture
def page(browser: Browser, server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[WatchedPage]:
    """A fresh browser context (own sessionStorage) on a laptop-sized window."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 860})
    watched = WatchedPage(context.new_page(), server.url)
    try:
        yield watched
        watched.assert_no_errors()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, server: ServerProcess) -> Iterator[WatchedPage]:
    """A phone-sized window with touch, as a Pixel-class phone reports it."""
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    watched = WatchedPage(context.new_page(), server.url)
    try:
        yield watched
        watched.assert_no_errors()
    finally:
        context.close()
