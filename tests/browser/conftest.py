"""Fixtures for the browser tests: one headless Chromium per session, a fresh context per test.

Debian's `/usr/bin/chromium` is driven through Playwright for Python against pytest-django's
`live_server` (see `../shared/notes/browser.md`); Playwright's own browser download is never used.
"""

import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import require_or_skip

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

sync_playwright: "Callable[[], AbstractContextManager[Playwright]] | None"
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root (CI containers)
    # Without these Chromium calls outside hosts at start; the machines here have no way out.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = "install them with `apt-get install chromium` and `pip install -e .[test]`"

_phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so `page` can see whether the test failed.
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


def pytest_collection_modifyitems(config, items):
    # Run the browser tests last. While Playwright's sync API is alive (the whole session, from
    # the first browser test on), the main thread has an event loop marked as running, so every
    # later ORM call in that thread needs DJANGO_ALLOW_ASYNC_UNSAFE (see `browser`). Last, no
    # other test ever runs beside the loop or with Django's async-safety check switched off.
    # Only this folder's tests share that browser: a browser test elsewhere (tests/e2e) starts
    # and stops its own Playwright, which must happen before this session-long one starts.
    here = Path(__file__).parent
    items.sort(key=lambda item: here in Path(item.path).parents)


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    path = pytestconfig.rootpath / "test-output" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, launched once for the session."""
    require_or_skip(
        sync_playwright is not None,
        f"Playwright for Python is not installed; {INSTALL_HINT}",
    )
    require_or_skip(
        os.access(CHROMIUM, os.X_OK),
        f"{CHROMIUM} is missing; {INSTALL_HINT} (not `playwright install`)",
    )
    # Playwright's sync API runs an asyncio loop in this thread and, between calls, leaves it
    # marked as running. Django then refuses every ORM call made here (the factories, the DB
    # checks in the tests, pytest-django's flush after each test) with SynchronousOnlyOperation,
    # although nothing in this thread is async. Setting up the data before the browser starts
    # cannot work with one browser per session, so the check is switched off for as long as
    # Playwright lives, and only then: `pytest_collection_modifyitems` runs these tests last.
    # The live server handles requests in its own thread, where no loop runs, so the app under
    # test keeps Django's check.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser, live_server, request, screenshot_dir):
    """A page in a fresh browser context (own cookies) aimed at the live server.

    If the test fails, the page as it was is saved to test-output/screenshots/<test>.png.
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    # Fail in seconds, not Playwright's default 30, when an expected element never appears.
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    reports = request.node.stash.get(_phase_reports, {})
    if any(report.failed for report in reports.values()):
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=screenshot_dir / f"{name}.png", full_page=True)
    context.close()


@pytest.fixture
def screenshot(page, screenshot_dir):
    """Save the current page as test-output/screenshots/<name>.png (to look at after a run)."""

    def take(name: str) -> None:
        page.screenshot(path=screenshot_dir / f"{name}.png", full_page=True)

    return take
