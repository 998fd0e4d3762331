"""Refreshes of a live binding, authenticated by Kamailio without asking the portal.

The shipped cfg keeps the HA1 the portal returned for a login (htable `hdauth`, at most
HOTDESK_REFRESH_CACHE_SECONDS) and checks a refresh from the same handset (same Call-ID,
same source IP, binding still in the location table) against it. The binding is the
authority: the portal revokes by removing it (`ul.rm`), and the next refresh then goes to
the portal again. Each case asserts what sipp got and which checks the portal saw.

A "refresh" here is a second sipp run with the login's Call-ID and a higher CSeq; it is
challenged again (a new nonce), as a handset that keeps no digest state does.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import run_manage

from .conftest import SHORT_CACHE_SECONDS
from .records import eventually
from .seed import SEATS, WRONG_PIN
from .test_registration import phone

pytestmark = pytest.mark.sip


def new_call_id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}@e2e.test"


def aor(seat_name: str) -> str:
    seat = SEATS[seat_name]
    return f"{seat.extension}@{seat.domain}"


def checks(records, call_id: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["source_ip"]) for e in records.log(call_id, "check")]


def login(sipp, edge, seat_name: str, *, call_id: str, local_port: int):
    run = sipp.run(
        "register_ok.xml",
        target=edge.target,
        phones=[phone(seat_name)],
        call_id=call_id,
        local_port=local_port,
    )
    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 200 OK"], run.describe()
    assert run.call_id == call_id
    return run


def refresh(sipp, edge, seat_name: str, scenario: str, *, call_id: str, pin=None, **kwargs):
    """The same Call-ID as the login, a higher CSeq."""
    return sipp.run(
        scenario,
        target=edge.target,
        phones=[phone(seat_name, pin=pin)],
        call_id=call_id,
        base_cseq=kwargs.pop("base_cseq", 10),
        **kwargs,
    )


def portal_shell(env: dict, code: str) -> None:
    """Run `code` in the portal's Django (as an administrator's change would)."""
    done = run_manage(env, "shell", "-c", code, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]


def test_refresh_after_revocation_goes_to_the_portal_and_is_refused(
    sipp, edge, records, e2e_database
):
    seat = SEATS["revoked_refresh"]
    call_id, port = new_call_id("revoked"), sipp.free_port()
    login(sipp, edge, "revoked_refresh", call_id=call_id, local_port=port)
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)

    # The administrator revokes Hot Desk Access: the portal ends the session and removes
    # the binding on every edge (ul.rm over JSON-RPC) once the change has committed.
    portal_shell(
        e2e_database[0],
        "from audit.trail import Actor; from users import services; "
        "from users.models import PbxUser; "
        f"u = PbxUser.objects.get(extension='{seat.extension}', "
        f"install__sip_domain='{seat.domain}'); "
        "before = services.snapshot(u); u.hot_desk_access = False; "
        "services.save_user(user=u, pin=None, actor=Actor.for_command('e2e'), before=before)",
    )
    assert aor("revoked_refresh") not in eventually(
        edge.bindings, until=lambda b: aor("revoked_refresh") not in b
    )

    run = refresh(
        sipp, edge, "revoked_refresh", "register_forbidden.xml", call_id=call_id, local_port=port
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (no_hot_desk_access)"]
    assert checks(records, call_id) == [("ok", "127.0.0.1"), ("no_hot_desk_access", "127.0.0.1")]
    assert aor("revoked_refresh") not in edge.bindings()


def test_wrong_pin_on_a_cached_refresh_counts_once_and_sends_the_next_attempt_to_the_portal(
    sipp, edge, records
):
    seat = SEATS["cached_wrong_pin"]
    call_id, port = new_call_id("cachedwrong"), sipp.free_port()
    login(sipp, edge, "cached_wrong_pin", call_id=call_id, local_port=port)

    run = refresh(
        sipp,
        edge,
        "cached_wrong_pin",
        "register_forbidden.xml",
        call_id=call_id,
        pin=WRONG_PIN,
        local_port=port,
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (wrong_pin)"]
    # Checked against the cached HA1, a wrong PIN is a guess like any other: answered and
    # reported at once, without a portal check (the only check is the login's).
    assert "stale=true" not in run.messages, run.describe()
    assert checks(records, call_id) == [("ok", "127.0.0.1")]
    (failure,) = eventually(
        lambda: records.log(call_id, "auth_failed"), until=lambda rows: len(rows) == 1
    )
    assert failure["reason"] == "wrong_pin"
    assert records.failures(seat.extension, seat.domain) == 1

    # The entry is gone: the next refresh, with the right PIN, is the portal's again (and
    # the portal's new "ok" makes it cached from then on).
    right = refresh(
        sipp,
        edge,
        "cached_wrong_pin",
        "register_ok.xml",
        call_id=call_id,
        local_port=port,
        base_cseq=20,
    )
    assert right.finals == ["SIP/2.0 200 OK"], right.describe()
    assert len(checks(records, call_id)) == 2
    again = refresh(
        sipp,
        edge,
        "cached_wrong_pin",
        "register_ok.xml",
        call_id=call_id,
        local_port=port,
        base_cseq=30,
    )
    assert again.finals == ["SIP/2.0 200 OK"], again.describe()
    assert len(checks(records, call_id)) == 2
    # Still one wrong PIN: the right ones settled their guesses, none was counted twice.
    assert len(records.log(call_id, "auth_failed")) == 1
    assert records.failures(seat.extension, seat.domain) == 1


def test_refresh_from_another_source_ip_goes_to_the_portal(sipp, edge, records):
    call_id = new_call_id("movedip")
    login(sipp, edge, "moved_ip_refresh", call_id=call_id, local_port=sipp.free_port())

    # The same Call-ID from 127.0.0.2 (outside acme's trusted 127.0.0.1/32).
    run = refresh(
        sipp,
        edge,
        "moved_ip_refresh",
        "register_forbidden.xml",
        call_id=call_id,
        source_ip="127.0.0.2",
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (untrusted_source)"]
    assert checks(records, call_id) == [("ok", "127.0.0.1"), ("untrusted_source", "127.0.0.2")]


def test_portal_outage_keeps_live_handsets_registered_but_refuses_new_logins(
    sipp, slow_edge, portal_proxy, records
):
    # Intended: fail closed for new logins; a handset whose binding the portal validated
    # keeps refreshing during an outage, for at most HOTDESK_REFRESH_CACHE_SECONDS.
    call_id, port = new_call_id("outage"), sipp.free_port()
    login(sipp, slow_edge, "outage_refresh", call_id=call_id, local_port=port)
    assert portal_proxy.checks_for(call_id) == 1

    with portal_proxy.stopped():
        cached = refresh(
            sipp,
            slow_edge,
            "outage_refresh",
            "register_ok.xml",
            call_id=call_id,
            local_port=port,
        )
        new = sipp.run(
            "register_unavailable.xml", target=slow_edge.target, phones=[phone("outage_login")]
        )

    assert cached.returncode == 0, cached.describe()
    assert cached.finals == ["SIP/2.0 200 OK"]
    assert portal_proxy.checks_for(call_id) == 1
    assert new.returncode == 0, new.describe()
    assert new.finals == ["SIP/2.0 503 Service Unavailable"]
    seat = SEATS["outage_login"]
    assert records.sessions(seat.extension, seat.domain) == []


def test_the_portal_checks_a_handset_again_once_its_cache_entry_has_expired(
    sipp, short_cache_edge, records
):
    # A cached refresh does not extend the entry: the first refresh after it expired is the
    # portal's, and renews it. Times are measured from the login, so a slow machine can only
    # make the test wait longer, never pass for the wrong reason.
    call_id, port = new_call_id("expiry"), sipp.free_port()
    edge = short_cache_edge
    login(sipp, edge, "cache_expiry", call_id=call_id, local_port=port)
    logged_in = time.monotonic()

    def refreshed(cseq: int) -> None:
        run = refresh(
            sipp,
            edge,
            "cache_expiry",
            "register_ok.xml",
            call_id=call_id,
            local_port=port,
            base_cseq=cseq,
        )
        assert run.finals == ["SIP/2.0 200 OK"], run.describe()

    refreshed(10)
    assert len(checks(records, call_id)) == 1  # cached
    time.sleep(max(0.0, logged_in + SHORT_CACHE_SECONDS / 2 - time.monotonic()))
    refreshed(20)  # cached, half-way through the entry's life
    assert time.monotonic() - logged_in < SHORT_CACHE_SECONDS, "machine too slow to tell"
    assert len(checks(records, call_id)) == 1
    # Past the login's entry, but well inside one that the half-way refresh would have renewed.
    time.sleep(max(0.0, logged_in + SHORT_CACHE_SECONDS + 0.5 - time.monotonic()))
    refreshed(30)
    assert len(checks(records, call_id)) == 2
    refreshed(40)  # cached again, under the entry the portal's "ok" renewed
    assert len(checks(records, call_id)) == 2
