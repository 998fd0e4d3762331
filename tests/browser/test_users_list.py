"""The Users tab as an administrator uses it, in Chromium at 1366x768: filter, sort, tick rows,
give and revoke Hot Desk Access in bulk, new PINs shown once and downloaded once, and User
Settings' Save and Cancel back to the same list.

Screenshots land in test-output/screenshots/users-list-*.png to look at.
"""

import csv
import re
from pathlib import Path

import pytest

from registrations.models import HotDeskSession, Lockout, SessionEnd
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from users.models import PbxUser
from users.pins import pin_ha1

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def office(install):
    """30 users: 1001 (access, PIN, logged in), 1002 (access, PIN, locked), 1003-1012 with a
    PIN and no access, 1013-1030 with neither."""
    ann = PbxUserFactory(
        install=install, extension="1001", name="Ann Smith", hot_desk_access=True, pin="2468"
    )
    bob = PbxUserFactory(
        install=install, extension="1002", name="Bob Jones", hot_desk_access=True, pin="1357"
    )
    for n in range(3, 13):
        PbxUserFactory(install=install, extension=f"10{n:02d}", name=f"Pat {n}", pin="3691")
    for n in range(13, 31):
        PbxUserFactory(install=install, extension=f"10{n:02d}", name=f"Sam {n}")
    HotDeskSessionFactory(pbx_user=ann, source_ip="203.0.113.7")
    Lockout.objects.create(pbx_user=bob, locked_indefinitely=True, consecutive_failures=10)
    yield install


@pytest.fixture
def users_tab(page, portal_admin, office):
    """Logged in as alice at 1366x768, on the Users tab of the install."""
    page.set_viewport_size(LAPTOP)
    page.goto("/login/")
    page.get_by_label("Username").fill(portal_admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=office.name).click()
    expect(page.locator("ul.nav-tabs a.nav-link.active")).to_have_text("Users")
    return page


def extensions(page) -> list[str]:
    return page.locator("#users-table tbody tr[data-extension]").evaluate_all(
        "rows => rows.map(row => row.dataset.extension)"
    )


def test_filters_sort_and_user_settings_return_to_the_same_list(users_tab, office, screenshot):
    page = users_tab
    expect(page.locator("#users-total")).to_have_text("30 users")

    page.get_by_label("Hot Desk Access").select_option("Yes")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#users-total")).to_have_text("2 users match these filters")
    assert extensions(page) == ["1001", "1002"]

    name = page.locator("#users-table thead").get_by_role("link", name="Name")
    name.click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Name")
    page.locator("#users-table thead").get_by_role("link", name="Name").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Name")
    assert extensions(page) == ["1002", "1001"]
    row = page.locator("tr[data-extension='1001']")
    expect(row).to_contain_text("Logged in")
    expect(row).to_contain_text("203.0.113.7")
    expect(page.locator("tr[data-extension='1002']")).to_contain_text("Locked")
    screenshot("users-list-filtered")
    filtered = page.url

    page.locator("tr[data-extension='1002']").get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Cancel").click()
    assert page.url == filtered
    page.locator("tr[data-extension='1002']").get_by_role("link", name="Edit").click()
    page.get_by_label("Display name").fill("Bob Jones-Wright")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Saved user 1002 Bob Jones-Wright.")
    assert page.url == filtered
    expect(page.get_by_label("Hot Desk Access")).to_have_value("yes")

    page.get_by_label("Hot Desk Access").select_option("Any")
    page.get_by_label("Logged in now").select_option("Yes")
    page.get_by_role("button", name="Filter").click()
    assert extensions(page) == ["1001"]

    page.get_by_label("Logged in now").select_option("Any")
    page.get_by_label("Per page").select_option("25")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#users-table tbody tr")).to_have_count(25)
    expect(page.locator("#users-total")).to_have_text("30 users")


def test_a_refused_pin_is_one_error_beside_the_field_and_stays_typed(users_tab):
    page = users_tab
    page.locator("tr[data-extension='1013']").get_by_role("link", name="Edit").click()

    page.get_by_label("Hot Desk Access").check()
    page.get_by_label("Hot Desk Pin").fill("1234")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".invalid-feedback")).to_have_count(1)
    expect(page.locator("#id_pin ~ .invalid-feedback")).to_have_text(
        "A straight run of digits (such as 1234 or 9876) is too easy to guess."
    )
    expect(page.get_by_label("Hot Desk Pin")).to_have_value("1234")
    page.get_by_label("Hot Desk Pin").fill("8264")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Saved user 1013")
    assert PbxUser.objects.get(extension="1013").hot_desk_access


def test_bulk_grant_then_revoke_logs_the_revoked_out(users_tab, screenshot):
    page = users_tab
    page.get_by_label("PIN set").select_option("Yes")
    page.get_by_label("Hot Desk Access").select_option("No")
    page.get_by_role("button", name="Filter").click()
    assert extensions(page) == [f"10{n:02d}" for n in range(3, 13)]

    page.get_by_label("Select all users on this page").check()
    expect(page.locator("#selected-count")).to_have_text("10 selected")
    page.get_by_label("Select 1003 Pat 3").uncheck()
    expect(page.locator("#selected-count")).to_have_text("9 selected")
    page.get_by_label("With the selected users").select_option("Give Hot Desk Access")
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_role("alert").first).to_have_text("Gave Hot Desk Access to 9 users.")
    assert extensions(page) == ["1003"]
    assert PbxUser.objects.filter(hot_desk_access=True).count() == 11

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Select 1001 Ann Smith").check()
    page.get_by_label("Select 1004 Pat 4").check()
    page.get_by_label("With the selected users").select_option("Revoke Hot Desk Access")
    # Dismissed: nothing happens.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Apply to selected").click()
    assert PbxUser.objects.filter(hot_desk_access=True).count() == 11
    # Confirmed.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_role("alert").first).to_contain_text("Revoked Hot Desk Access of 2 users")
    expect(page.locator("tr[data-extension='1001']").get_by_role("cell").nth(2)).to_have_text("No")
    expect(page.locator("tr[data-extension='1001']")).not_to_contain_text("Logged in")
    screenshot("users-list-revoked")
    session = HotDeskSession.objects.get(pbx_user__extension="1001")
    assert session.end_reason == SessionEnd.FORCED


def test_bulk_new_pins_are_shown_once_and_downloaded_once(users_tab, office, screenshot):
    page = users_tab
    page.get_by_label("Select 1003 Pat 3").check()
    page.get_by_label("Select 1013 Sam 13").check()
    page.get_by_label("With the selected users").select_option("Generate new PINs")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_role("heading", name="New Hot Desk PINs for 2 users")).to_be_visible()
    shown = {
        extension: page.locator(f"tr[data-extension='{extension}'] [data-testid=new-pin]")
        .inner_text()
        .strip()
        for extension in ("1003", "1013")
    }
    for extension, pin in shown.items():
        assert re.fullmatch(r"\d{4}", pin)
        user = PbxUser.objects.get(install=office, extension=extension)
        assert user.pin_ha1 == pin_ha1(extension=extension, domain=office.sip_domain, pin=pin)
    screenshot("users-list-new-pins")

    download_button = page.get_by_role("button", name="Download the PINs (CSV, once)")
    with page.expect_download() as download:
        download_button.click()
    assert download.value.suggested_filename == "acme.pbx.test-new-pins.csv"
    rows = list(csv.reader(Path(download.value.path()).read_text().splitlines()))
    assert rows == [
        ["extension", "name", "pin"],
        ["1003", "Pat 3", shown["1003"]],
        ["1013", "Sam 13", shown["1013"]],
    ]

    download_button.click()
    expect(page.get_by_test_id("pins-gone")).to_contain_text(
        "These PINs can no longer be downloaded."
    )
    for pin in shown.values():
        expect(page.locator("main")).not_to_contain_text(pin)
    screenshot("users-list-pins-gone")

    page.get_by_role("link", name="Back to users").click()
    expect(page.get_by_test_id("new-pin")).to_have_count(0)
