"""Calls as real networks carry them: over TCP, from behind NAT, through a portal outage, and
ended by an administrator (issue 12's "calls as calls").

Handsets are `Desk`s (tests/e2e/sip_calls.py). Behind NAT, a handset's Via and Contact name a
private address that nothing here answers on, and its Via carries no rport: only an edge that
answers and calls back to where packets came from reaches it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kamailio import rpc as kamailio_rpc

from .records import eventually
from .seed import ACME
from .sip_calls import PRIVATE_ADDRESS
from .test_calls import desks, rings_and_answers

pytestmark = pytest.mark.sip


def call_and_hang_up(caller, callee) -> dict:
    """`caller` calls `callee`, who answers; the caller hangs up. What the callee saw."""
    with ThreadPoolExecutor(1) as pool:
        answering = pool.submit(rings_and_answers, callee)
        call, status = caller.invite(callee.extension)
        assert status == 200, f"the call was not answered: {status}"
        assert caller.hang_up(call) == 200
        return answering.result(timeout=15)


@pytest.mark.parametrize(
    ("caller_transport", "callee_transport"), [("tcp", "tcp"), ("udp", "tcp"), ("tcp", "udp")]
)
def test_calls_over_tcp_connect_and_hang_up(edge, caller_transport, callee_transport):
    seats = {"tcp": "call_15", "udp": "call_16"}, {"tcp": "call_17", "udp": "call_18"}
    with (
        desks(edge, seats[0][caller_transport], transport=caller_transport) as (ann,),
        desks(edge, seats[1][callee_transport], transport=callee_transport) as (bob,),
    ):
        assert (ann.log_in(), bob.log_in()) == (200, 200)

        seen = call_and_hang_up(ann, bob)

    assert seen["invite"].header("via").startswith(f"SIP/2.0/{callee_transport.upper()} ")
    assert seen["ack"] is not None and seen["bye"] is not None


def test_a_handset_behind_nat_is_called_and_calls_at_the_address_it_sends_from(edge):
    with (
        desks(edge, "call_19", behind_nat=True) as (natted,),
        desks(edge, "call_20") as (plain,),
    ):
        assert (natted.log_in(), plain.log_in()) == (200, 200)
        assert PRIVATE_ADDRESS in natted.contact

        # Called: the INVITE, the ACK and the BYE all reach the NAT's side of the handset.
        called = call_and_hang_up(plain, natted)
        assert called["ack"] is not None and called["bye"] is not None
        # Calling: the 407, the 200 and the BYE's answer come back to where it sent from.
        calling = call_and_hang_up(natted, plain)
        assert calling["bye"] is not None, "the BYE from behind NAT never reached the callee"
        assert PRIVATE_ADDRESS not in (calling["invite"].header("contact") or "")


def test_the_edge_keeps_a_nat_binding_open_with_options_and_leaves_others_alone(edge):
    with (
        desks(edge, "call_21", behind_nat=True) as (natted,),
        desks(edge, "call_22") as (plain,),
    ):
        assert (natted.log_in(), plain.log_in()) == (200, 200)

        # The e2e edge pings every second (runsip --natping-interval 1).
        assert natted.wait_for("OPTIONS", timeout=5) is not None, "no keepalive from the edge"
        assert plain.wait_for("OPTIONS", timeout=2.5) is None, "a handset not behind NAT is pinged"


def test_logged_in_operators_call_each_other_while_the_portal_is_down(slow_edge, portal_proxy):
    with desks(slow_edge, "call_23", "call_24") as (ann, bob):
        assert (ann.log_in(), bob.log_in()) == (200, 200)

        with portal_proxy.stopped():
            seen = call_and_hang_up(ann, bob)

    assert seen["bye"] is not None


def test_log_out_and_end_the_call_hangs_up_both_sides_and_stops_new_calls(edge):
    with desks(edge, "call_25", "call_26") as (ann, bob), ThreadPoolExecutor(1) as pool:
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        answering = pool.submit(_answer_and_stay, bob)
        call, status = ann.invite(bob.extension)
        assert status == 200
        answering.result(timeout=15)
        operator = f"{ann.extension}@{ACME}"
        calls = kamailio_rpc.list_calls(
            rpc_url=edge.rpc_url, operator=operator, authorization=edge.rpc_authorization
        )
        assert [handle.call_id for handle in calls] == [call.call_id]

        # What the dashboard's "Log out and end the call" does on each edge.
        kamailio_rpc.remove_binding(
            rpc_url=edge.rpc_url, aor=operator, authorization=edge.rpc_authorization
        )
        kamailio_rpc.end_call(
            rpc_url=edge.rpc_url, handle=calls[0], authorization=edge.rpc_authorization
        )

        for side in (ann, bob):
            bye = side.wait_for("BYE")
            assert bye is not None, f"{side.extension}'s side of the call was not hung up"
            side.answer(bye, 200, "OK")
        assert (
            eventually(
                lambda: kamailio_rpc.list_calls(
                    rpc_url=edge.rpc_url, operator=operator, authorization=edge.rpc_authorization
                ),
                until=lambda left: left == [],
            )
            == []
        )
        _, again = ann.invite(bob.extension)
        assert again == 403


def _answer_and_stay(callee) -> None:
    invite = callee.wait_for("INVITE")
    assert invite is not None, "the call never reached the callee"
    callee.answer(invite, 200, "OK", tag="callee")
    assert callee.wait_for("ACK") is not None


def test_either_side_re_invites_and_the_callee_hangs_up_through_the_edge(edge):
    with desks(edge, "call_27", "call_28") as (ann, bob), ThreadPoolExecutor(1) as pool:
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        invited = pool.submit(_answer_and_stay_with_invite, bob)
        call, status = ann.invite(bob.extension)
        assert status == 200
        bobs_side = bob.dialog_of(invited.result(timeout=15), tag="callee")

        # The caller puts the call on hold: the re-INVITE follows the route to the callee.
        reinvited = pool.submit(_answer_next, bob, "INVITE")
        assert ann.reinvite(call) == 200
        assert reinvited.result(timeout=15), "the caller's re-INVITE never reached the callee"
        # And the callee does, the other way.
        reinvited = pool.submit(_answer_next, ann, "INVITE")
        assert bob.reinvite(bobs_side) == 200
        assert reinvited.result(timeout=15), "the callee's re-INVITE never reached the caller"
        # The callee hangs up.
        hung_up = pool.submit(_answer_next, ann, "BYE")
        assert bob.hang_up(bobs_side) == 200
        assert hung_up.result(timeout=15), "the callee's BYE never reached the caller"


def test_a_bare_number_never_reaches_another_installs_hot_desk(edge):
    from .seed import OTHER, OTHER_PIN, SEATS
    from .sip_calls import Desk

    twin = SEATS["twin_other"]
    with (
        Desk(
            edge=(edge.host, edge.port), extension=twin.extension, domain=OTHER, pin=OTHER_PIN
        ) as theirs,
        desks(edge, "call_29") as (ann,),
    ):
        assert (theirs.log_in(), ann.log_in()) == (200, 200)
        # The handset writes the other install's domain into the Request-URI and To.
        call = ann.dial(twin.extension, domain=OTHER)
        assert ann.outcome(call) == 404
        assert theirs.wait_for("INVITE", timeout=1) is None, "another install's desk rang"


def _answer_and_stay_with_invite(callee):
    invite = callee.wait_for("INVITE")
    assert invite is not None, "the call never reached the callee"
    callee.answer(invite, 200, "OK", tag="callee")
    assert callee.wait_for("ACK") is not None
    return invite


def _answer_next(desk, method: str) -> bool:
    request = desk.wait_for(method, timeout=6)
    if request is None:
        return False
    desk.answer(request, 200, "OK")
    if method == "INVITE":
        desk.wait_for("ACK", timeout=3)
    return True
