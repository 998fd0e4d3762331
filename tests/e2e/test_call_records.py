"""Every call through the edge reaches the portal's call log with the right operator,
direction, result and duration (issue 13), sent by the edge in batches.

The calls are those of test_calls.py, made again here and then looked up by their Call-ID in
the portal's database.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .portal_proxy import CALL_BATCH_PATH
from .seed import ACME, SEATS
from .test_calls import desks

pytestmark = pytest.mark.sip


def answer_then_wait_for_bye(callee) -> None:
    invite = callee.wait_for("INVITE")
    assert invite is not None, "the call never reached the callee"
    callee.answer(invite, 180, "Ringing", tag="callee")
    callee.answer(invite, 200, "OK", tag="callee")
    assert callee.wait_for("ACK") is not None
    bye = callee.wait_for("BYE", timeout=10)
    assert bye is not None
    callee.answer(bye, 200, "OK")


def test_an_answered_internal_call_is_recorded_under_the_caller_with_its_duration(edge, records):
    with desks(edge, "call_27", "call_28") as (ann, bob), ThreadPoolExecutor(1) as pool:
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        answering = pool.submit(answer_then_wait_for_bye, bob)
        call, status = ann.invite(bob.extension)
        assert status == 200
        talked_from = time.monotonic()
        while time.monotonic() - talked_from < 1.2:  # a call that lasts a measurable while
            ann.wait_for("BYE", timeout=0.1)
        assert ann.hang_up(call) == 200
        talked = time.monotonic() - talked_from
        answering.result(timeout=15)

    record = records.ended_call(call.call_id)
    assert record is not None, "no call record, or it never ended"
    assert (record["direction"], record["extension"], record["other_party"]) == (
        "internal",
        ann.extension,
        bob.extension,
    )
    assert (record["result"], record["sip_code"], record["handset_ip"]) == (
        "answered",
        200,
        "127.0.0.1",
    )
    assert abs(record["duration_seconds"] - talked) <= 1, (record["duration_seconds"], talked)
    assert record["install_id"] == records.install_id(ACME)


def test_a_call_cancelled_before_the_answer_is_recorded_as_missed(edge, records):
    with desks(edge, "call_29", "call_0") as (ann, bob):
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        call = ann.dial(bob.extension)
        invite = bob.wait_for("INVITE")
        assert invite is not None
        bob.answer(invite, 180, "Ringing", tag="bob")
        assert ann.cancel(call) == 200
        cancel = bob.wait_for("CANCEL")
        assert cancel is not None
        bob.answer(cancel, 200, "OK")
        bob.answer(invite, 487, "Request Terminated", tag="bob")
        assert ann.outcome(call) == 487

    record = records.ended_call(call.call_id)
    assert record is not None
    assert (record["result"], record["sip_code"], record["duration_seconds"]) == ("missed", 487, 0)


def test_a_call_the_edge_refuses_after_the_login_check_is_recorded_as_refused(edge, records):
    nobody = SEATS["call_9"].extension
    with desks(edge, "call_1") as (ann,):
        assert ann.log_in() == 200
        call, status = ann.invite(nobody)
        assert status == 404

    record = records.ended_call(call.call_id)
    assert record is not None
    assert (record["direction"], record["other_party"], record["result"], record["sip_code"]) == (
        "out",
        nobody,
        "refused",
        404,
    )


def test_a_batch_of_call_events_the_portal_refuses_is_sent_again_and_recorded_once(
    slow_edge, portal_proxy, records
):
    with desks(slow_edge, "call_23", "call_24") as (ann, bob), ThreadPoolExecutor(1) as pool:
        assert (ann.log_in(), bob.log_in()) == (200, 200)
        sent_before = portal_proxy.requests_to(CALL_BATCH_PATH)
        with portal_proxy.failing_call_batches(1):
            answering = pool.submit(answer_then_wait_for_bye, bob)
            call, status = ann.invite(bob.extension)
            assert status == 200
            assert ann.hang_up(call) == 200
            answering.result(timeout=15)
            record = records.ended_call(call.call_id, timeout=10)

    assert record is not None, "the refused batch was not sent again"
    assert record["result"] == "answered"
    assert portal_proxy.requests_to(CALL_BATCH_PATH) - sent_before >= 2
    assert (
        len(records.rows("SELECT id FROM calls_callrecord WHERE sip_call_id = %s", (call.call_id,)))
        == 1
    )
