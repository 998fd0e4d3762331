"""The import preview in Chromium at 1366x768: summary and Apply first, errors first, and
Apply without choosing the file again.

Screenshots land in test-output/screenshots/import-preview-*.png to look at.
"""

import re

import pytest

from tests.factories import PbxUserFactory
from users.models import PbxUser
from users.pins import pin_ha1

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's
HEADER = "extension,name,hot_desk_access,pin\n"


def open_import_tab(page, admin, install) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/login/")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=install.name).click()
    page.locator("ul.nav-tabs").get_by_role("link", name="Import / Export").click()


def test_errors_come_first_and_a_clean_file_applies_from_the_top(
    page, portal_admin, install, screenshot, tmp_path
):
    PbxUserFactory(install=install, extension="1003", name="Cy Young")
    bad = tmp_path / "bad-users.csv"
    bad.write_text(HEADER + "1001,Ann Smith,yes,8264\n1002,Bob Jones,yes,1234\n1003,Cy Young,no,\n")
    good = tmp_path / "users.csv"
    good.write_text(HEADER + "1001,Ann Smith,yes,8264\n1002,Bob Jones,no,\n1003,Cy Young,no,\n")
    open_import_tab(page, portal_admin, install)

    card = page.locator("[data-kind=users]")
    card.get_by_label("CSV file").set_input_files(bad)
    card.get_by_role("button", name="Preview import").click()

    summary = page.get_by_test_id("plan-summary")
    expect(summary).to_have_text(
        re.compile(r"1\s+to add\s+0\s+to change\s+1\s+unchanged\s+1\s+error\s*$")
    )
    lines = page.locator("#plan-rows tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.line)"
    )
    assert lines == ["3", "2", "4"]
    expect(page.locator("tr[data-line='3']")).to_contain_text("straight run of digits")
    expect(page.get_by_role("button", name="Apply import")).to_have_count(0)
    screenshot("import-preview-errors")

    page.get_by_label("Another CSV file").set_input_files(good)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(summary).to_have_text(
        re.compile(r"2\s+to add\s+0\s+to change\s+1\s+unchanged\s+0\s+errors\s*$")
    )
    expect(page.get_by_role("button", name="Apply import")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("8264")
    # The first Apply is in view without scrolling, above the rows.
    top = page.get_by_role("button", name="Apply import").first
    expect(top).to_be_in_viewport()
    assert top.bounding_box()["y"] < page.locator("#plan-rows").bounding_box()["y"]
    screenshot("import-preview-clean")
    assert not PbxUser.objects.filter(extension="1001").exists()

    top.click()

    expect(page.get_by_role("alert").filter(has_text="Imported users: 2 created")).to_be_visible()
    ann = PbxUser.objects.get(install=install, extension="1001")
    assert ann.pin_ha1 == pin_ha1(extension="1001", domain=install.sip_domain, pin="8264")
    assert set(PbxUser.objects.values_list("extension", flat=True)) == {"1001", "1002", "1003"}
