"""When a login ends by itself (registrations.session_limits, pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from registrations.session_limits import DAILY_LOGOUT, MAX_LOGIN, Limits, session_end

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str, zone=LONDON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_no_limit_no_end():
    assert session_end(logged_in_at=at("2026-12-01 09:00"), limits=Limits(zone=LONDON)) is None


def test_the_maximum_login_time_runs_from_the_login():
    due = session_end(
        logged_in_at=at("2026-12-01 09:00"), limits=Limits(zone=LONDON, max_login_minutes=600)
    )
    assert (due.at, due.why) == (at("2026-12-01 19:00"), MAX_LOGIN)


@pytest.mark.parametrize(
    ("login", "ends"),
    [
        ("2026-12-01 09:00", "2026-12-01 19:00"),
        ("2026-12-01 19:00", "2026-12-02 19:00"),  # at the logout time: tomorrow's
        ("2026-12-01 22:30", "2026-12-02 19:00"),
    ],
)
def test_the_daily_logout_is_the_first_after_the_login(login, ends):
    due = session_end(
        logged_in_at=at(login), limits=Limits(zone=LONDON, daily_logout_at=time(19, 0))
    )
    assert (due.at, due.why) == (at(ends), DAILY_LOGOUT)


def test_the_daily_logout_is_in_the_installs_zone_not_the_portals():
    login = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York

    due = session_end(logged_in_at=login, limits=Limits(zone=NEW_YORK, daily_logout_at=time(19)))

    assert due.at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 19:00 EST is midnight UTC


def test_the_daily_logout_keeps_its_wall_clock_time_across_a_dst_change():
    # London moves to BST on 2026-03-29: 19:00 is 19:00 UTC the day before, 18:00 UTC after.
    login = at("2026-03-28 20:00")

    due = session_end(logged_in_at=login, limits=Limits(zone=LONDON, daily_logout_at=time(19)))

    assert due.at == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)


def test_the_earlier_of_both_limits_wins():
    limits = Limits(zone=LONDON, max_login_minutes=60, daily_logout_at=time(19))

    assert session_end(logged_in_at=at("2026-12-01 09:00"), limits=limits).why == MAX_LOGIN
    late = session_end(logged_in_at=at("2026-12-01 18:30"), limits=limits)
    assert (late.at, late.why) == (at("2026-12-01 19:00"), DAILY_LOGOUT)
    assert late.at - at("2026-12-01 18:30") == timedelta(minutes=30)
