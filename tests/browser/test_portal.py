"""The administrator's portal in real Chromium: log in, User Settings, Trusted IPs.

Each test logs in through the login page, as an administrator does, and then follows the
Infinity flow: Telephony Settings -> the install -> a tab.
"""

import re

import pytest

from tests.conftest import GOOD_PIN
from tests.factories import PbxUserFactory, TrustedRangeFactory
from trustedips.models import TrustedRange
from users.pins import pin_ha1

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's
BOOTSTRAP_PRIMARY = "rgb(13, 110, 253)"  # Bootstrap 5.3's --bs-primary, #0d6efd


def log_in(page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Telephony Settings")).to_be_visible()


def open_install(page, install, tab: str = "Users") -> None:
    """From Telephony Settings, pick the install, then the tab."""
    page.get_by_role("link", name=install.name).click()
    tabs = page.locator("ul.nav-tabs")
    tabs.get_by_role("link", name=tab, exact=True).click()
    expect(tabs.locator("a.nav-link.active")).to_have_text(tab)


@pytest.fixture
def admin_page(page, portal_admin, install):
    """A page logged in as `portal_admin` (alice, of Acme Ltd), on Telephony Settings."""
    log_in(page, portal_admin.username)
    return page


def test_administrator_logs_in_and_reaches_the_install_tabs(page, portal_admin, install):
    log_in(page, "alice")

    row = page.get_by_role("row").filter(has_text=install.name)
    expect(row).to_contain_text("acme.pbx.test")
    expect(row).to_contain_text("Acme Ltd")
    open_install(page, install, "Users")
    expect(page.get_by_role("heading", name="Head Office")).to_be_visible()
    expect(page.get_by_role("link", name="Add user")).to_be_visible()
    page.locator("ul.nav-tabs").get_by_role("link", name="Trusted IPs").click()
    button = page.get_by_role("button", name="Add IP Range")
    expect(button).to_be_visible()

    # Bootstrap's CSS and JS come from XStatic-Bootstrap through whitenoise: a page that
    # "works" unstyled would still pass every check above.
    expect(button).to_have_css("background-color", BOOTSTRAP_PRIMARY)
    assert page.evaluate("typeof window.bootstrap") == "object"


def test_wrong_password_keeps_the_administrator_on_the_login_page(page, portal_admin):
    page.goto("/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong horse battery")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".alert-danger")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_hot_desk_access_and_pin_are_saved_from_user_settings(admin_page, install, screenshot):
    page = admin_page
    user = PbxUserFactory(install=install, extension="1002", name="Bob Jones")
    assert not user.hot_desk_access and not user.pin_ha1
    open_install(page, install, "Users")
    row = page.locator("tr[data-extension='1002']")
    expect(row).to_contain_text("Bob Jones")

    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="User Settings: 1002 Bob Jones")).to_be_visible()
    page.get_by_label("Hot Desk Access").check()
    page.get_by_label("Hot Desk Pin").fill(GOOD_PIN)
    screenshot("user-settings")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("Saved user 1002 Bob Jones.")
    row = page.locator("tr[data-extension='1002']")
    cells = row.get_by_role("cell")
    expect(cells.nth(2)).to_have_text("Yes")
    expect(cells.nth(3)).to_have_text(re.compile(r"^Yes, \d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    screenshot("users-tab")

    user.refresh_from_db()
    assert user.hot_desk_access
    assert user.pin_ha1 == pin_ha1(extension="1002", domain="acme.pbx.test", pin=GOOD_PIN)
    assert user.pin_set_at is not None


def test_refused_pin_is_shown_beside_the_field_and_nothing_is_saved(admin_page, install):
    page = admin_page
    user = PbxUserFactory(install=install, extension="1003", name="Cy Lee", pin="1357")
    ha1_before, set_at_before = user.pin_ha1, user.pin_set_at
    open_install(page, install, "Users")
    page.locator("tr[data-extension='1003']").get_by_role("link", name="Edit").click()

    page.get_by_label("Hot Desk Access").check()
    page.get_by_label("Hot Desk Pin").fill("1234")
    page.get_by_role("button", name="Save", exact=True).click()

    pin_input = page.get_by_label("Hot Desk Pin")
    expect(pin_input).to_have_class(re.compile(r"\bis-invalid\b"))
    # The message is the field's own, in the feedback element right beside the input.
    feedback = page.locator("#id_pin ~ .invalid-feedback")
    expect(feedback).to_be_visible()
    expect(feedback).to_have_text(
        "A straight run of digits (such as 1234 or 9876) is too easy to guess."
    )
    # What was typed stays in the field (the issue "One clear PIN error"); it was refused.
    expect(pin_input).to_have_value("1234")

    user.refresh_from_db()
    assert not user.hot_desk_access
    assert (user.pin_ha1, user.pin_set_at) == (ha1_before, set_at_before)


def test_generate_a_pin_shows_a_new_pin_once(admin_page, install):
    page = admin_page
    user = PbxUserFactory(install=install, extension="1004", name="Di Ward")
    open_install(page, install, "Users")
    page.locator("tr[data-extension='1004']").get_by_role("link", name="Edit").click()

    page.get_by_role("button", name="Generate a PIN").click()

    shown = page.get_by_test_id("generated-pin")
    expect(shown).to_have_text(re.compile(r"^\s*\d{4}\s*$"))
    pin = shown.inner_text().strip()
    expect(page.get_by_role("alert")).to_contain_text("cannot be shown again")
    user.refresh_from_db()
    assert user.pin_ha1 == pin_ha1(extension="1004", domain="acme.pbx.test", pin=pin)

    # Once: back on the list and in User Settings the PIN is nowhere to be seen.
    page.get_by_role("link", name="Back to users").click()
    expect(page.locator("tr[data-extension='1004']").get_by_role("cell").nth(3)).to_contain_text(
        "Yes"
    )
    expect(page.get_by_test_id("generated-pin")).to_have_count(0)
    page.locator("tr[data-extension='1004']").get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Hot Desk Pin")).to_have_value("")
    expect(page.get_by_test_id("generated-pin")).to_have_count(0)


def test_trusted_range_is_added_and_listed(admin_page, install, screenshot):
    page = admin_page
    TrustedRangeFactory(install=install, network="198.51.100.0/24", description="Leeds office")
    open_install(page, install, "Trusted IPs")

    page.get_by_label("IP range").fill("203.0.113.0/24")
    page.get_by_label("Description").fill("London office")
    page.get_by_role("button", name="Add IP Range").click()

    expect(page.get_by_role("alert")).to_contain_text("Added 203.0.113.0/24.")
    row = page.locator("tr[data-network='203.0.113.0/24']")
    expect(row).to_contain_text("London office")
    expect(row).to_contain_text("alice")
    screenshot("trusted-ips-tab")
    assert TrustedRange.objects.filter(install=install, network="203.0.113.0/24").exists()


def test_host_bits_message_names_the_network_beside_the_field(admin_page, install):
    page = admin_page
    open_install(page, install, "Trusted IPs")

    page.get_by_label("IP range").fill("203.0.113.7/24")
    page.get_by_label("Description").fill("London office")
    page.get_by_role("button", name="Add IP Range").click()

    network_input = page.get_by_label("IP range")
    expect(network_input).to_have_class(re.compile(r"\bis-invalid\b"))
    feedback = page.locator("#id_network ~ .invalid-feedback")
    expect(feedback).to_have_text("203.0.113.7/24 has host bits set. Did you mean 203.0.113.0/24?")
    expect(network_input).to_have_value("203.0.113.7/24")
    assert not TrustedRange.objects.filter(install=install).exists()


def test_trusted_range_is_removed_after_confirming(admin_page, install, trusted_range):
    page = admin_page
    TrustedRangeFactory(install=install, network="198.51.100.0/24", description="Leeds office")
    open_install(page, install, "Trusted IPs")

    page.locator("tr[data-network='203.0.113.0/24']").get_by_role("link", name="Remove").click()
    expect(page.get_by_text("Remove 203.0.113.0/24 (London office)?")).to_be_visible()
    # Still there until the administrator confirms.
    assert TrustedRange.objects.filter(pk=trusted_range.pk).exists()
    page.get_by_role("button", name="Remove").click()

    expect(page.get_by_role("alert")).to_contain_text("Removed 203.0.113.0/24.")
    expect(page.locator("tr[data-network='203.0.113.0/24']")).to_have_count(0)
    expect(page.locator("tr[data-network='198.51.100.0/24']")).to_be_visible()
    assert not TrustedRange.objects.filter(pk=trusted_range.pk).exists()
