"""The portal's layout in Chromium on a laptop (1366x768) and a phone (390x844).

On every tab of a busy install (tests/browser/portal_pages.py seeds one): the page never
scrolls sideways, the install's ten tabs stay in one row (all visible at 1366; at 390 the row
scrolls by itself and the open tab is in view), every page names the time zone of its times,
and Chromium refuses nothing under the Content-Security-Policy. Screenshots of every tab land
in test-output/screenshots/layout-*.png to look at.
"""

import pytest

from common.security import POLICY
from tests.browser.portal_pages import (
    install_tabs,
    log_in,
    other_pages,
    seed_install,
    watch_page,
)

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# The outermost elements that stick out past the right edge of the window, where no scrolling
# box of their own holds them: what makes the page scroll sideways, named for the failure.
STICKING_OUT = """() => {
  const limit = document.documentElement.clientWidth;
  const scrolls = (el) => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
  const held = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (p !== document.body && p !== document.documentElement && scrolls(p)) return true; }
    return false; };
  const wide = (el) => el.getBoundingClientRect().right > limit + 0.5;
  return [...document.body.querySelectorAll("*")]
    .filter((el) => wide(el) && !held(el) && !(el.parentElement && wide(el.parentElement)))
    .slice(0, 5)
    .map((el) => el.outerHTML.slice(0, 120));
}"""

TAB_ROW = """() => {
  const row = document.querySelector("ul.install-tabs");
  const box = row.getBoundingClientRect();
  const tabs = [...row.querySelectorAll(".nav-link")].map((a) => a.getBoundingClientRect());
  const open = row.querySelector(".nav-link.active").getBoundingClientRect();
  return {
    rows: new Set(tabs.map((r) => Math.round(r.top))).size,
    scrolls: row.scrollWidth > row.clientWidth,
    allInside: tabs.every((r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5),
    openInside: open.left >= box.left - 0.5 && open.right <= box.right + 0.5,
  };
}"""


@pytest.fixture
def busy_install(install, portal_admin):
    return seed_install(install, admin=portal_admin)


def page_scrolls_sideways(page) -> list[str] | None:
    """None if the page fits the window's width; else what sticks out."""
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if scroll_width <= client_width:
        return None
    return [f"page is {scroll_width} px wide in {client_width} px", *page.evaluate(STICKING_OUT)]


def visit_every_tab(page, busy_install, screenshot, size: str) -> dict[str, object]:
    """Open each tab; return what is wrong on which tab (empty when all is well)."""
    wrong: dict[str, object] = {}
    watch = watch_page(page)
    for tab in install_tabs(busy_install.install):
        page.goto(tab.path)
        expect(page.locator("ul.install-tabs .nav-link.active")).to_be_visible()
        if sticking_out := page_scrolls_sideways(page):
            wrong[tab.name] = sticking_out
        footer = page.get_by_role("contentinfo")
        if footer.inner_text().strip() != "Times in Europe/London.":
            wrong[f"{tab.name} footer"] = footer.inner_text()
        if refused := watch.take():
            wrong[f"{tab.name} CSP"] = refused
        screenshot(f"layout-{size}-{tab.name.replace('/', '-')}")
    return wrong


def test_no_tab_scrolls_sideways_on_a_laptop_and_the_tabs_fit_one_row(
    page, portal_admin, busy_install, screenshot
):
    page.set_viewport_size(LAPTOP)
    log_in(page, portal_admin.username)

    assert visit_every_tab(page, busy_install, screenshot, "1366") == {}
    # The last tab is open: every tab, the last one too, shows in one row without scrolling.
    assert page.evaluate(TAB_ROW) == {
        "rows": 1,
        "scrolls": False,
        "allInside": True,
        "openInside": True,
    }


def test_no_tab_scrolls_sideways_on_a_phone(page, portal_admin, busy_install, screenshot):
    page.set_viewport_size(PHONE)
    log_in(page, portal_admin.username)

    assert visit_every_tab(page, busy_install, screenshot, "390") == {}


def test_no_other_page_scrolls_sideways_on_a_phone(page, portal_admin, busy_install, other_install):
    page.set_viewport_size(PHONE)
    log_in(page, portal_admin.username)
    wrong = {}
    for other in other_pages(busy_install, other_install=other_install):
        page.goto(other.path)
        if sticking_out := page_scrolls_sideways(page):
            wrong[other.name] = sticking_out

    assert wrong == {}


def test_on_a_phone_the_tab_row_scrolls_by_itself_and_shows_the_open_tab(
    page, portal_admin, busy_install, screenshot
):
    page.set_viewport_size(PHONE)
    log_in(page, portal_admin.username)
    page.goto(install_tabs(busy_install.install)[0].path)
    row = page.locator("ul.install-tabs")

    # Users, the first tab, is open: the row is one line wider than the phone, and scrolls.
    layout = page.evaluate(TAB_ROW)
    assert layout["rows"] == 1 and layout["scrolls"] and not layout["allInside"]
    assert page_scrolls_sideways(page) is None

    # The last tab is out of sight, yet reachable: the row scrolls to it, and once it is open
    # the row starts scrolled so that it is in view.
    row.get_by_role("link", name="Settings", exact=True).click()
    expect(row.locator(".nav-link.active")).to_have_text("Settings")
    assert page.evaluate(TAB_ROW)["openInside"] is True
    screenshot("layout-390-tab-row-scrolled")


def test_the_footer_names_the_portals_time_zone(page, portal_admin, busy_install, settings):
    settings.TIME_ZONE = "America/New_York"
    footer = page.get_by_role("contentinfo")

    page.goto("/login/")
    expect(footer).to_have_text("Times in America/New_York.")
    log_in(page, portal_admin.username)
    call_log = next(tab for tab in install_tabs(busy_install.install) if tab.name == "call log")
    page.goto(call_log.path)
    expect(footer).to_have_text("Times in America/New_York.")


def test_the_watch_sees_what_the_policy_refuses(page, live_server):
    # The checks above prove nothing if the watch misses a refusal: serve a page that has an
    # inline script and a style attribute, under the portal's policy.
    page.route(
        "**/csp-probe/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": POLICY},
            body='<!doctype html><p style="color: red">x</p><script>window.ran = 1;</script>',
        ),
    )
    watch = watch_page(page)
    page.goto("/csp-probe/")

    refused = "\n".join(watch.take())
    assert "script-src" in refused and "style-src" in refused
    assert page.evaluate("window.ran") is None


def test_copy_to_clipboard_works_from_the_portals_script(page, portal_admin, busy_install):
    # The button's behaviour moved from an inline script (refused by the policy) to portal.js.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, portal_admin.username)
    setup = next(tab for tab in install_tabs(busy_install.install) if tab.name == "handset setup")
    page.goto(setup.path)

    button = page.locator("#copy-config")
    expect(button).to_have_text("Copy to clipboard")
    button.click()

    expect(button).to_have_text("Copied")
    config = page.get_by_test_id("config-text").text_content()
    assert config and page.evaluate("navigator.clipboard.readText()") == config
