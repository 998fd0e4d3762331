"""Wrong-PIN lockouts: 5 in 15 minutes lock for 15 minutes, 10 in a row lock until unlocked."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.trail import Actor
from registrations import lockouts
from registrations.lockouts import Thresholds, apply_failure
from registrations.models import Lockout
from users import services

from .helpers import check, report

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DEFAULTS = Thresholds(
    short_count=5,
    short_window=timedelta(minutes=15),
    short_lock=timedelta(minutes=15),
    hard_count=10,
)


def failures_at(*offsets: timedelta, limits: Thresholds = DEFAULTS) -> Lockout:
    """An unsaved lockout after one wrong PIN at START + each offset."""
    lockout = Lockout()
    for offset in offsets:
        apply_failure(lockout, now=START + offset, limits=limits)
    return lockout


# --- The counting rule, with the clock passed in -----------------------------------------------


def test_four_wrong_pins_do_not_lock():
    lockout = failures_at(*(n * MINUTE for n in range(4)))

    assert not lockout.is_active(START + 4 * MINUTE)
    assert lockout.consecutive_failures == 4


def test_five_wrong_pins_within_15_minutes_lock_for_15_minutes():
    fifth = START + 14 * MINUTE
    lockout = failures_at(0 * MINUTE, 1 * MINUTE, 2 * MINUTE, 3 * MINUTE, 14 * MINUTE)

    assert lockout.locked_until == fifth + timedelta(minutes=15)
    assert lockout.locked_at == fifth
    assert not lockout.locked_indefinitely
    assert lockout.is_active(fifth + timedelta(minutes=15) - timedelta(microseconds=1))
    assert not lockout.is_active(fifth + timedelta(minutes=15))


def test_five_wrong_pins_spread_over_more_than_15_minutes_do_not_lock():
    # The fifth arrives exactly 15 minutes after the first: outside its window.
    lockout = failures_at(*(n * 3.75 * MINUTE for n in range(5)))

    assert lockout.locked_until is None
    assert not lockout.is_active(START + 15 * MINUTE)
    assert lockout.consecutive_failures == 5


def test_ten_wrong_pins_in_a_row_lock_until_an_administrator_acts():
    # One every 16 minutes: never 5 in a window, so only the run of 10 can lock.
    lockout = failures_at(*(n * 16 * MINUTE for n in range(10)))

    assert lockout.locked_indefinitely
    assert lockout.locked_at == START + 9 * 16 * MINUTE
    assert lockout.is_active(START + timedelta(days=365))


def test_nine_wrong_pins_spread_out_leave_the_user_unlocked():
    lockout = failures_at(*(n * 16 * MINUTE for n in range(9)))

    assert not lockout.locked_indefinitely
    assert not lockout.is_active(START + 9 * 16 * MINUTE)


def test_indefinite_lock_says_since_when_it_holds_not_when_an_old_short_lock_began():
    short = [n * MINUTE for n in range(5)]  # timed lock at START + 4 min, over at + 19 min
    later = [(30 + n) * MINUTE for n in range(5)]  # failures 6..10, the tenth at + 34 min

    lockout = failures_at(*short, *later)

    assert lockout.locked_indefinitely
    assert lockout.locked_at == START + 34 * MINUTE


def test_thresholds_are_taken_from_settings(settings):
    settings.HOTDESK_LOCKOUT_SHORT_THRESHOLD = 3
    settings.HOTDESK_LOCKOUT_SHORT_WINDOW_SECONDS = 60
    settings.HOTDESK_LOCKOUT_SHORT_SECONDS = 120
    settings.HOTDESK_LOCKOUT_HARD_THRESHOLD = 4

    assert Thresholds.from_settings() == Thresholds(
        short_count=3,
        short_window=timedelta(seconds=60),
        short_lock=timedelta(seconds=120),
        hard_count=4,
    )


# --- Stored counts -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_recorded_failures_lock_and_the_lock_lapses_after_15_minutes(hot_desk_user):
    for n in range(5):
        lockouts.record_failure(
            pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START + n * MINUTE
        )

    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.is_active(START + 4 * MINUTE + 15 * MINUTE - timedelta(seconds=1))
    assert not lockout.is_active(START + 4 * MINUTE + 15 * MINUTE)
    assert lockout.last_failure_ip == "203.0.113.7"


@pytest.mark.django_db
def test_a_success_resets_the_run_of_wrong_pins(hot_desk_user):
    for n in range(4):
        lockouts.record_failure(
            pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START + n * MINUTE
        )

    lockouts.record_successes([hot_desk_user.pk])
    for n in range(4, 8):
        lockouts.record_failure(
            pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START + n * MINUTE
        )

    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.consecutive_failures == 4
    assert not lockout.is_active(START + 8 * MINUTE)


@pytest.mark.django_db
def test_a_lower_threshold_setting_takes_effect(settings, hot_desk_user):
    settings.HOTDESK_LOCKOUT_SHORT_THRESHOLD = 2
    settings.HOTDESK_LOCKOUT_HARD_THRESHOLD = 3

    lockouts.record_failure(pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START)
    second = lockouts.record_failure(
        pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START + MINUTE
    )
    assert second.is_active(START + MINUTE)
    assert not second.locked_indefinitely

    third = lockouts.record_failure(
        pbx_user=hot_desk_user, source_ip="203.0.113.7", now=START + 20 * MINUTE
    )
    assert third.locked_indefinitely


# --- Through the API ---------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """Move `django.utils.timezone.now`, which the API and the lockout code read."""

    class Clock:
        now = START

        def advance(self, delta: timedelta) -> None:
            self.now += delta

    fixed = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fixed.now)
    return fixed


@pytest.mark.django_db
def test_five_reported_wrong_pins_deny_even_the_right_setup_until_15_minutes_pass(
    edge_client, hot_desk_user, clock
):
    assert check(edge_client).status_code == 200
    for _ in range(5):
        report(edge_client, "auth_failed")
        clock.advance(MINUTE)
    clock.advance(-MINUTE)  # back to the moment of the fifth

    locked = check(edge_client)
    clock.advance(15 * MINUTE - timedelta(seconds=1))
    still_locked = check(edge_client)
    clock.advance(timedelta(seconds=1))
    lapsed = check(edge_client)

    assert locked.status_code == 403
    assert locked.json() == {"allow": False, "reason": "locked"}
    assert still_locked.json()["reason"] == "locked"
    assert lapsed.status_code == 200
    assert lapsed.json()["reason"] == "ok"


@pytest.mark.django_db
def test_ten_reported_wrong_pins_lock_until_an_administrator_unlocks(
    edge_client, portal_client, install, hot_desk_user, clock
):
    for _ in range(5):
        report(edge_client, "auth_failed")
    clock.advance(20 * MINUTE)  # the short lock has lapsed
    for _ in range(5):
        report(edge_client, "auth_failed")
    clock.advance(timedelta(days=30))

    assert check(edge_client).json()["reason"] == "locked"

    response = portal_client.post(
        reverse("registrations:unlock", kwargs={"install_pk": install.pk, "pk": hot_desk_user.pk})
    )

    assert response.status_code == 302
    assert check(edge_client).status_code == 200
    unlocked = AuditEvent.objects.get(action=Action.USER_UNLOCKED)
    assert unlocked.get_action_display() == "User unlocked"
    assert unlocked.actor_label == "alice"
    assert unlocked.install == install
    assert unlocked.object_repr == str(hot_desk_user)


@pytest.mark.django_db
def test_a_new_pin_lifts_an_indefinite_lock(edge_client, hot_desk_user, portal_admin):
    Lockout.objects.create(
        pbx_user=hot_desk_user, consecutive_failures=10, locked_indefinitely=True
    )
    assert check(edge_client).json()["reason"] == "locked"

    services.set_pin(user=hot_desk_user, pin="8642", actor=Actor.for_user(portal_admin))

    response = check(edge_client)
    assert response.status_code == 200
    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 0


@pytest.mark.django_db
def test_a_reported_registration_resets_the_run(edge_client, hot_desk_user):
    for _ in range(4):
        report(edge_client, "auth_failed")
    report(edge_client, "registered")
    for _ in range(4):
        report(edge_client, "auth_failed")

    assert check(edge_client).status_code == 200
    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 4


@pytest.mark.django_db
def test_a_lower_threshold_setting_locks_sooner_through_the_api(
    edge_client, hot_desk_user, settings
):
    settings.HOTDESK_LOCKOUT_SHORT_THRESHOLD = 2

    report(edge_client, "auth_failed")
    assert check(edge_client).status_code == 200
    report(edge_client, "auth_failed")

    assert check(edge_client).json()["reason"] == "locked"


@pytest.mark.django_db
def test_operator_check_while_locked_does_not_extend_or_count(edge_client, hot_desk_user):
    for _ in range(5):
        report(edge_client, "auth_failed")
    before = Lockout.objects.get(pbx_user=hot_desk_user)

    for _ in range(3):
        check(edge_client)

    after = Lockout.objects.get(pbx_user=hot_desk_user)
    assert (after.consecutive_failures, after.locked_until) == (
        before.consecutive_failures,
        before.locked_until,
    )


# --- Mutations the suite once let through ------------------------------------------------------


def test_a_timed_lock_starts_a_new_window_so_one_failure_after_it_does_not_relock():
    # A short lock shorter than the window: the failures that caused it must not count again.
    limits = Thresholds(
        short_count=5, short_window=15 * MINUTE, short_lock=5 * MINUTE, hard_count=10
    )
    lockout = failures_at(*(n * MINUTE for n in range(5)), limits=limits)  # locked 4 -> 9
    assert (lockout.window_failures, lockout.window_started_at) == (0, None)

    apply_failure(lockout, now=START + 10 * MINUTE, limits=limits)

    assert not lockout.is_active(START + 10 * MINUTE)
    assert lockout.window_failures == 1


def test_the_tenth_failure_during_a_timed_lock_keeps_when_that_lock_began():
    # Reports of attempts allowed before the lock may still arrive while it holds.
    lockout = failures_at(*(n * MINUTE for n in range(10)))  # timed lock at + 4 min

    assert lockout.locked_indefinitely
    assert lockout.locked_at == START + 4 * MINUTE


@pytest.mark.django_db
def test_a_success_does_not_lift_an_active_lock(hot_desk_user):
    for _ in range(5):
        lockouts.record_failure(pbx_user=hot_desk_user, source_ip="203.0.113.7", now=timezone.now())

    lockouts.record_successes([hot_desk_user.pk])

    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.is_active(timezone.now())
    assert lockout.consecutive_failures == 0
