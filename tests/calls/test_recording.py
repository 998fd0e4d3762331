"""Call events from the SIP edge become call records (POST /api/sip/v1/calls/events)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import CallRecord, ClosedBy, Result
from calls.recording import longest_call
from tests.factories import InstallFactory, PbxUserFactory

from .helpers import HANDSET_IP, T0, answer, at, end, new_ref, post_events, start

pytestmark = pytest.mark.django_db


def test_an_answered_call_is_one_record_with_who_when_and_how_long(edge_client, hot_desk_user):
    ref = new_ref()

    response = post_events(
        edge_client, [start(ref), answer(ref, t=T0 + 2.5), end(ref, t=T0 + 65.4)]
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "events": 3, "opened": 1, "rejected": []}
    call = CallRecord.objects.get()
    assert (call.install, call.pbx_user, call.extension, call.user_name) == (
        hot_desk_user.install,
        hot_desk_user,
        "1001",
        "Ann Smith",
    )
    assert (call.direction, call.other_party, call.handset_ip, call.edge) == (
        "internal",
        "1002",
        HANDSET_IP,
        "edge-1",
    )
    assert (call.started_at, call.answered_at, call.ended_at) == (
        at(T0),
        at(T0 + 2.5),
        at(T0 + 65.4),
    )
    assert (call.result, call.sip_code, call.duration_seconds) == (Result.ANSWERED, 200, 63)
    assert call.user_agent.startswith("Yealink")


def test_events_of_one_call_may_come_in_separate_batches(edge_client, hot_desk_user):
    ref = new_ref()
    post_events(edge_client, [start(ref, direction="out", other="02079460000")])
    assert CallRecord.objects.get().in_progress

    post_events(edge_client, [answer(ref, t=T0 + 1)])
    post_events(edge_client, [end(ref, t=T0 + 11)])

    call = CallRecord.objects.get()
    assert (call.result, call.duration_seconds, call.in_progress) == (Result.ANSWERED, 10, False)


@pytest.mark.parametrize(
    ("code", "cancelled", "result"),
    [
        (487, True, Result.MISSED),
        (480, False, Result.MISSED),
        (408, False, Result.MISSED),
        (486, False, Result.BUSY),
        (603, False, Result.REFUSED),
        (404, False, Result.REFUSED),
        (403, False, Result.REFUSED),
        (503, False, Result.FAILED),
        (500, False, Result.FAILED),
    ],
)
def test_an_unanswered_call_has_its_result_and_final_code(
    edge_client, hot_desk_user, code, cancelled, result
):
    ref = new_ref()
    post_events(edge_client, [start(ref), end(ref, t=T0 + 3, code=code, cancelled=cancelled)])

    call = CallRecord.objects.get()
    assert (call.result, call.sip_code, call.duration_seconds) == (result, code, 0)


def test_a_batch_sent_again_records_nothing_twice(edge_client, hot_desk_user):
    ref = new_ref()
    batch = [start(ref), answer(ref, t=T0 + 1), end(ref, t=T0 + 5)]
    post_events(edge_client, batch)

    again = post_events(edge_client, batch)
    # A later, different end for the same call changes nothing either.
    post_events(edge_client, [end(ref, t=T0 + 50, code=487, cancelled=True)])

    assert again.json()["opened"] == 0
    call = CallRecord.objects.get()
    assert (call.ended_at, call.result, call.duration_seconds) == (
        at(T0 + 5),
        Result.ANSWERED,
        4,
    )


def test_the_operator_is_kept_on_the_record_after_the_user_is_removed(edge_client, hot_desk_user):
    ref = new_ref()
    post_events(edge_client, [start(ref), end(ref, t=T0 + 1, code=487, cancelled=True)])

    hot_desk_user.delete()

    call = CallRecord.objects.get()
    assert (call.pbx_user, call.extension, call.user_name) == (None, "1001", "Ann Smith")


def test_a_call_for_an_unknown_install_is_not_recorded_and_the_rest_is(edge_client, hot_desk_user):
    lost, kept = new_ref(), new_ref()

    response = post_events(edge_client, [start(lost, domain="gone.pbx.test"), start(kept)])

    assert response.status_code == 200
    assert list(CallRecord.objects.values_list("ref", flat=True)) == [kept]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"event": "ring"}, "event: must be"),
        ({"t": "yesterday"}, "t: seconds"),
        ({"dir": "sideways"}, "dir: must be"),
        ({"ref": "a b"}, "ref: the edge's call id"),
        ({"op": ""}, "op: this parameter is required"),
        ({"domain": "x\x00y"}, "domain: contains a NUL"),
    ],
)
def test_a_bad_line_is_rejected_alone(edge_client, hot_desk_user, bad, why):
    good = new_ref()

    response = post_events(edge_client, [{**start(new_ref()), **bad}, start(good)])

    assert response.status_code == 200
    [rejected] = response.json()["rejected"]
    assert rejected.startswith("line 1: ") and why in rejected
    assert list(CallRecord.objects.values_list("ref", flat=True)) == [good]


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"\n".join([b"event=started&t=1"] * 2001)])
def test_a_body_that_is_not_a_batch_is_a_400_with_a_reason(edge_client, body):
    response = edge_client.post(
        "/api/sip/v1/calls/events", body, content_type="text/plain; charset=utf-8"
    )

    assert response.status_code == 400
    assert response.json()["reason"] == "bad_request"


def test_the_call_api_needs_the_edges_credential(client, hot_desk_user):
    response = post_events(client, [start(new_ref())])

    assert response.status_code == 401
    assert not CallRecord.objects.exists()


def test_an_edge_that_restarted_closes_its_calls_in_progress_and_not_others(
    edge_client, hot_desk_user
):
    talking, ringing = new_ref(), new_ref()
    post_events(edge_client, [start(talking), answer(talking, t=T0 + 1), start(ringing, t=T0 + 2)])
    other_edge = CallRecord.objects.create(
        install=hot_desk_user.install,
        edge="edge-2",
        ref="elsewhere",
        direction="internal",
        extension="1003",
        started_at=at(T0),
    )

    post_events(edge_client, [{"event": "started", "t": f"{T0 + 30:.6f}"}])

    closed = {call.ref: call for call in CallRecord.objects.filter(edge="edge-1")}
    assert (closed[talking].result, closed[talking].closed_by) == (
        Result.ANSWERED,
        ClosedBy.EDGE_RESTART,
    )
    assert closed[talking].duration_seconds == 29
    assert (closed[ringing].result, closed[ringing].closed_by) == (
        Result.FAILED,
        ClosedBy.EDGE_RESTART,
    )
    other_edge.refresh_from_db()
    assert other_edge.in_progress


def test_a_call_whose_end_never_comes_is_closed_after_the_longest_call(edge_client, hot_desk_user):
    from django.utils import timezone

    forgotten = CallRecord.objects.create(
        install=hot_desk_user.install,
        edge="edge-1",
        ref="forgotten",
        direction="out",
        extension="1001",
        started_at=timezone.now() - longest_call() - timezone.timedelta(seconds=1),
    )
    recent = new_ref()

    post_events(edge_client, [start(recent, t=timezone.now().timestamp())])

    forgotten.refresh_from_db()
    assert (forgotten.result, forgotten.closed_by) == (Result.FAILED, ClosedBy.TIMEOUT)
    assert CallRecord.objects.get(ref=recent).in_progress


def _batch(calls: int) -> list[dict]:
    events = []
    for n in range(calls):
        ref = new_ref()
        events += [
            start(ref, t=T0 + n, op=f"1{n % 3:03d}", other="02079460000"),
            answer(ref, t=T0 + n + 1),
            end(ref, t=T0 + n + 9),
        ]
    return events


def test_a_batch_costs_the_same_queries_for_5_and_500_calls(edge_client, settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL only (set DATABASE_URL=postgres://...): SQLite caps a query at 999 "
            "parameters, so Django splits a large bulk insert"
        )
    install = InstallFactory(sip_domain="acme.pbx.test")
    for n in range(3):
        PbxUserFactory(install=install, extension=f"1{n:03d}")
    post_events(edge_client, _batch(1))  # the credential check's own first queries

    counts = {}
    for calls in (5, 500):
        with CaptureQueriesContext(connection) as queries:
            response = post_events(edge_client, _batch(calls))
        assert response.json()["opened"] == calls
        counts[calls] = len(queries)

    assert counts[5] == counts[500], counts
    assert CallRecord.objects.filter(result=Result.ANSWERED, duration_seconds=8).count() == 506
