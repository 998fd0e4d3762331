"""Logins end at the install's logout times, by themselves (registrations.timed_logouts).

The clock is the `now` each sweep is given; the edges call the sweep every few seconds
(POST /api/sip/v1/sessions/tick), shown over real Kamailio in tests/e2e/test_logout_times.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from audit.models import Action, AuditEvent
from calls.models import CallRecord
from registrations.models import HotDeskSession, SessionEnd
from registrations.timed_logouts import end_due_sessions
from tests.factories import HotDeskSessionFactory, InstallFactory, PbxUserFactory

from .helpers import AOR, check

pytestmark = pytest.mark.django_db

# 18:59:59 in London (GMT in December).
BEFORE_SEVEN = datetime(2026, 12, 1, 18, 59, 59, tzinfo=UTC)
SEVEN = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


@pytest.fixture
def edge(rpc_only_edge):
    return rpc_only_edge


@pytest.fixture
def daily(install, live):
    install.daily_logout_at = time(19, 0)
    install.save()
    HotDeskSession.objects.filter(pk=live.pk).update(logged_in_at=SEVEN - timedelta(hours=9))
    live.refresh_from_db()
    return live


def test_a_login_ends_at_the_daily_logout_time_and_not_a_second_before(daily, edge):
    assert end_due_sessions(now=BEFORE_SEVEN) == 0
    daily.refresh_from_db()
    assert daily.ended_at is None

    assert end_due_sessions(now=SEVEN) == 1

    daily.refresh_from_db()
    assert (daily.end_reason, daily.ended_at) == (SessionEnd.DAILY_LOGOUT, SEVEN)
    event = AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT)
    assert event.actor_label == "Daily logout"


def test_the_binding_goes_once_committed_and_the_logout_sticks(
    daily, edge, edge_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        end_due_sessions(now=SEVEN)

    assert ("ul.rm", ["location", AOR]) in edge.methods()
    refused = check(edge_client, callid=daily.call_id)
    assert refused.json()["reason"] == "logged_out"


def test_the_maximum_login_time_counts_from_each_login(install, live, edge):
    install.max_login_minutes = 60
    install.save()
    logged_in = live.logged_in_at

    assert end_due_sessions(now=logged_in + timedelta(minutes=59)) == 0
    assert end_due_sessions(now=logged_in + timedelta(minutes=60)) == 1
    live.refresh_from_db()
    assert live.end_reason == SessionEnd.MAX_LOGIN


def test_an_operator_on_a_call_is_logged_out_when_the_call_ends(daily, edge):
    call = CallRecord.objects.create(
        install=daily.install,
        edge="edge-1",
        ref="talking",
        direction="out",
        extension=daily.extension,
        started_at=SEVEN - timedelta(minutes=5),
        answered_at=SEVEN - timedelta(minutes=5),
    )

    assert end_due_sessions(now=SEVEN) == 0
    call.ended_at, call.result = SEVEN + timedelta(minutes=3), "answered"
    call.save()
    assert end_due_sessions(now=SEVEN + timedelta(minutes=3, seconds=5)) == 1

    daily.refresh_from_db()
    assert daily.end_reason == SessionEnd.DAILY_LOGOUT


def test_the_callee_of_an_internal_call_waits_too(daily, edge):
    CallRecord.objects.create(
        install=daily.install,
        edge="edge-1",
        ref="ringing-me",
        direction="internal",
        extension="1002",
        other_party=daily.extension,
        started_at=SEVEN - timedelta(seconds=30),
    )

    assert end_due_sessions(now=SEVEN) == 0


def test_installs_without_limits_and_other_installs_times_are_left_alone(daily, edge):
    elsewhere = InstallFactory(sip_domain="tokyo.pbx.test", time_zone="Asia/Tokyo")
    elsewhere.daily_logout_at = time(19, 0)  # 10:00 UTC: long past at SEVEN, but
    elsewhere.save()
    user = PbxUserFactory(install=elsewhere, extension="2001", hot_desk_access=True)
    tokyo = HotDeskSessionFactory(pbx_user=user, logged_in_at=SEVEN - timedelta(hours=1))
    unlimited = HotDeskSessionFactory(
        pbx_user=PbxUserFactory(install=InstallFactory(), extension="3001"),
        logged_in_at=SEVEN - timedelta(days=3),
    )

    assert end_due_sessions(now=SEVEN) == 1  # only London's
    tokyo.refresh_from_db()
    unlimited.refresh_from_db()
    assert tokyo.ended_at is None and unlimited.ended_at is None


def test_the_edges_tick_needs_their_credential_and_ends_what_is_due(
    client, edge_client, daily, edge
):
    assert client.post("/api/sip/v1/sessions/tick", HTTP_AUTHORIZATION="").status_code == 401

    response = edge_client.post("/api/sip/v1/sessions/tick", "tick", content_type="text/plain")

    assert response.json() == {"ok": True, "ended": 1}
    daily.refresh_from_db()
    assert daily.end_reason == SessionEnd.DAILY_LOGOUT


def test_the_dashboard_says_when_each_login_ends_in_the_installs_time(
    portal_client, install, daily
):
    from .test_dashboard import live_url, row, text

    install.time_zone = "America/New_York"
    install.save()

    page = portal_client.get(live_url(install)).content.decode()

    ends = text(row(page, "live-sessions", daily).split('data-role="ends">')[1].split("</td>")[0])
    assert ends.startswith("Tue 19:00 EST (daily logout")
