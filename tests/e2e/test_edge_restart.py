"""An edge that restarts loses its bindings (memory only); the portal ends their sessions.

The edge's first report after it starts is `started`, ahead of any login made on it since:
the sessions of that edge end as "edge restarted", so the dashboard never shows sessions over
bindings that no longer exist (issue 10), and a handset that logs in again opens a new one.
"""

from __future__ import annotations

import signal

import pytest

from .records import eventually
from .seed import SEATS
from .sip_client import SipClient, new_call_id
from .test_runsip import RUNSIP_PORT, Runsip, _wait_for_sip

pytestmark = pytest.mark.sip


def runsip(env, workdir, portal, name):
    process = Runsip(
        env,
        workdir / f"restart-{name}",
        "--listen",
        f"127.0.0.1:{RUNSIP_PORT}",
        "--portal-url",
        portal,
        "--rundir",
        str(workdir / "restart-rundir"),
        "--flood-density",
        "65535",
    )
    _wait_for_sip(process, RUNSIP_PORT)
    return process


def stop(process: Runsip) -> None:
    process.process.send_signal(signal.SIGTERM)
    status, _, stderr = process.finish(20)
    assert status == 0, stderr[-2000:]


def login(seat, call_id: str):
    with SipClient(target=("127.0.0.1", RUNSIP_PORT)) as phone:
        return phone.login(
            user=seat.extension, domain=seat.domain, pin=seat.pin, call_id=call_id, cseq=1
        )


def test_sessions_of_an_edge_end_when_it_restarts_and_a_new_login_opens_a_new_one(
    e2e_database, e2e_workdir, portal, records
):
    env, _ = e2e_database
    seat = SEATS["edge_restart"]
    first = runsip(env, e2e_workdir, portal, "first")
    try:
        assert login(seat, "before-" + new_call_id("restart")).status == 200
        opened = eventually(
            lambda: records.open_sessions(seat.extension, seat.domain), until=bool, timeout=10
        )
        assert [s["edge"] for s in opened] == [f"runsip-{RUNSIP_PORT}"]
    finally:
        stop(first)

    second = runsip(env, e2e_workdir, portal, "second")
    try:
        sessions = eventually(
            lambda: records.sessions(seat.extension, seat.domain),
            until=lambda rows: rows and rows[-1]["ended_at"] is not None,
            timeout=10,
        )
        assert [s["end_reason"] for s in sessions] == ["edge_restarted"]

        call_id = new_call_id("after")
        assert login(seat, call_id).status == 200
        reopened = eventually(
            lambda: records.open_sessions(seat.extension, seat.domain), until=bool, timeout=10
        )
        assert [s["call_id"] for s in reopened] == [call_id]
    finally:
        stop(second)
