"""Registrations and log-outs reach the portal in batches from Kamailio's report queue.

A login costs the portal one request (the check); its `registered` report waits in Kamailio's
shared-memory queue with the others and goes to POST register/events with them. Run through
`slow_edge`, whose portal is `PortalProxy`: it counts requests by path and can hold batches.
"""

from __future__ import annotations

import pytest

from .portal_proxy import REPORT_BATCH_PATH
from .records import eventually
from .seed import SEATS
from .test_registration import login, phone

pytestmark = pytest.mark.sip

SINGLE_REPORT_PATH = "/api/sip/v1/register/event"
STORM = [f"storm_{n:02d}" for n in range(20)]


def test_logins_in_quick_succession_are_reported_in_a_few_batches(
    sipp, slow_edge, portal_proxy, records
):
    batches_before = portal_proxy.requests_to(REPORT_BATCH_PATH)
    singles_before = portal_proxy.requests_to(SINGLE_REPORT_PATH)

    # While one batch is held on its way, the next logins' reports queue up behind it.
    with portal_proxy.delaying_report_batches(0.5):
        run = sipp.run("register_ok.xml", target=slow_edge.target, phones=[phone(s) for s in STORM])
        assert run.returncode == 0, run.describe()
        assert run.finals == ["SIP/2.0 200 OK"] * len(STORM)

        def open_sessions():
            return [records.open_sessions(SEATS[s].extension, SEATS[s].domain) for s in STORM]

        found = eventually(open_sessions, until=lambda all_: all(all_), timeout=15)

    assert [len(sessions) for sessions in found] == [1] * len(STORM)
    batches = portal_proxy.requests_to(REPORT_BATCH_PATH) - batches_before
    assert 1 <= batches <= len(STORM) // 2, f"{batches} batches for {len(STORM)} logins"
    assert portal_proxy.requests_to(SINGLE_REPORT_PATH) == singles_before


def test_a_logout_while_the_login_report_is_on_its_way_leaves_the_session_closed(
    sipp, slow_edge, portal_proxy, records
):
    seat = SEATS["batch_logout"]
    port = sipp.free_port()

    # Held on its way, inside the edge's 1 s portal timeout (a batch past it is sent again).
    with portal_proxy.delaying_report_batches(0.6):
        login(sipp, slow_edge, "batch_logout", local_port=port)
        run = sipp.run(
            "unregister.xml",
            target=slow_edge.target,
            phones=[phone("batch_logout")],
            local_port=port,
        )
        assert run.returncode == 0, run.describe()
        assert run.finals == ["SIP/2.0 200 OK"]
        assert records.sessions(seat.extension, seat.domain) == [], "a report was not held"

        sessions = eventually(
            lambda: records.sessions(seat.extension, seat.domain),
            until=lambda s: s and s[-1]["ended_at"] is not None,
            timeout=10,
        )

    assert [s["end_reason"] for s in sessions] == ["logged_out"]
    assert len(records.log(run.call_id, "unregistered")) == 1
    assert f"{seat.extension}@{seat.domain}" not in slow_edge.bindings()


@pytest.mark.parametrize("failures", [1, 4], ids=["once", "past_the_old_three_tries"])
def test_a_batch_the_portal_fails_is_sent_again(sipp, slow_edge, portal_proxy, records, failures):
    # Until the portal takes it (for up to HOTDESK_REPORT_RETRY_SECONDS): the edge once gave
    # up after three tries, about 2.5 s, and the session was never recorded.
    seat = SEATS[f"batch_retry_{failures}"]
    batches_before = portal_proxy.requests_to(REPORT_BATCH_PATH)

    with portal_proxy.failing_report_batches(failures):
        run = login(sipp, slow_edge, f"batch_retry_{failures}")
        sessions = eventually(
            lambda: records.open_sessions(seat.extension, seat.domain), until=bool, timeout=30
        )
        refused = portal_proxy.batch_failures == 0

    assert [s["call_id"] for s in sessions] == [run.call_id]
    assert refused, "no batch was refused: the test proves nothing"
    assert portal_proxy.requests_to(REPORT_BATCH_PATH) - batches_before >= failures + 1
