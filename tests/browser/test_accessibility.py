"""Accessibility of every portal page in Chromium, checked by axe-core and by keyboard.

axe-core (shipped inside axe-playwright-python) runs on each page an administrator reaches:
the login page, Telephony Settings, every tab of a busy install (tests/browser/portal_pages.py),
the forms and confirmations, the pages a POST answers with (an Explain result, an import
preview, a refused form, a new PIN) and the 404 page. A page passes with no violation of
impact "serious" or "critical", no id used twice, and nothing refused by the
Content-Security-Policy. By keyboard: "Skip to content" is the first stop and leads into
<main>, and every stop shows a focus indicator.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.portal_pages import (
    PASSWORD,
    PortalPage,
    install_tabs,
    log_in,
    other_pages,
    seed_install,
    watch_page,
)

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as the real ones: every test that calls them needs the `browser` fixture.
    Axe = None  # type: ignore[assignment,misc]
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = {"serious", "critical"}
USERS_CSV = b"extension,name,hot_desk_access,pin\n1004,Dee Moss,yes,\n1001,Ann Smith,yes,\n"

DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll("[id]")) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""

# The focused element's focus indicator: an outline or a box shadow (Bootstrap's focus ring).
# A date field's last stop is its calendar button, inside the field's own (closed) shadow tree:
# the field is then not :focus-visible and Chromium rings the button itself.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const pickerButton = el.type === "date" && !el.matches(":focus-visible");
  return {
    element: el.outerHTML.slice(0, 100),
    shown: outline || style.boxShadow !== "none" || pickerButton,
    inBody: el !== document.body,
  };
}"""


@pytest.fixture
def busy_install(install, portal_admin):
    return seed_install(install, admin=portal_admin)


def describe(violation: dict) -> str:
    """One violation as a line: rule, impact, what it asks, and where (a few elements)."""
    where = "; ".join(
        f"{' '.join(node['target'])} {node['html'][:100]}" for node in violation["nodes"][:3]
    )
    return f"{violation['id']} ({violation['impact']}): {violation['help']}. At: {where}"


def problems_of(page, watch) -> list[str]:
    """What is wrong with the page on screen: axe's serious and critical findings, ids used
    twice, and what the Content-Security-Policy refused while it loaded."""
    response = Axe().run(page).response
    found = [describe(v) for v in response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    found += [f"id used twice: {id_}" for id_ in page.evaluate(DUPLICATE_IDS)]
    return found + watch.take()


def check_pages(page, pages: list[PortalPage]) -> dict[str, list[str]]:
    """Open each page and return its problems by page name (only pages that have any)."""
    watch = watch_page(page)
    found = {}
    for portal_page in pages:
        page.goto(portal_page.path)
        if problems := problems_of(page, watch):
            found[portal_page.name] = problems
    return found


def test_login_page_and_404_page_have_no_serious_violations_before_logging_in(page):
    assert check_pages(page, [PortalPage("login", "/login/"), PortalPage("404", "/nowhere/")]) == {}


def test_every_page_reached_by_link_has_no_serious_violations(
    page, portal_admin, busy_install, other_install
):
    log_in(page, portal_admin.username)
    pages = install_tabs(busy_install.install) + other_pages(
        busy_install, other_install=other_install
    )

    assert check_pages(page, pages) == {}


def test_pages_answering_a_form_have_no_serious_violations(page, portal_admin, busy_install):
    log_in(page, portal_admin.username)
    watch = watch_page(page)
    tabs = {tab.name: tab.path for tab in install_tabs(busy_install.install)}
    found = {}

    page.goto(tabs["explain"])
    page.get_by_label("Extension").fill("1001")
    page.get_by_label("Source address").fill("203.0.113.7")
    page.get_by_role("button", name="Explain").click()
    expect(page.get_by_test_id("explain-result")).to_contain_text("ALLOW")
    found["explain result"] = problems_of(page, watch)

    page.goto(tabs["import/export"])
    users_card = page.locator("[data-kind=users]")
    users_card.locator("input[type=file]").set_input_files(
        files=[{"name": "users.csv", "mimeType": "text/csv", "buffer": USERS_CSV}]
    )
    users_card.get_by_role("button", name="Preview import").click()
    expect(page.get_by_test_id("plan-summary")).to_be_visible()
    found["import preview"] = problems_of(page, watch)

    page.goto(tabs["trusted IPs"])
    page.get_by_role("button", name="Add IP Range").click()  # empty: refused, errors shown
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    found["trusted IP form with errors"] = problems_of(page, watch)

    page.goto(tabs["users"])
    page.locator("tr[data-extension='1003']").get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Generate a PIN").click()
    expect(page.get_by_test_id("generated-pin")).to_have_text(re.compile(r"^\d{4}$"))
    found["new PIN"] = problems_of(page, watch)

    assert {name: problems for name, problems in found.items() if problems} == {}


def test_skip_link_is_the_first_stop_and_leads_into_main(page, portal_admin, busy_install):
    log_in(page, portal_admin.username)
    page.goto(install_tabs(busy_install.install)[0].path)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 10  # shown once focused

    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    page.keyboard.press("Tab")
    # The next stop is the page's own first link (the breadcrumb), not the header's.
    assert page.evaluate("document.activeElement.closest('main#content') !== null")
    expect(page.get_by_role("link", name="Telephony Settings").last).to_be_focused()


@pytest.mark.parametrize("tab_name", ["users", "trusted IPs", "call log"])
def test_every_keyboard_stop_shows_where_the_focus_is(page, portal_admin, busy_install, tab_name):
    # Bootstrap's focus ring comes with a transition; without motion it is there at once.
    page.emulate_media(reduced_motion="reduce")
    log_in(page, portal_admin.username)
    tabs = {tab.name: tab.path for tab in install_tabs(busy_install.install)}
    page.goto(tabs[tab_name])

    hidden = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_SHOWN)
        if not focus["inBody"]:
            break  # past the last stop
        if not focus["shown"]:
            hidden.append(focus["element"])
    assert hidden == []


def test_the_login_form_is_labelled_and_works_by_keyboard_alone(page, portal_admin):
    page.goto("/login/")
    # The form focuses Username by itself (Django's login form), ahead of the skip link.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(portal_admin.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Telephony Settings")).to_be_visible()
