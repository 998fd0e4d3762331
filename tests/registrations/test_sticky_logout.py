"""A logout sticks: the handset's refresh of the ended login does not log the operator back in.

Log out on the dashboard, a new PIN, revoked-then-restored access: the check refuses that
login's Call-ID (`logged_out`) before any digest is checked, so no guess is spent either; a
new login at a desk (a new Call-ID) is decided as usual and lifts it.
"""

from __future__ import annotations

import pytest

from audit.trail import Actor
from registrations import logouts
from registrations.models import Lockout
from users import services

from .helpers import check, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def edge(rpc_only_edge):
    return rpc_only_edge


def refresh(edge_client, session, **overrides):
    return check(edge_client, callid=session.call_id, **overrides)


def test_after_log_out_the_handsets_refresh_is_refused_and_a_new_login_is_not(
    portal_client, edge_client, install, live
):
    from .test_dashboard import logout_url

    portal_client.post(logout_url(install, live))

    again = refresh(edge_client, live)
    assert (again.status_code, again.json()["reason"]) == (403, "logged_out")
    assert check(edge_client, callid="a-new-login@203.0.113.7").status_code == 200
    # Its log-out (Expires: 0) still goes through.
    assert refresh(edge_client, live, expires="0").status_code == 200


def test_a_refused_refresh_spends_no_guess(portal_client, edge_client, install, live):
    from .test_dashboard import logout_url

    portal_client.post(logout_url(install, live))
    for _ in range(20):
        assert refresh(edge_client, live).status_code == 403

    lockout = Lockout.objects.filter(pbx_user=live.pbx_user).first()
    assert lockout is None or (lockout.consecutive_failures, lockout.in_flight) == (0, 0)


def test_the_administrator_can_let_the_handset_log_back_in(install, edge_client, live):
    logouts.force_logout(session=live, actor=Actor.for_command("test"), sticky=False)

    assert refresh(edge_client, live).status_code == 200


def test_a_new_pin_keeps_the_old_logins_refresh_out_without_counting_it(
    edge_client, install, live, edge
):
    services.set_pin(user=live.pbx_user, pin="8642", actor=Actor.for_command("test"))

    assert refresh(edge_client, live).json()["reason"] == "logged_out"
    assert not Lockout.objects.filter(pbx_user=live.pbx_user, consecutive_failures__gt=0).exists()


def test_a_new_login_lifts_the_old_logout(portal_client, edge_client, install, live):
    from .test_dashboard import logout_url

    portal_client.post(logout_url(install, live))
    report(edge_client, "registered", callid="a-new-login@203.0.113.7")
    live.pbx_user.refresh_from_db()

    assert live.pbx_user.logged_out_call_id == ""
    assert refresh(edge_client, live).status_code == 200


def test_the_dashboards_log_out_can_let_the_handset_back_in_when_asked(
    portal_client, edge_client, install, live
):
    from .test_dashboard import logout_url

    portal_client.post(logout_url(install, live), {"let_back_in": "1"})

    assert refresh(edge_client, live).status_code == 200
