"""Logouts that end logins by themselves and stick, over real Kamailio (issue 14).

The install's daily logout time ends a login within one edge tick (the edges ask the portal
every HOTDESK_TABLES_INTERVAL seconds: POST /api/sip/v1/sessions/tick), removes the binding,
and the handset's next refresh is refused (`logged_out`) while a new login at a desk works.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.conftest import run_manage

from .records import eventually
from .seed import ACME, PIN, SEATS
from .sip_calls import Desk

pytestmark = pytest.mark.sip


def set_install(env: dict, *argv: str) -> None:
    done = run_manage(env, "set_install", "--domain", ACME, *argv)
    assert done.returncode == 0, done.stderr


def test_a_login_ends_at_the_daily_logout_time_and_its_refresh_stays_out(
    edge, e2e_database, records
):
    env, _ = e2e_database
    seat = SEATS["daily_logout"]
    aor = f"{seat.extension}@{ACME}"
    with Desk(edge=(edge.host, edge.port), extension=seat.extension, domain=ACME, pin=PIN) as desk:
        assert desk.log_in() == 200
        (session,) = eventually(
            lambda: records.open_sessions(seat.extension, ACME),
            until=lambda rows: [row["call_id"] for row in rows] == [desk.login_call_id],
        )
        # Two seconds from now, on the install's wall clock.
        logout_at = (timezone.now() + timedelta(seconds=2)).astimezone(ZoneInfo("Europe/London"))
        set_install(
            env, "--time-zone", "Europe/London", "--daily-logout", logout_at.strftime("%H:%M:%S")
        )
        try:
            # One edge tick (5 s) after the time, and some margin.
            ended = eventually(
                lambda: records.sessions(seat.extension, ACME)[-1],
                until=lambda row: row["ended_at"] is not None,
                timeout=15,
            )
        finally:
            set_install(env, "--daily-logout", "")
        assert ended["id"] == session["id"]
        assert ended["end_reason"] == "daily_logout"
        assert eventually(edge.bindings, until=lambda found: aor not in found).get(aor) is None

        refused = desk.refresh(cseq=20)
        assert (refused.status, refused.reason) == (403, "Forbidden (logged_out)"), refused.raw
        # Logging in again at the desk (a new login, a new Call-ID) works.
        desk.login_call_id += "-again"
        assert desk.log_in() == 200


def test_the_installs_registration_expiry_bounds_what_a_handset_is_granted(edge, records):
    seat = SEATS["expiry_cap"]  # acme.pbx.test: registration expiry 500 s (the default)
    with Desk(edge=(edge.host, edge.port), extension=seat.extension, domain=ACME, pin=PIN) as desk:
        # The first answer for the domain teaches this edge the install's expiry.
        assert desk.log_in() == 200
        desk.login_call_id += "-long"
        granted = desk.phone.login(
            user=seat.extension,
            domain=ACME,
            pin=PIN,
            call_id=desk.login_call_id,
            cseq=1,
            contact=desk.contact,
            expires=3600,
        )

    assert granted.status == 200, granted.raw
    contact = granted.header("contact") or ""
    assert ";expires=500" in contact, contact
    (session,) = eventually(
        lambda: records.open_sessions(seat.extension, ACME),
        until=lambda rows: [row["call_id"] for row in rows] == [desk.login_call_id],
    )
    assert session["call_id"] == desk.login_call_id
    granted_for = _moment(session["expires_at"]) - _moment(session["logged_in_at"])
    assert granted_for.total_seconds() <= 501
    # A handset that names no expiry at all gets the install's, not the edge's default.
    with Desk(edge=(edge.host, edge.port), extension=seat.extension, domain=ACME, pin=PIN) as quiet:
        quiet.login_call_id += "-quiet"
        silent = quiet.phone.login(
            user=seat.extension,
            domain=ACME,
            pin=PIN,
            call_id=quiet.login_call_id,
            cseq=1,
            contact=quiet.contact,
            expires=None,
        )
    assert silent.status == 200, silent.raw
    assert ";expires=500" in (silent.header("contact") or ""), silent.raw


def _moment(value) -> datetime:
    # SQLite hands back text, PostgreSQL a datetime.
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
