"""The Real Time Dashboard in real Chromium: it refreshes by itself, and Log out works.

The session is seeded in the database and the SIP edge is the JSON-RPC stand-in; the version
that logs a handset in with sipp through real Kamailio belongs with the end-to-end tests.
Screenshots land in test-output/screenshots/dashboard-*.png to look at.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import HotDeskSession, SessionEnd
from tests.factories import (
    HotDeskSessionFactory,
    PbxUserFactory,
    PortalUserFactory,
    SipCredentialFactory,
)
from tests.registrations.kamailio_standin import StandInServer

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `browser` fixture skips (or, in CI, fails) then
    # Typed as Playwright's: every test that calls it needs the `browser` fixture.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's
DESK_PHONE = "sip:1001@203.0.113.7:5060;transport=udp"


@pytest.fixture
def edge(transactional_db):
    # Process caches (location tables, edges marked down) are reset by tests/conftest.py.
    with StandInServer() as standin:
        SipCredentialFactory(name="edge-1", rpc_url=standin.url)
        yield standin


def log_in_and_open_dashboard(page, user, install) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=install.name).click()
    tabs = page.locator("ul.nav-tabs")
    tabs.get_by_role("link", name="Real Time Dashboard", exact=True).click()
    expect(tabs.locator("a.nav-link.active")).to_have_text("Real Time Dashboard")


def test_dashboard_shows_a_new_login_by_itself_and_logs_a_session_out(
    page, portal_admin, install, hot_desk_user, edge, screenshot
):
    edge.add("1001@acme.pbx.test", DESK_PHONE, expires=500)
    # A login whose report never reached the portal: shown apart, from the edge's table.
    edge.add("1003@acme.pbx.test", "sip:1003@203.0.113.9:5060", **{"User-Agent": "Snom D785"})
    ann = HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        contact=DESK_PHONE,
        logged_in_at=timezone.now() - timedelta(minutes=12),
        user_agent="Yealink SIP-T46S 66.86.0.15",
    )
    HotDeskSessionFactory(
        pbx_user=PbxUserFactory(install=install, extension="1004", name="Dee Moss"),
        contact="sip:1004@203.0.113.12:5060",
        source_ip="203.0.113.12",
        logged_in_at=timezone.now() - timedelta(hours=2),
        ended_at=timezone.now() - timedelta(hours=1),
        end_reason=SessionEnd.EXPIRED,
    )

    log_in_and_open_dashboard(page, portal_admin, install)
    live = page.locator("#live-sessions")
    ann_row = live.locator(f"tr[data-session='{ann.pk}']")
    expect(ann_row).to_contain_text("Ann Smith")
    expect(ann_row).to_contain_text(DESK_PHONE)
    expect(ann_row).to_contain_text("203.0.113.7:5060 UDP")
    expect(page.get_by_text(re.compile(r"refreshes every 5 seconds"))).to_be_visible()
    expect(page.locator("#untracked-bindings")).to_contain_text("1003@acme.pbx.test")

    # Someone logs in on another desk: the page shows it without being reloaded.
    page.evaluate("window.notReloaded = true")
    edge.add("1002@acme.pbx.test", "sip:1002@203.0.113.8:5060", expires=500)
    bob = HotDeskSessionFactory(
        pbx_user=PbxUserFactory(
            install=install, extension="1002", name="Bob Jones", hot_desk_access=True
        ),
        contact="sip:1002@203.0.113.8:5060",
        source_ip="203.0.113.8",
        user_agent="Yealink SIP-T54W 96.86.0.70",
    )
    # Within one refresh interval (5 s), and then some.
    expect(live.locator(f"tr[data-session='{bob.pk}']")).to_contain_text(
        "Bob Jones", timeout=12_000
    )
    assert page.evaluate("window.notReloaded") is True
    screenshot("dashboard-live")

    page.once("dialog", lambda dialog: dialog.accept())
    ann_row.get_by_role("button", name="Log out", exact=True).click()

    expect(page.get_by_role("alert")).to_have_text(
        "Logged out 1001 Ann Smith: the handset's registration was removed at once."
    )
    expect(live.locator(f"tr[data-session='{ann.pk}']")).to_have_count(0)
    expect(live.locator(f"tr[data-session='{bob.pk}']")).to_be_visible()
    history_row = page.locator(f"#session-history tr[data-session='{ann.pk}']")
    expect(history_row.locator("[data-role=end-reason]")).to_have_text("Forced logout by alice")
    screenshot("dashboard-after-logout")

    ann.refresh_from_db()
    assert (ann.end_reason, ann.ended_by) == (SessionEnd.FORCED, "alice")
    assert ("ul.rm", ["location", "1001@acme.pbx.test"]) in edge.methods()
    assert "1001@acme.pbx.test" not in edge.table


def test_dismissing_the_confirmation_logs_nobody_out(
    page, portal_admin, install, hot_desk_user, edge
):
    edge.add("1001@acme.pbx.test", DESK_PHONE, expires=500)
    ann = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)
    log_in_and_open_dashboard(page, portal_admin, install)

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"tr[data-session='{ann.pk}']").get_by_role(
        "button", name="Log out", exact=True
    ).click()

    expect(page.locator(f"#live-sessions tr[data-session='{ann.pk}']")).to_be_visible()
    assert HotDeskSession.objects.get(pk=ann.pk).ended_at is None
    assert not any(method == "ul.rm" for method, _ in edge.methods())


def test_a_login_ends_at_the_daily_logout_time_on_a_frozen_clock(
    page, portal_admin, install, hot_desk_user, edge, monkeypatch, screenshot, live_server
):
    import base64
    import urllib.request
    from datetime import UTC, datetime, time

    from django.utils import timezone as django_timezone

    clock = {"now": datetime(2026, 12, 1, 18, 59, 30, tzinfo=UTC)}  # 18:59:30 in London
    monkeypatch.setattr(django_timezone, "now", lambda: clock["now"])
    install.daily_logout_at = time(19, 0)
    install.save()
    edge.add("1001@acme.pbx.test", DESK_PHONE, expires=500)
    ann = HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        contact=DESK_PHONE,
        logged_in_at=clock["now"] - timedelta(hours=9),
        refreshed_at=clock["now"] - timedelta(seconds=20),
        expires_at=clock["now"] + timedelta(seconds=480),
    )
    SipCredentialFactory(name="edge-tick", secret="tick-secret-for-the-test")
    token = base64.b64encode(b"edge-tick:tick-secret-for-the-test").decode()

    def tick() -> None:
        # What every SIP edge posts with its table fetch (deploy/kamailio/kamailio.cfg).
        request = urllib.request.Request(  # noqa: S310 (the test's own http server)
            live_server.url + "/api/sip/v1/sessions/tick",
            data=b"tick",
            headers={"Authorization": f"Basic {token}", "Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            assert answer.status == 200

    log_in_and_open_dashboard(page, portal_admin, install)
    row = page.locator(f"#live-sessions tr[data-session='{ann.pk}']")
    expect(row.locator("[data-role=ends]")).to_contain_text("Tue 19:00 GMT (daily logout")
    tick()  # 18:59:30: not yet
    page.reload()
    expect(row).to_have_count(1)

    clock["now"] = datetime(2026, 12, 1, 19, 0, 1, tzinfo=UTC)
    tick()

    # The page notices by itself at its next refresh.
    expect(row).to_have_count(0, timeout=15_000)
    ended = page.locator(f"#session-history tr[data-session='{ann.pk}'] [data-role=end-reason]")
    expect(ended).to_have_text("Daily logout")
    screenshot("dashboard-daily-logout")
    assert HotDeskSession.objects.get(pk=ann.pk).end_reason == SessionEnd.DAILY_LOGOUT


def test_the_dashboard_names_the_desk_and_finds_an_operator(
    page, portal_admin, install, hot_desk_user, edge, screenshot
):
    from handsets.models import Handset

    Handset.objects.create(install=install, mac="0015658d9f27", desk="Reception 1")
    edge.add("1001@acme.pbx.test", DESK_PHONE, expires=500)
    edge.add("1002@acme.pbx.test", "sip:1002@203.0.113.8:5060", expires=500)
    HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        contact=DESK_PHONE,
        user_agent="Yealink SIP-T46S 66.86.0.15 00:15:65:8d:9f:27",
    )
    HotDeskSessionFactory(
        pbx_user=PbxUserFactory(install=install, extension="1002", name="Bob Jones"),
        contact="sip:1002@203.0.113.8:5060",
        source_ip="203.0.113.8",
    )

    log_in_and_open_dashboard(page, portal_admin, install)
    live = page.locator("#live-sessions")
    expect(live.locator("tr[data-extension='1001'] [data-role=desk]")).to_contain_text(
        "Reception 1"
    )
    page.get_by_label("Find an operator").fill("bob")
    page.get_by_role("button", name="Find").click()
    expect(live.locator("tbody tr[data-extension]")).to_have_count(1)
    expect(live.locator("tr[data-extension='1002']")).to_contain_text("Bob Jones")
    screenshot("dashboard-find")


def test_a_viewer_sees_the_dashboard_and_is_offered_no_log_out(page, install, hot_desk_user, edge):
    from accounts.models import Membership, Role

    viewer = PortalUserFactory(username="vera")
    Membership.objects.create(account=install.account, user=viewer, role=Role.VIEWER)
    edge.add("1001@acme.pbx.test", DESK_PHONE, expires=500)
    ann = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)

    log_in_and_open_dashboard(page, viewer, install)

    row = page.locator(f"#live-sessions tr[data-session='{ann.pk}']")
    expect(row).to_contain_text("Ann Smith")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.locator("#viewer-note")).to_be_visible()
