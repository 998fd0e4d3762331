"""Hot-desk logins end to end: sipp -> Kamailio (shipped cfg, via runsip) -> portal (gunicorn).

Each test asserts the final SIP status sipp received and what the portal recorded.
"""

from __future__ import annotations

import base64
import re
import struct
import time

import pytest

from kamailio import rpc as kamailio_rpc

from .records import eventually
from .seed import ACME, OTHER, OTHER_PIN, PIN, SEATS, WRONG_PIN
from .sipp_runner import Phone

pytestmark = pytest.mark.sip

TRANSPORTS = ["udp", "tcp"]


def phone(seat: str, *, pin: str | None = None, auth_seat: str | None = None) -> Phone:
    s = SEATS[seat]
    return Phone(
        extension=s.extension,
        domain=s.domain,
        pin=pin or s.pin or PIN,
        auth_user=SEATS[auth_seat].extension if auth_seat else None,
    )


def login(sipp, edge, seat: str, **kwargs):
    run = sipp.run("register_ok.xml", target=edge.target, phones=[phone(seat)], **kwargs)
    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 200 OK"], run.describe()
    return run


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_allowed_login_gets_200_and_opens_a_session(sipp, edge, records, transport):
    seat = SEATS[f"login_{transport}"]
    run = sipp.run(
        "register_ok.xml",
        target=edge.target,
        phones=[phone(f"login_{transport}")],
        transport=transport,
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 200 OK"]
    sessions = eventually(
        lambda: records.open_sessions(seat.extension, seat.domain), until=lambda s: len(s) == 1
    )
    assert len(sessions) == 1, sessions
    session = sessions[0]
    assert session["call_id"] == run.call_id
    assert session["proto"] == transport
    assert session["source_ip"] == "127.0.0.1"
    assert f"sip:{seat.extension}@127.0.0.1:" in session["contact"]
    assert [e["reason"] for e in records.log(run.call_id, "check")] == ["ok"]
    assert f"{seat.extension}@{seat.domain}" in edge.bindings()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_pin_gets_403_and_counts_one_failure(sipp, edge, records, transport):
    seat = SEATS[f"wrong_pin_{transport}"]
    run = sipp.run(
        "register_forbidden.xml",
        target=edge.target,
        phones=[phone(f"wrong_pin_{transport}", pin=WRONG_PIN)],
        transport=transport,
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (wrong_pin)"]
    assert records.settled(run.call_id)  # its one outcome is in: nothing more may arrive
    assert records.failures(seat.extension, seat.domain) == 1
    assert len(records.log(run.call_id, "auth_failed")) == 1
    assert records.open_sessions(seat.extension, seat.domain) == []


def test_wrong_pin_counts_once_when_the_portal_is_slow_and_the_phone_retransmits(
    sipp, slow_edge, portal_proxy, records
):
    seat = SEATS["wrong_pin_slow"]
    # Slower than sipp's first retransmission (500 ms), inside Kamailio's 1 s timeout.
    with portal_proxy.delaying_checks(0.7):
        run = sipp.run(
            "register_forbidden.xml",
            target=slow_edge.target,
            phones=[phone("wrong_pin_slow", pin=WRONG_PIN)],
        )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (wrong_pin)"]
    assert run.sent("REGISTER", cseq=2) >= 2, "sipp did not retransmit: the test proves nothing"
    assert portal_proxy.checks_for(run.call_id) == 1
    assert records.settled(run.call_id)
    assert records.failures(seat.extension, seat.domain) == 1
    assert len(records.log(run.call_id, "auth_failed")) == 1


def test_user_without_hot_desk_access_is_refused(sipp, edge, records):
    seat = SEATS["no_access"]
    run = sipp.run("register_forbidden.xml", target=edge.target, phones=[phone("no_access")])

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (no_hot_desk_access)"]
    assert [e["reason"] for e in records.log(run.call_id, "check")] == ["no_hot_desk_access"]
    assert records.sessions(seat.extension, seat.domain) == []


@pytest.mark.parametrize("pin", [PIN, WRONG_PIN], ids=["right_pin", "wrong_pin"])
def test_source_outside_the_trusted_ranges_is_refused_and_counts_nothing(sipp, edge, records, pin):
    seat = SEATS["untrusted"]
    # acme.pbx.test trusts 127.0.0.1/32 only.
    run = sipp.run(
        "register_forbidden.xml",
        target=edge.target,
        phones=[phone("untrusted", pin=pin)],
        source_ip="127.0.0.2",
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (untrusted_source)"]
    checks = records.log(run.call_id, "check")
    assert [(e["reason"], e["source_ip"]) for e in checks] == [("untrusted_source", "127.0.0.2")]
    # Denied: no HA1 left the portal, so no digest was checked and no outcome can follow.
    assert records.failures(seat.extension, seat.domain) == 0
    assert records.sessions(seat.extension, seat.domain) == []


def test_register_without_credentials_is_challenged_and_never_reaches_the_portal(
    sipp, edge, records
):
    seat = SEATS["noauth"]
    run = sipp.run("register_noauth.xml", target=edge.target, phones=[phone("noauth")])

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 401 Unauthorized"]
    assert "200 OK" not in run.messages
    # Any portal call would have come before the answer (the edge asks synchronously).
    assert records.log(run.call_id) == []
    assert records.sessions(seat.extension, seat.domain) == []


def test_nonce_outlives_the_longest_binding_so_a_refresh_needs_no_stale_round(sipp, edge):
    # Handsets refresh every 500 s (up to the 3600 s maximum). With Kamailio's default nonce
    # lifetime (300 s) every refresh would cost a "401 stale" round and a second portal check.
    # Kamailio 5.6's nonce starts with two network-order integers: expires, issued at.
    run = sipp.run("register_noauth.xml", target=edge.target, phones=[phone("noauth")])

    (nonce,) = re.findall(r'nonce="([^"]+)"', run.messages)
    expires, issued = struct.unpack(">II", base64.b64decode(nonce)[:8])
    assert expires - issued > 3600


def test_digest_user_other_than_the_to_user_is_refused(sipp, edge, records):
    # 2050's valid PIN used to register 2051.
    target = SEATS["mismatch_target"]
    run = sipp.run(
        "register_user_mismatch.xml",
        target=edge.target,
        phones=[phone("mismatch_target", auth_seat="mismatch_owner")],
    )

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 403 Forbidden (username mismatch)"]
    # Any portal call would have come before the answer (the edge asks synchronously).
    assert records.log(run.call_id) == []
    for seat in (target, SEATS["mismatch_owner"]):
        assert records.sessions(seat.extension, seat.domain) == []
        assert f"{seat.extension}@{seat.domain}" not in edge.bindings()


@pytest.mark.parametrize(
    ("seat_name", "scenario"),
    [("logout", "unregister.xml"), ("logout_all", "unregister_all.xml")],
    ids=["expires_0", "contact_star"],
)
def test_deregistration_gets_200_and_closes_the_session(sipp, edge, records, seat_name, scenario):
    seat = SEATS[seat_name]
    port = sipp.free_port()
    login(sipp, edge, seat_name, local_port=port)
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)

    run = sipp.run(scenario, target=edge.target, phones=[phone(seat_name)], local_port=port)

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 200 OK"]
    sessions = eventually(
        lambda: records.sessions(seat.extension, seat.domain),
        until=lambda s: s and s[-1]["ended_at"] is not None,
    )
    assert [s["end_reason"] for s in sessions] == ["logged_out"]
    assert len(records.log(run.call_id, "unregistered")) == 1
    assert f"{seat.extension}@{seat.domain}" not in edge.bindings()


def test_five_wrong_pins_lock_the_user_even_against_the_right_pin(sipp, edge, records):
    seat = SEATS["lockout"]
    wrong = sipp.run(
        "register_forbidden.xml",
        target=edge.target,
        phones=[phone("lockout", pin=WRONG_PIN)] * 5,
    )
    assert wrong.returncode == 0, wrong.describe()
    assert wrong.finals == ["SIP/2.0 403 Forbidden (wrong_pin)"] * 5
    lockout = eventually(
        lambda: records.lockout(seat.extension, seat.domain),
        until=lambda row: row is not None and row["locked_until"] is not None,
    )
    assert lockout["locked_until"] is not None, lockout

    right = sipp.run("register_forbidden.xml", target=edge.target, phones=[phone("lockout")])

    assert right.returncode == 0, right.describe()
    assert right.finals == ["SIP/2.0 403 Forbidden (locked)"]
    assert records.open_sessions(seat.extension, seat.domain) == []
    assert records.failures(seat.extension, seat.domain) == 5


def test_portal_stopped_gets_503_with_retry_after_and_recovers(
    sipp, slow_edge, portal_proxy, records
):
    seat = SEATS["portal_down"]
    with portal_proxy.stopped():
        run = sipp.run(
            "register_unavailable.xml", target=slow_edge.target, phones=[phone("portal_down")]
        )

        assert run.returncode == 0, run.describe()
        assert run.finals == ["SIP/2.0 503 Service Unavailable"]
        assert 30 <= int(run.log.split("RETRY-AFTER ")[1].split()[0]) <= 60
        assert records.sessions(seat.extension, seat.domain) == []
        assert "portal unreachable" in slow_edge.log()

    # Portal back: the next attempt goes through on a fresh connection.
    login(sipp, slow_edge, "portal_down")
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)


def test_portal_answering_after_the_timeout_gets_503(sipp, slow_edge, portal_proxy, records):
    seat = SEATS["portal_slow"]
    started = time.monotonic()
    with portal_proxy.delaying_checks(3.5):
        run = sipp.run(
            "register_unavailable.xml", target=slow_edge.target, phones=[phone("portal_slow")]
        )
    elapsed = time.monotonic() - started

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 503 Service Unavailable"]
    assert elapsed < 10
    assert "curl error 28" in slow_edge.log()
    # The late check reaches the portal after the edge gave up and settled the attempt: it
    # is logged, takes no guess, and no outcome follows (a permit left open would later
    # count as a wrong PIN the phone never sent).
    checks = eventually(
        lambda: records.log(run.call_id, "check"), until=lambda rows: len(rows) == 1, timeout=5
    )
    assert [(c["allowed"], c["reason"]) for c in checks] == [(False, "too_late")]
    assert records.settled(run.call_id)
    assert records.sessions(seat.extension, seat.domain) == []
    assert records.failures(seat.extension, seat.domain) == 0


def test_same_extension_in_two_installs_registers_independently(sipp, edge, records):
    acme, other = SEATS["twin_acme"], SEATS["twin_other"]
    assert acme.extension == other.extension and acme.domain != other.domain

    login(sipp, edge, "twin_acme")
    login(sipp, edge, "twin_other")
    # Each install's PIN is its own: acme's PIN is a wrong PIN at the other install.
    wrong = sipp.run(
        "register_forbidden.xml",
        target=edge.target,
        phones=[Phone(extension=other.extension, domain=OTHER, pin=PIN)],
    )

    assert wrong.finals == ["SIP/2.0 403 Forbidden (wrong_pin)"], wrong.describe()
    assert OTHER_PIN != PIN
    for seat in (acme, other):
        assert (
            len(eventually(lambda s=seat: records.open_sessions(s.extension, s.domain), until=bool))
            == 1
        )
    bindings = edge.bindings()
    assert f"{acme.extension}@{ACME}" in bindings
    assert f"{other.extension}@{OTHER}" in bindings
    assert eventually(lambda: records.failures(other.extension, OTHER), until=bool) == 1
    assert records.failures(acme.extension, ACME) == 0


def test_login_from_a_second_handset_replaces_the_first(sipp, edge, records):
    seat = SEATS["two_handsets"]
    first_port, second_port = sipp.free_port(), sipp.free_port()
    first = login(sipp, edge, "two_handsets", local_port=first_port)
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)

    second = login(sipp, edge, "two_handsets", local_port=second_port)

    sessions = eventually(
        lambda: records.sessions(seat.extension, seat.domain), until=lambda s: len(s) == 2
    )
    assert [(s["call_id"], s["end_reason"]) for s in sessions] == [
        (first.call_id, "moved"),
        (second.call_id, ""),
    ]
    assert sessions[1]["ended_at"] is None
    contacts = edge.bindings()[f"{seat.extension}@{seat.domain}"]
    assert len(contacts) == 1 and f":{second_port}" in contacts[0], contacts


def test_refresh_of_the_same_binding_is_authenticated_by_kamailio_without_the_portal(
    sipp, edge, records
):
    # Until the refresh cache: two checks (login and refresh). Now the refresh is checked by
    # Kamailio against the HA1 of the login (route CACHED_REFRESH): one check, one report.
    seat = SEATS["refresh"]
    run = sipp.run("register_refresh.xml", target=edge.target, phones=[phone("refresh")])

    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 200 OK", "SIP/2.0 200 OK"]
    assert run.sent("REGISTER", cseq=4) == 0, "the refresh was challenged: it proves nothing"
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)
    assert records.settled(run.call_id)
    assert [e["reason"] for e in records.log(run.call_id, "check")] == ["ok"]
    assert len(records.log(run.call_id, "registered")) == 1
    assert f"{seat.extension}@{seat.domain}" in edge.bindings()


def test_forced_logout_over_the_rpc_url_runsip_recorded_removes_the_binding(sipp, edge, records):
    seat = SEATS["forced_logout"]
    aor = f"{seat.extension}@{seat.domain}"
    login(sipp, edge, "forced_logout")
    assert aor in edge.bindings()
    (credential,) = records.rows(
        "SELECT rpc_url FROM registrations_sipcredential WHERE name = %s",
        (edge.credential_name,),
    )

    auth = edge.rpc_authorization
    kamailio_rpc.remove_binding(rpc_url=credential["rpc_url"], aor=aor, authorization=auth)

    assert aor not in edge.bindings()
    listed = kamailio_rpc.list_bindings(rpc_url=credential["rpc_url"], authorization=auth)
    assert aor not in {b.aor for b in listed}
