"""Attacks on the SIP edge from a trusted network, over the real Kamailio and portal.

Each test plays a client that chooses every field it can (Call-ID, CSeq, branch, Contact)
with `sip_client.SipClient`, and asserts what the edge answered and what the portal counted.
Nothing a client chooses may be an identity or a count: a guess is a REGISTER transaction,
named by the edge (`$sruid`), and the portal allows no more digest checks than the lockout
thresholds.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from kamailio.rpc import EdgeUnreachable

from .records import eventually
from .seed import ACME, OTHER, SEATS, WRONG_PIN
from .sip_client import SipClient, new_call_id

pytestmark = pytest.mark.sip

WRONG_PINS = ["1111", "1212", "1313", "1414", "1515", "1616", "1717", "1818", "1919"]


def client(edge, *, source_ip: str = "127.0.0.1", transport: str = "udp") -> SipClient:
    return SipClient(target=(edge.host, edge.port), source_ip=source_ip, transport=transport)


def challenge(phone: SipClient, seat, *, call_id: str, cseq: int) -> dict[str, str]:
    """One REGISTER without credentials; the challenge of its 401."""
    answer = phone.register(user=seat.extension, domain=seat.domain, call_id=call_id, cseq=cseq)
    assert answer.status == 401, answer.raw
    assert phone.last_challenge is not None
    return phone.last_challenge


def guess(edge, seat, *, pin: str, call_id: str, cseq: int, source_ip: str = "127.0.0.1"):
    """One attempt as an attacker makes it: a challenge, then the digest of `pin`, both with
    the Call-ID and CSeq the attacker chose. The answer to the digest."""
    with client(edge, source_ip=source_ip) as attacker:
        nonce = challenge(attacker, seat, call_id=call_id, cseq=cseq)
        return attacker.register(
            user=seat.extension,
            domain=seat.domain,
            pin=pin,
            call_id=call_id,
            cseq=cseq,
            challenge=nonce,
        )


def lockout(records, seat) -> dict:
    return records.lockout(seat.extension, seat.domain) or {}


def test_guesses_that_reuse_one_call_id_and_cseq_each_count_and_lock(edge, records):
    seat = SEATS["attack_reused_ids"]
    call_id = new_call_id("reused")
    with client(edge) as attacker:
        nonce = challenge(attacker, seat, call_id=call_id, cseq=1)
        answers = [
            # The same Call-ID and CSeq every time, a new branch (so Kamailio checks each).
            attacker.register(
                user=seat.extension,
                domain=seat.domain,
                pin=pin,
                call_id=call_id,
                cseq=1,
                challenge=nonce,
                nonce_count=n,
            )
            for n, pin in enumerate(WRONG_PINS[:7], start=1)
        ]
        right = attacker.register(
            user=seat.extension,
            domain=seat.domain,
            pin=seat.pin,
            call_id=call_id,
            cseq=1,
            challenge=nonce,
            nonce_count=8,
        )

    reasons = [answer.reason for answer in answers]
    assert reasons == ["Forbidden (wrong_pin)"] * 5 + ["Forbidden (locked)"] * 2, reasons
    assert right.reason == "Forbidden (locked)"
    locked = eventually(
        lambda: lockout(records, seat), until=lambda row: row.get("consecutive_failures") == 5
    )
    assert locked["consecutive_failures"] == 5 and locked["locked_until"] is not None
    assert len(records.log(call_id, "auth_failed")) == 5
    assert records.open_sessions(seat.extension, seat.domain) == []


def test_one_users_report_is_never_a_duplicate_of_anothers(edge, records):
    # The same Call-ID and CSeq for two extensions: both wrong PINs count.
    call_id = new_call_id("shared")
    seats = [SEATS["attack_reused_ids_other"], SEATS["attack_reused_ids_third"]]
    for seat in seats:
        answer = guess(edge, seat, pin=WRONG_PIN, call_id=call_id, cseq=7)
        assert answer.reason == "Forbidden (wrong_pin)", answer.raw

    for seat in seats:
        assert eventually(lambda s=seat: records.failures(s.extension, s.domain), until=bool) == 1


@pytest.mark.parametrize("cseq", [0, 2**31 - 1])
def test_a_wrong_pin_with_any_cseq_the_edge_accepts_is_counted(edge, records, cseq):
    seat = SEATS["attack_large_cseq"]
    before = records.failures(seat.extension, seat.domain)
    call_id = new_call_id("bigcseq")
    answer = guess(edge, seat, pin=WRONG_PIN, call_id=call_id, cseq=cseq)

    assert answer.reason == "Forbidden (wrong_pin)", answer.raw
    (report,) = eventually(
        lambda: records.log(call_id, "auth_failed"), until=lambda rows: len(rows) == 1
    )
    assert report["cseq"] == cseq
    assert records.failures(seat.extension, seat.domain) == before + 1


def test_a_login_with_the_largest_cseq_opens_its_session(edge, records):
    seat = SEATS["attack_large_cseq"]
    call_id = new_call_id("bigcseqlogin")
    with client(edge) as phone:
        answer = phone.login(
            user=seat.extension, domain=seat.domain, pin=seat.pin, call_id=call_id, cseq=2**31 - 2
        )

    assert answer.status == 200, answer.raw
    sessions = eventually(
        lambda: records.open_sessions(seat.extension, seat.domain),
        until=lambda rows: [s["call_id"] for s in rows] == [call_id],
    )
    assert [s["call_id"] for s in sessions] == [call_id]


@pytest.mark.parametrize("cseq", [2**31, 2**32 - 1, 2**32, 10**20])
def test_a_cseq_of_2_to_the_31_or_more_is_refused_by_the_edge_before_the_portal(
    edge, records, cseq
):
    # RFC 3261 says below 2^31; Kamailio's parser alone took 2^32 and more, and the portal
    # refused the wrong-PIN report that carried it: a free guess.
    seat = SEATS["attack_large_cseq"]
    before = records.failures(seat.extension, seat.domain)
    call_id = new_call_id("hugecseq")
    with client(edge) as attacker:
        nonce = challenge(attacker, seat, call_id=call_id, cseq=1)
        answer = attacker.register(
            user=seat.extension,
            domain=seat.domain,
            pin=WRONG_PIN,
            call_id=call_id,
            cseq=cseq,
            challenge=nonce,
        )

    assert answer.status == 400, answer.raw  # "Bad CSeq", or sanity_check()'s own reason
    assert records.log(call_id) == []
    assert records.failures(seat.extension, seat.domain) == before


def test_parallel_guesses_from_three_addresses_never_pass_the_lock(edge, records):
    # Twelve wrong PINs at once from 127.0.0.1-3 (other.pbx.test trusts all of 127/8): only
    # as many digests may be checked as the 5-in-15-minutes lock allows.
    seat = SEATS["attack_parallel"]
    guesses = 12
    start = threading.Barrier(guesses)

    def parallel_guess(n: int) -> str:
        with client(edge, source_ip=f"127.0.0.{n % 3 + 1}") as attacker:
            call_id = new_call_id(f"parallel{n}")
            nonce = challenge(attacker, seat, call_id=call_id, cseq=1)
            start.wait(timeout=30)
            return attacker.register(
                user=seat.extension,
                domain=seat.domain,
                pin=WRONG_PINS[n % len(WRONG_PINS)],
                call_id=call_id,
                cseq=2,
                challenge=nonce,
            ).reason

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        reasons = list(pool.map(parallel_guess, range(guesses)))

    # Of the attempts the edge asks the portal about, exactly 5 get a digest check (a login
    # that waits too long for a portal worker gets 503 without asking).
    assert reasons.count("Forbidden (wrong_pin)") == 5, reasons
    assert set(reasons) <= {"Forbidden (wrong_pin)", "Forbidden (locked)", "Service Unavailable"}
    locked = eventually(
        lambda: lockout(records, seat), until=lambda row: row.get("consecutive_failures") == 5
    )
    assert locked["consecutive_failures"] == 5


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_contact_naming_another_host_cannot_steer_the_binding_away(edge, records, transport):
    seat = SEATS["attack_contact"]
    elsewhere = f"<sip:{seat.extension}@198.51.100.77:5060>"
    with client(edge, source_ip="127.0.0.2", transport=transport) as phone:
        answer = phone.login(
            user=seat.extension,
            domain=seat.domain,
            pin=seat.pin,
            call_id=new_call_id("contact"),
            cseq=1,
            contact=elsewhere,
        )
        port = phone.local_port

    assert answer.status == 200, answer.raw
    (binding,) = [
        contact["Contact"]
        for domain in edge.rpc("ul.dump")["Domains"]
        for record in domain["Domain"]["AoRs"]
        if record["Info"]["AoR"] == f"{seat.extension}@{OTHER}"
        for contact in record["Info"]["Contacts"]
    ]
    # Requests to the extension go to the received address: where the REGISTER came from.
    assert binding["Received"].startswith(f"sip:127.0.0.2:{port}"), binding
    assert binding["Address"] == "sip:2204@198.51.100.77:5060"


def test_an_untrusted_source_gets_one_answer_for_every_extension_and_domain(edge, records):
    # acme.pbx.test trusts 127.0.0.1/32 only: 127.0.0.2 is outside.
    asked = {
        "existing": (SEATS["attack_enumerate"].extension, ACME),
        "missing_extension": ("2999", ACME),
        "missing_domain": ("2205", "nowhere.pbx.test"),
    }
    answers, call_ids = {}, {}
    with client(edge, source_ip="127.0.0.2") as outsider:
        for name, (extension, domain) in asked.items():
            call_ids[name] = new_call_id(f"enum-{name}")
            answer = outsider.login(
                user=extension, domain=domain, pin=WRONG_PIN, call_id=call_ids[name], cseq=1
            )
            answers[name] = (answer.status, answer.reason)

    assert set(answers.values()) == {(403, "Forbidden (untrusted_source)")}, answers
    # The log keeps the real reason for administrators.
    logged = {
        name: [e["reason"] for e in records.log(call_id)] for name, call_id in call_ids.items()
    }
    assert logged == {
        "existing": ["untrusted_source"],
        "missing_extension": ["untrusted_source"],
        "missing_domain": ["unknown_domain"],
    }


def test_the_edges_rpc_refuses_callers_without_the_portals_authorization(edge):
    with pytest.raises(EdgeUnreachable, match="401"):
        edge_call(edge, "ul.dump", authorization="")
    with pytest.raises(EdgeUnreachable, match="401"):
        edge_call(edge, "ul.dump", authorization="Bearer guessed")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("htable.dump", ["hdauth"]),
        ("ul.add", ["location", "2999@acme.pbx.test", "sip:x"]),
        ("core.kill", None),
        ("core.version", None),
        # The one htable write the portal makes is "fetch the PBX table now", nothing else:
        # not a cached HA1, not the portal's failure count, not the lock list.
        ("htable.seti", ["hdportal", "down_until", 0]),
        ("htable.sets", ["hdauth", "2999@acme.pbx.test", "x"]),
        ("htable.seti", ["hdlocked", "tables_due", 0]),
        ("dlg.list", None),
        ("dlg.end_dlg", [1, 2, "Reason: x"]),
    ],
)
def test_the_edges_rpc_serves_no_secrets_bindings_or_shutdown_even_to_the_portal(
    edge, method, params
):
    with pytest.raises(EdgeUnreachable, match="403"):
        edge_call(edge, method, params=params, authorization=edge.rpc_authorization)
    assert edge.rpc("ul.dump") is not None  # still up


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("dlg.profile_list", ["hotdesk", "2999@acme.pbx.test"]),
        ("htable.seti", ["hdportal", "tables_due", 0]),
    ],
)
def test_the_edges_rpc_serves_the_portals_call_requests(edge, method, params):
    edge_call(edge, method, params=params, authorization=edge.rpc_authorization)


def edge_call(edge, method: str, *, authorization: str, params=None):
    from kamailio import rpc as kamailio_rpc

    return kamailio_rpc.call(
        rpc_url=edge.rpc_url, method=method, params=params, authorization=authorization, timeout=5
    )


# --- A real phone: one Call-ID for login, refreshes and log-out -------------------------------


def test_a_phone_logs_out_with_its_login_call_id(edge, records):
    seat = SEATS["phone_logout"]
    call_id = new_call_id("phone")
    aor = f"{seat.extension}@{seat.domain}"
    with client(edge) as phone:
        login = phone.login(
            user=seat.extension, domain=seat.domain, pin=seat.pin, call_id=call_id, cseq=1
        )
        assert login.status == 200, login.raw
        assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)
        refresh = phone.register(
            user=seat.extension,
            domain=seat.domain,
            pin=seat.pin,
            call_id=call_id,
            cseq=3,
            challenge=phone.last_challenge,
            nonce_count=2,
        )
        assert refresh.status == 200, refresh.raw
        logout = phone.register(
            user=seat.extension,
            domain=seat.domain,
            pin=seat.pin,
            call_id=call_id,
            cseq=4,
            expires=0,
            challenge=phone.last_challenge,
            nonce_count=3,
        )

    assert logout.status == 200, logout.raw
    sessions = eventually(
        lambda: records.sessions(seat.extension, seat.domain),
        until=lambda rows: rows and rows[-1]["ended_at"] is not None,
    )
    assert [(s["call_id"], s["end_reason"]) for s in sessions] == [(call_id, "logged_out")]
    assert aor not in edge.bindings()
    assert len(records.log(call_id, "registered")) == 1
    assert len(records.log(call_id, "unregistered")) == 1
