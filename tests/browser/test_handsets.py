"""Handset Setup and the import dry run in real Chromium.

Screenshots of each page land in test-output/screenshots/handsets-*.png to look at.
"""

import re

import pytest

from handsets.models import Handset
from users.models import PbxUser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's


def log_in_and_open(page, user, install, tab: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=install.name).click()
    tabs = page.locator("ul.nav-tabs")
    tabs.get_by_role("link", name=tab, exact=True).click()
    expect(tabs.locator("a.nav-link.active")).to_have_text(tab)


def test_handset_setup_tab_warns_saves_the_key_and_registers_a_handset(
    page, portal_admin, install, screenshot
):
    log_in_and_open(page, portal_admin, install, "Handset Setup")

    warnings = page.get_by_test_id("readiness-warning")
    expect(warnings).to_have_count(2)
    expect(warnings.first).to_contain_text("no trusted IP range")
    config = page.get_by_test_id("config-text")
    expect(config).to_contain_text("hotdesking.dsskey_password_enable = 1")
    expect(config).to_contain_text("account.1.sip_server.1.expires = 500")
    expect(page.get_by_text("Server Expires")).to_be_visible()
    screenshot("handsets-setup")

    page.get_by_label("Line key position").fill("20")
    page.get_by_label("Smallest handset in use").select_option("T42")
    page.get_by_role("button", name="Save key settings").click()
    expect(page.locator("#id_line_key_error")).to_contain_text("line keys 1 to 15")

    page.get_by_label("Line key position").fill("3")
    page.get_by_label("Label").fill("Desk Login")
    page.get_by_role("button", name="Save key settings").click()
    expect(page.get_by_role("alert").filter(has_text="Saved the hot-desk key")).to_be_visible()
    expect(config).to_contain_text("linekey.3.type = 34")
    expect(config).to_contain_text("linekey.3.label = Desk Login")
    expect(page.locator("ol.instructions")).to_contain_text("Line Key 3")
    screenshot("handsets-setup-saved")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download y000000000000.cfg").click()
    assert download.value.suggested_filename == "y000000000000.cfg"

    page.get_by_role("link", name="Provisioning and handsets").click()
    expect(page.get_by_test_id("provisioning-url")).to_have_value(
        re.compile(rf"/provision/{install.pk}/[A-Za-z0-9_-]{{40,}}/$")
    )
    page.get_by_label("MAC address").fill("80:5E:C0:12:34:56")
    page.get_by_label("Desk or location").fill("Desk 12")
    page.get_by_label("Model").fill("SIP-T46S")
    page.get_by_role("button", name="Register handset").click()
    row = page.get_by_role("row").filter(has_text="Desk 12")
    expect(row).to_contain_text("80:5e:c0:12:34:56")
    expect(row).to_contain_text("805ec0123456.cfg")
    screenshot("handsets-provisioning")
    assert Handset.objects.get().mac == "805ec0123456"

    old_url = page.get_by_test_id("provisioning-url").input_value()
    page.get_by_role("link", name="Issue a new URL").click()
    page.get_by_role("button", name="Issue a new URL").click()
    expect(
        page.get_by_role("alert").filter(has_text="Issued a new provisioning URL")
    ).to_be_visible()
    expect(page.get_by_test_id("provisioning-url")).not_to_have_value(old_url)


def test_import_dry_run_shows_errors_then_applies_a_clean_file(
    page, portal_admin, install, screenshot, tmp_path
):
    bad = tmp_path / "bad-users.csv"
    bad.write_text(
        "extension,name,hot_desk_access,pin\n"
        "1001,Ann Smith,yes,1234\n"
        "1002,Bob Jones,no,\n"
        "1002,Bob Again,no,\n"
        "1003,Short row\n"
    )
    good = tmp_path / "users.csv"
    good.write_text(
        "extension,name,hot_desk_access,pin\n1001,Ann Smith,yes,8264\n1002,Bob Jones,no,\n"
    )
    log_in_and_open(page, portal_admin, install, "Import / Export")

    users_card = page.locator("[data-kind=users]")
    users_card.get_by_label("CSV file").set_input_files(bad)
    users_card.get_by_role("button", name="Preview import").click()

    expect(page.get_by_role("heading", name=re.compile("dry run"))).to_be_visible()
    expect(page.locator("tr[data-line='2']")).to_contain_text("straight run of digits")
    expect(page.locator("tr[data-line='4']")).to_contain_text("already on line 3")
    expect(page.locator("tr[data-line='5']")).to_contain_text("Expected 4 fields")
    expect(page.locator("tr[data-line='3']")).to_contain_text("add")
    expect(page.get_by_role("button", name="Apply import")).to_have_count(0)
    screenshot("handsets-import-errors")
    assert not PbxUser.objects.exists()

    page.get_by_label("Another CSV file").set_input_files(good)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_test_id("plan-summary")).to_have_text(
        re.compile(r"2\s+to add\s+0\s+to change\s+0\s+unchanged\s+0\s+errors\s*$")
    )
    expect(page.locator("tr[data-line='2']")).to_contain_text("new PIN")
    expect(page.locator("main")).not_to_contain_text("8264")
    screenshot("handsets-import-preview")
    assert not PbxUser.objects.exists()

    # No second upload: the preview kept the file (sealed) for Apply, at the top and bottom.
    expect(page.get_by_role("button", name="Apply import")).to_have_count(2)
    page.get_by_role("button", name="Apply import").first.click()
    expect(page.get_by_role("alert").filter(has_text="Imported users: 2 created")).to_be_visible()
    screenshot("handsets-import-applied")
    assert set(PbxUser.objects.values_list("extension", flat=True)) == {"1001", "1002"}
