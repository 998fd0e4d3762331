"""Simultaneous wrong PINs all count, and simultaneous checks never overshoot a lock, in one
process and across gunicorn workers."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.db import connection

from registrations import lockouts
from registrations.models import Lockout

from .helpers import basic, http_call

THREADS = 10
REPORTS = 12


@pytest.mark.django_db(transaction=True)
def test_simultaneous_failures_in_threads_all_count(hot_desk_user, settings) -> None:
    settings.HOTDESK_LOCKOUT_HARD_THRESHOLD = 1000  # only the count is under test here
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    now = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def fail_once(n: int) -> None:
        try:
            start.wait(timeout=10)
            lockouts.record_failure(pbx_user=hot_desk_user, source_ip=f"203.0.113.{n + 1}", now=now)
        except BaseException as error:  # reported below, with the count
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail_once, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.consecutive_failures == THREADS
    assert lockout.is_active(now)  # 5 within the window: the timed lock was reached as well


# --- Several gunicorn workers share one count ---------------------------------------------------


def test_wrong_pins_reported_at_once_to_several_workers_all_count(deployment, gunicorn):
    auth = {"Authorization": basic("edge-1", deployment.edge_secret)}
    fields = {"domain": "acme.pbx.test", "user": "1002", "ip": "203.0.113.7", "port": "5060"}

    def check() -> tuple[int, dict]:
        query = urlencode({**fields, "attempt": f"srid-check-{next(attempts)}"})
        return http_call(f"{gunicorn.base}/api/sip/v1/register/check?{query}", headers=auth)

    attempts = itertools.count()
    assert check()[0] == 200
    start = threading.Barrier(REPORTS)

    def wrong_pin(n: int) -> tuple[int, dict]:
        # The same Call-ID and CSeq in every guess, as an attacker may send them: each guess
        # is still an attempt of its own at the edge, and counts.
        body = urlencode(
            {
                **fields,
                "event": "auth_failed",
                "callid": "guess@203.0.113.7",
                "cseq": "1",
                "attempt": f"srid-guess-{n}",
            }
        ).encode()
        start.wait(timeout=30)
        return http_call(f"{gunicorn.base}/api/sip/v1/register/event", data=body, headers=auth)

    with ThreadPoolExecutor(max_workers=REPORTS) as pool:
        answers = list(pool.map(wrong_pin, range(1, REPORTS + 1)))

    assert answers == [(200, {"ok": True, "duplicate": False})] * REPORTS
    assert check() == (403, {"allow": False, "reason": "locked"})
    rows = deployment.query(
        "SELECT l.consecutive_failures, l.locked_indefinitely FROM registrations_lockout l "
        "JOIN users_pbxuser u ON u.id = l.pbx_user_id WHERE u.extension = %s",
        ("1002",),
    )
    assert [(count, bool(indefinite)) for count, indefinite in rows] == [(REPORTS, True)]


def test_the_same_report_sent_to_several_workers_at_once_counts_once(deployment, gunicorn):
    auth = {"Authorization": basic("edge-1", deployment.edge_secret)}
    body = urlencode(
        {
            "domain": "acme.pbx.test",
            "user": "1003",
            "ip": "203.0.113.7",
            "event": "auth_failed",
            "callid": "retransmitted@203.0.113.7",
            "cseq": "7",
            "attempt": "srid-retransmitted-1",
        }
    ).encode()
    start = threading.Barrier(6)

    def send(_: int) -> tuple[int, dict]:
        start.wait(timeout=30)
        return http_call(f"{gunicorn.base}/api/sip/v1/register/event", data=body, headers=auth)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))

    assert sorted(answer["duplicate"] for _, answer in answers) == [False] + [True] * 5
    assert {status for status, _ in answers} == {200}
    rows = deployment.query(
        "SELECT l.consecutive_failures FROM registrations_lockout l "
        "JOIN users_pbxuser u ON u.id = l.pbx_user_id WHERE u.extension = %s",
        ("1003",),
    )
    assert rows == [(1,)]


def test_the_deployment_runs_on_the_database_engine_of_the_suite(deployment):
    from django.db import connection as suite_connection

    assert deployment.engine == suite_connection.vendor


def test_checks_sent_at_once_to_several_workers_never_hand_out_more_guesses_than_the_lock_allows(
    deployment, gunicorn
):
    # Twelve attempts at once, each of which would be a wrong PIN: only as many may be given
    # the HA1 (and so have a digest checked) as the 5-in-15-minutes lock allows.
    auth = {"Authorization": basic("edge-1", deployment.edge_secret)}
    start = threading.Barrier(REPORTS)

    def attempt(n: int) -> tuple[int, dict]:
        query = urlencode(
            {
                "domain": "acme.pbx.test",
                "user": "1004",
                "ip": f"203.0.113.{n % 3 + 1}",
                "attempt": f"srid-parallel-{n}",
            }
        )
        start.wait(timeout=30)
        return http_call(f"{gunicorn.base}/api/sip/v1/register/check?{query}", headers=auth)

    with ThreadPoolExecutor(max_workers=REPORTS) as pool:
        answers = list(pool.map(attempt, range(REPORTS)))

    allowed = [answer for status, answer in answers if status == 200]
    refused = [answer["reason"] for status, answer in answers if status == 403]
    assert len(allowed) == 5, answers
    assert refused == ["locked"] * (REPORTS - 5)
    permits = deployment.query(
        "SELECT count(*) FROM registrations_guesspermit p "
        "JOIN users_pbxuser u ON u.id = p.pbx_user_id WHERE u.extension = %s",
        ("1004",),
    )
    assert permits == [(5,)]
