"""Guess permits: an allowed check takes a guess, its outcome settles it, none is lost."""

from datetime import UTC, datetime, timedelta

import pytest

from registrations import lockouts, permits
from registrations.models import EventKind, GuessPermit, Lockout, RegistrationLogEntry

from .helpers import report

pytestmark = pytest.mark.django_db

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def takes(attempt: permits.Attempt, **kwargs) -> bool:
    """Whether the check of this attempt was given its guess."""
    return permits.take(attempt=attempt, **kwargs) is permits.Grant.GRANTED


def attempt_of(pbx_user, n: int, *, edge: str = "edge-1") -> permits.Attempt:
    return permits.Attempt(
        pbx_user_id=pbx_user.pk,
        install_id=pbx_user.install_id,
        domain=pbx_user.install.sip_domain,
        extension=pbx_user.extension,
        edge=edge,
        attempt=f"srid-permit-{n}",
        source_ip="203.0.113.7",
    )


def test_no_more_permits_than_guesses_left_while_outcomes_are_pending(hot_desk_user):
    granted = [takes(attempt_of(hot_desk_user, n)) for n in range(7)]

    assert granted == [True] * 5 + [False] * 2
    assert hot_desk_user.guess_permits.count() == 5


def test_a_permit_asked_for_again_by_the_same_attempt_is_the_same_permit(hot_desk_user):
    for _ in range(3):
        assert takes(attempt_of(hot_desk_user, 1))

    assert hot_desk_user.guess_permits.count() == 1


def test_settled_permits_give_their_guesses_back(hot_desk_user):
    for n in range(5):
        assert takes(attempt_of(hot_desk_user, n))

    permits.settle(edge="edge-1", attempts=["srid-permit-0", "srid-permit-1"])

    assert takes(attempt_of(hot_desk_user, 5))
    assert takes(attempt_of(hot_desk_user, 6))
    assert not takes(attempt_of(hot_desk_user, 7))


def test_another_edges_attempt_of_the_same_name_does_not_settle_a_permit(hot_desk_user):
    for n in range(5):
        assert takes(attempt_of(hot_desk_user, n))

    permits.settle(edge="edge-2", attempts=[f"srid-permit-{n}" for n in range(5)])

    assert not takes(attempt_of(hot_desk_user, 5))


def test_a_wrong_pin_settles_its_permit_and_counts(hot_desk_user):
    for n in range(4):
        assert takes(attempt_of(hot_desk_user, n))

    lockouts.record_failure(pbx_user=hot_desk_user, source_ip="203.0.113.7")
    permits.release(edge="edge-1", attempt="srid-permit-0")

    # 1 failure + 3 in flight: one guess left.
    assert hot_desk_user.guess_permits.count() == 3
    assert takes(attempt_of(hot_desk_user, 4))
    assert not takes(attempt_of(hot_desk_user, 5))


def test_a_permit_never_settled_counts_as_a_wrong_pin_once(edge_client, hot_desk_user, settings):
    settings.HOTDESK_GUESS_PERMIT_SECONDS = 60
    assert takes(attempt_of(hot_desk_user, 1), now=START)

    # The next attempt, after the outcome of the first should have come back.
    assert takes(attempt_of(hot_desk_user, 2), now=START + MINUTE)

    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.consecutive_failures == 1
    entry = RegistrationLogEntry.objects.get(kind=EventKind.AUTH_FAILED)
    assert (entry.reason, entry.attempt, entry.edge) == ("no_outcome", "srid-permit-1", "edge-1")
    # The late report of that same attempt is a duplicate: counted once, not twice.
    late = report(edge_client, "auth_failed", attempt="srid-permit-1")
    assert late.json() == {"ok": True, "duplicate": True}
    lockout.refresh_from_db()
    assert lockout.consecutive_failures == 1


def test_a_permit_still_within_its_time_is_not_counted(hot_desk_user, settings):
    settings.HOTDESK_GUESS_PERMIT_SECONDS = 60
    assert takes(attempt_of(hot_desk_user, 1), now=START)

    assert permits.take(
        attempt=attempt_of(hot_desk_user, 2), now=START + MINUTE - timedelta(seconds=1)
    )

    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 0


def test_an_attempt_settled_before_its_check_arrives_takes_no_guess(hot_desk_user):
    # The edge gave up on a slow portal and settled the attempt; its check arrives later.
    permits.settle(edge="edge-1", attempts=["srid-permit-late"])

    late = permits.Attempt(
        **{**attempt_of(hot_desk_user, 0).__dict__, "attempt": "srid-permit-late"}
    )
    assert permits.take(attempt=late) is permits.Grant.TOO_LATE

    assert hot_desk_user.guess_permits.count() == 0
    granted = [takes(attempt_of(hot_desk_user, n)) for n in range(6)]
    assert granted == [True] * 5 + [False]


def test_markers_of_settled_attempts_are_dropped_after_the_permit_time(hot_desk_user, settings):
    settings.HOTDESK_GUESS_PERMIT_SECONDS = 60
    permits.settle(edge="edge-1", attempts=["srid-old"], now=START)

    permits.settle(edge="edge-1", attempts=["srid-new"], now=START + 2 * MINUTE)

    assert set(GuessPermit.objects.values_list("attempt", flat=True)) == {"srid-new"}


# --- The one-statement way (PostgreSQL) agrees with policy.guesses_left -----------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("consecutive", "in_window", "window_age_minutes", "open_permits", "lock", "granted"),
    [
        (0, 0, None, 0, None, True),
        (0, 0, None, 4, None, True),
        (0, 0, None, 5, None, False),
        (3, 3, 1, 1, None, True),
        (3, 3, 1, 2, None, False),
        (3, 3, 15, 1, None, True),  # the window has closed
        (9, 0, None, 0, None, True),
        (9, 0, None, 1, None, False),
        (10, 0, None, 0, None, False),
        (0, 0, None, 0, "timed", False),
        (0, 0, None, 0, "lapsed", True),
        (0, 0, None, 0, "indefinite", False),
    ],
)
def test_a_permit_is_granted_exactly_when_a_guess_is_left_and_no_lock_holds(
    hot_desk_user, consecutive, in_window, window_age_minutes, open_permits, lock, granted
):
    lockout = Lockout.objects.create(
        pbx_user=hot_desk_user,
        consecutive_failures=consecutive,
        window_failures=in_window,
        window_started_at=None if window_age_minutes is None else NOW - window_age_minutes * MINUTE,
        locked_until={"timed": NOW + MINUTE, "lapsed": NOW}.get(lock),
        locked_indefinitely=lock == "indefinite",
    )
    for n in range(open_permits):
        assert takes(attempt_of(hot_desk_user, 100 + n), now=NOW - MINUTE / 2)
    lockout.refresh_from_db()
    assert lockout.in_flight == open_permits

    assert takes(attempt_of(hot_desk_user, 1), now=NOW) is granted
    lockout.refresh_from_db()
    assert lockout.in_flight == open_permits + granted
    assert hot_desk_user.guess_permits.count() == open_permits + granted


def test_a_usual_permit_is_one_statement_on_postgresql_and_two_on_sqlite(hot_desk_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert takes(attempt_of(hot_desk_user, 1))  # creates the lockout row

    with CaptureQueriesContext(connection) as captured:
        assert takes(attempt_of(hot_desk_user, 2))

    statements = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == {"postgresql": 1, "sqlite": 2}[connection.vendor], statements


def test_in_flight_follows_settling_and_heals_when_it_drifts(hot_desk_user):
    for n in range(3):
        assert takes(attempt_of(hot_desk_user, n))
    permits.settle(edge="edge-1", attempts=["srid-permit-0", "srid-permit-0", "srid-unknown"])
    permits.release(edge="edge-1", attempt="srid-permit-1")
    assert Lockout.objects.get(pbx_user=hot_desk_user).in_flight == 1

    Lockout.objects.filter(pbx_user=hot_desk_user).update(in_flight=5)  # drifted high
    assert takes(attempt_of(hot_desk_user, 9))  # the long way re-counts

    assert Lockout.objects.get(pbx_user=hot_desk_user).in_flight == 2


def test_settling_an_attempt_twice_before_its_check_arrives_still_leaves_it_unable_to_guess(
    hot_desk_user,
):
    # A batch sent twice (the edge's retry) must not wipe the marker the first one left.
    permits.settle(edge="edge-1", attempts=["srid-permit-late"])
    permits.settle(edge="edge-1", attempts=["srid-permit-late"])

    late = permits.Attempt(
        **{**attempt_of(hot_desk_user, 0).__dict__, "attempt": "srid-permit-late"}
    )
    assert permits.take(attempt=late) is permits.Grant.TOO_LATE
    assert hot_desk_user.guess_permits.count() == 0
