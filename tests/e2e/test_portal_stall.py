"""A slow or stalled portal never stalls the edge (issue 10, first point).

The shipped cfg asks the portal from async workers, never from a SIP worker; a login waits at
most HOTDESK_PORTAL_WAIT_MS (0.8 s) for a worker, and the edge stops asking for a few seconds
after HOTDESK_PORTAL_TRIP failures in a row. So while the portal hangs: challenges, OPTIONS
and refreshes the edge can authenticate itself are answered at once; a login gets 503 with
Retry-After within 2 s (the wait for a worker, then the 1 s portal timeout), or at once when
the portal is known down. Runs against `slow_edge`, whose portal is `PortalProxy`.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .records import eventually
from .seed import SEATS
from .sip_client import SipClient, new_call_id

pytestmark = pytest.mark.sip

STALL = 3.5  # longer than the edge's 1 s portal timeout
LOGINS = 12  # more than the e2e edges' 4 SIP workers and 8 portal workers


def client(edge) -> SipClient:
    return SipClient(target=(edge.host, edge.port), timeout=8)


def timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def options(edge, phone: SipClient):
    call_id = new_call_id("options")
    phone.send_raw(
        f"OPTIONS sip:{edge.host}:{edge.port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.local_port};branch=z9hG4bK{call_id[:12]};rport\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\n"
        f"To: <sip:{edge.host}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return phone.receive(call_id=call_id, timeout=8)


def test_a_stalled_portal_leaves_challenges_options_and_cached_refreshes_answered_at_once(
    slow_edge, portal_proxy, records
):
    cached, storm = SEATS["stall_cached"], SEATS["stall_storm"]
    call_id = new_call_id("stallcached")
    with client(slow_edge) as desk:
        login = desk.login(
            user=cached.extension, domain=cached.domain, pin=cached.pin, call_id=call_id, cseq=1
        )
        assert login.status == 200, login.raw

        with portal_proxy.delaying_checks(STALL), ThreadPoolExecutor(LOGINS) as pool:

            def stalled_login(n: int):
                with client(slow_edge) as phone:
                    return timed(
                        lambda: phone.login(
                            user=storm.extension,
                            domain=storm.domain,
                            pin=storm.pin,
                            call_id=new_call_id(f"storm{n}"),
                            cseq=1,
                        )
                    )

            logins = [pool.submit(stalled_login, n) for n in range(LOGINS)]
            time.sleep(0.3)  # let the logins reach the edge and wait on the portal
            pending = sum(not future.done() for future in logins)
            with client(slow_edge) as other:
                answered = {
                    "options": timed(lambda: options(slow_edge, other)),
                    "challenge": timed(
                        lambda: other.register(
                            user=storm.extension,
                            domain=storm.domain,
                            call_id=new_call_id("challenge"),
                            cseq=1,
                        )
                    ),
                }
            answered["cached refresh"] = timed(
                lambda: desk.register(
                    user=cached.extension,
                    domain=cached.domain,
                    pin=cached.pin,
                    call_id=call_id,
                    cseq=3,
                    challenge=desk.last_challenge,
                    nonce_count=2,
                )
            )
            stalled = [future.result() for future in logins]

    assert pending > 0, "no login was waiting on the portal: the test proves nothing"
    statuses = {name: answer.status for name, (answer, _) in answered.items()}
    assert statuses == {"options": 200, "challenge": 401, "cached refresh": 200}
    slowest = max(seconds for _, seconds in answered.values())
    assert slowest < 0.5, answered
    # Every login got its 503 within 2 s, with a Retry-After.
    assert {answer.status for answer, _ in stalled} == {503}, [a.raw for a, _ in stalled]
    assert max(seconds for _, seconds in stalled) < 2.0, [s for _, s in stalled]
    assert all(answer.header("Retry-After") for answer, _ in stalled)


def test_after_failures_in_a_row_logins_get_503_at_once_and_the_edge_asks_again_later(
    slow_edge, portal_proxy, records
):
    seat = SEATS["stall_recovered"]
    with portal_proxy.stopped():
        with client(slow_edge) as phone:
            answers = [
                timed(
                    lambda n=n: phone.login(
                        user=seat.extension,
                        domain=seat.domain,
                        pin=seat.pin,
                        call_id=new_call_id(f"down{n}"),
                        cseq=1,
                    )
                )
                for n in range(5)
            ]
        assert "logins get 503 without asking" in slow_edge.log()

    assert [answer.status for answer, _ in answers] == [503] * 5
    # Past HOTDESK_PORTAL_TRIP (3) failures the edge no longer asks: the answer is immediate.
    assert max(seconds for _, seconds in answers[3:]) < 0.3, [s for _, s in answers]

    # Back up: once the cooldown is over, the next login asks again and gets in.
    def try_login():
        with client(slow_edge) as phone:
            return phone.login(
                user=seat.extension,
                domain=seat.domain,
                pin=seat.pin,
                call_id=new_call_id("recovered"),
                cseq=1,
            ).status

    assert eventually(try_login, until=lambda status: status == 200, timeout=15) == 200
    assert eventually(lambda: records.open_sessions(seat.extension, seat.domain), until=bool)
    # The seat's PIN was right throughout: the outage counted no failure.
    assert records.failures(seat.extension, seat.domain) == 0


def test_a_wrong_pin_whose_report_the_portal_refuses_is_sent_again_and_counted_once(
    slow_edge, portal_proxy, records
):
    seat = SEATS["wrong_pin_report_refused"]
    call_id = new_call_id("refusedreport")
    with portal_proxy.failing_report_batches(1), client(slow_edge) as attacker:
        answer = attacker.login(
            user=seat.extension, domain=seat.domain, pin="1111", call_id=call_id, cseq=1
        )
        refused = eventually(lambda: portal_proxy.batch_failures, until=lambda left: left == 0)

    assert answer.reason == "Forbidden (wrong_pin)", answer.raw
    assert refused == 0, "the report's batch was not refused: the test proves nothing"
    # The edge sent its batch again: one count, and the permit settled.
    assert records.settled(call_id)
    assert [e["reason"] for e in records.log(call_id, "auth_failed")] == ["wrong_pin"]
    assert records.failures(seat.extension, seat.domain) == 1
