"""Calls between hot desks through the shipped edge (issue 12, the part between hot desks).

Handsets are `Desk`s (tests/e2e/sip_calls.py): each logs in with its PIN, then calls or is
called from the same address. The edge authenticates a call with the HA1 of the operator's
live binding and only from that binding's address, stamps who calls, and stays on the path.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import run_manage

from .conftest import PUSHED_WITHIN_SECONDS
from .records import eventually
from .seed import ACME, OTHER, OTHER_PIN, PIN, SEATS, WRONG_PIN
from .sip_calls import Desk
from .sip_client import SipClient, new_call_id

pytestmark = pytest.mark.sip


@contextlib.contextmanager
def desks(edge, *names: str, source_ip: str = "127.0.0.1", **desk_options):
    """One `Desk` per seat name; `desk_options` (transport, behind_nat) go to each."""
    opened = [
        Desk(
            edge=(edge.host, edge.port),
            extension=SEATS[name].extension,
            domain=ACME,
            pin=PIN,
            source_ip=source_ip,
            **desk_options,
        )
        for name in names
    ]
    try:
        yield opened
    finally:
        for desk in opened:
            desk.close()


def rings_and_answers(callee: Desk) -> dict:
    """The callee's side of a call: ring, answer, then take the caller's ACK and BYE."""
    invite = callee.wait_for("INVITE")
    assert invite is not None, "the call never reached the callee"
    callee.answer(invite, 180, "Ringing", tag="callee")
    callee.answer(invite, 200, "OK", tag="callee")
    ack = callee.wait_for("ACK")
    bye = callee.wait_for("BYE")
    if bye is not None:
        callee.answer(bye, 200, "OK")
    return {"invite": invite, "ack": ack, "bye": bye}


def test_an_operator_calls_another_hot_desk_through_the_edge_and_hangs_up(edge):
    with desks(edge, "call_0", "call_1") as (ann, bob), ThreadPoolExecutor(1) as pool:
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        callee = pool.submit(rings_and_answers, bob)

        # The handset claims to be someone else: the edge says who it really is.
        call, status = ann.invite(
            bob.extension, extra_headers=("P-Asserted-Identity: <sip:9999@acme.pbx.test>",)
        )
        assert status == 200
        assert ann.hang_up(call) == 200
        seen = callee.result(timeout=15)

    invite = seen["invite"]
    assert invite.all("p-asserted-identity") == [f"<sip:{ann.extension}@{ACME}>"]
    assert invite.header("proxy-authorization") is None, "the caller's digest went on"
    assert any(edge.target in route for route in invite.all("record-route"))
    assert seen["ack"] is not None and seen["bye"] is not None, "ACK or BYE missed the callee"


def test_a_wrong_pin_on_a_call_is_403_counted_and_stops_calls_until_the_next_login(edge, records):
    with desks(edge, "call_2", "call_3") as (ann, bob):
        assert (ann.log_in(), bob.log_in()) == (200, 200)

        _, status = ann.invite(bob.extension, pin=WRONG_PIN)

        assert status == 403
        failures = eventually(
            lambda: records.failures(ann.extension, ACME), until=lambda count: count == 1
        )
        assert failures == 1
        # The HA1 is gone from the edge: even the right PIN needs a login first.
        _, again = ann.invite(bob.extension)
        assert again == 403


def test_the_right_pin_from_another_address_is_403(edge):
    with (
        desks(edge, "call_4", "call_5") as (ann, bob),
        desks(edge, "call_4", source_ip="127.0.0.2") as (impostor,),
    ):
        assert (ann.log_in(), bob.log_in()) == (200, 200)

        _, status = impostor.invite(bob.extension)

    assert status == 403


def test_after_logging_out_an_operator_makes_no_call(edge):
    with desks(edge, "call_6", "call_7") as (ann, bob):
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        assert ann.log_out() == 200

        _, status = ann.invite(bob.extension)

    assert status == 403


def test_an_extension_nobody_is_hot_desked_on_is_not_found(edge):
    with desks(edge, "call_8") as (ann,):
        assert ann.log_in() == 200

        _, status = ann.invite(SEATS["call_9"].extension)

    assert status == 404


def test_a_call_without_a_login_is_refused_before_any_challenge(edge):
    with desks(edge, "call_10", "call_11") as (ann, bob):
        assert bob.log_in() == 200

        _, status = ann.invite(bob.extension)

    assert status == 403


def test_a_caller_cancels_before_the_answer_and_the_callee_stops_ringing(edge):
    with desks(edge, "call_12", "call_13") as (ann, bob):
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        call = ann.dial(bob.extension)
        invite = bob.wait_for("INVITE")
        assert invite is not None
        bob.answer(invite, 180, "Ringing", tag="bob")

        assert ann.cancel(call) == 200
        cancel = bob.wait_for("CANCEL")
        assert cancel is not None, "the CANCEL never reached the callee"
        bob.answer(cancel, 200, "OK")
        bob.answer(invite, 487, "Request Terminated", tag="bob")

        assert ann.outcome(call) == 487


# --- The install's PBX: outside calls go there, and its calls ring the hot desks ---------------


def set_pbx(e2e_database, address: str) -> None:
    env, _ = e2e_database
    done = run_manage(env, "set_install", "--domain", OTHER, "--pbx-address", address)
    assert done.returncode == 0, done.stderr


def test_outside_calls_go_to_the_pbx_and_calls_from_it_ring_the_hot_desk(
    hourly_tables_edge, e2e_database, records
):
    edge = hourly_tables_edge
    seat, nobody = SEATS["pbx_callee"], SEATS["pbx_nobody"]
    with (
        Desk(edge=(edge.host, edge.port), extension="pbx", domain=OTHER, pin="") as pbx,
        Desk(
            edge=(edge.host, edge.port), extension=seat.extension, domain=OTHER, pin=OTHER_PIN
        ) as ann,
        Desk(
            edge=(edge.host, edge.port),
            extension="stranger",
            domain=OTHER,
            pin="",
            source_ip="127.0.0.2",
        ) as stranger,
        ThreadPoolExecutor(1) as pool,
    ):
        set_pbx(e2e_database, f"sip:127.0.0.1:{pbx.phone.local_port}")
        try:
            assert ann.log_in() == 200
            # At once the edge knows the PBX: its call to an extension nobody is hot-desked
            # on gets 480 (the PBX's cue for voicemail).
            assert (
                eventually(
                    lambda: pbx.invite(nobody.extension)[1],
                    until=lambda s: s == 480,
                    timeout=PUSHED_WITHIN_SECONDS,
                )
                == 480
            )

            # From the PBX to the hot desk: it rings where the operator is logged in.
            ringing = pool.submit(rings_and_answers, ann)
            call, status = pbx.invite(seat.extension)
            assert status == 200
            assert pbx.hang_up(call) == 200
            seen = ringing.result(timeout=15)
            assert any(edge.target in route for route in seen["invite"].all("record-route"))
            # The call log has it under the operator who took it, from the PBX's caller.
            incoming = records.ended_call(call.call_id)
            assert incoming is not None, "no record of the incoming call"
            assert (incoming["direction"], incoming["extension"], incoming["other_party"]) == (
                "in",
                seat.extension,
                "pbx",
            )
            assert incoming["result"] == "answered"

            # From the hot desk to an outside number: to the PBX, saying who calls.
            at_pbx = pool.submit(rings_and_answers, pbx)
            call, status = ann.invite("02079460000")
            assert status == 200
            assert ann.hang_up(call) == 200
            invite = at_pbx.result(timeout=15)["invite"]
            assert invite.uri == f"sip:02079460000@{OTHER}"
            assert invite.all("p-asserted-identity") == [f"<sip:{seat.extension}@{OTHER}>"]
            outgoing = records.ended_call(call.call_id)
            assert outgoing is not None, "no record of the outgoing call"
            assert (outgoing["direction"], outgoing["extension"], outgoing["other_party"]) == (
                "out",
                seat.extension,
                "02079460000",
            )
            assert (outgoing["result"], outgoing["handset_ip"]) == ("answered", "127.0.0.1")

            # Anyone else calling the hot desk is not the PBX: it never rings.
            _, refused = stranger.invite(seat.extension)
            assert refused == 403
            assert ann.wait_for("INVITE", timeout=0.5) is None
        finally:
            set_pbx(e2e_database, "")

        # Without a PBX address, outside calls are refused with a reason, at once too. (Until
        # the edge knows, a call goes to the closed PBX and gets no answer in the 0.5 s.)
        pbx.close()
        assert (
            eventually(
                lambda: ann.outcome(ann.dial("02079460000"), timeout=0.5),
                until=lambda s: s == 404,
                timeout=PUSHED_WITHIN_SECONDS,
            )
            == 404
        )


def test_an_operator_locked_after_wrong_pins_makes_no_call_though_still_logged_in(edge, records):
    with desks(edge, "call_14") as (ann,):
        assert ann.log_in() == 200
        _, before = ann.invite(SEATS["call_9"].extension)
        assert before == 404, "the operator could not call before the lock"
        # Someone guesses at the operator's extension from another handset of the office,
        # until the lock (how many guesses that takes depends on the reports in flight).
        with SipClient(target=(edge.host, edge.port)) as guesser:

            def guess_and_read_lock():
                guess = guesser.login(
                    user=ann.extension,
                    domain=ACME,
                    pin=WRONG_PIN,
                    call_id=new_call_id("guess"),
                    cseq=1,
                )
                assert guess.status == 403, guess.raw
                return records.lockout(ann.extension, ACME)

            lock = eventually(
                guess_and_read_lock, until=lambda row: bool(row and row["locked_until"])
            )
        assert lock and lock["locked_until"], lock

        # The lock leaves the binding (no one logs an operator out by guessing), but within
        # one locked-list fetch the edge refuses the operator's calls.
        def refused_as_locked() -> str:
            call = ann.dial(SEATS["call_9"].extension)
            return call.final.reason if call.final else ""

        assert (
            eventually(refused_as_locked, until=lambda r: r == "Forbidden (locked)", timeout=15)
            == "Forbidden (locked)"
        )
