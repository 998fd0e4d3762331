"""When a hot-desk login ends by itself: the install's maximum login time and daily logout.

Pure: the caller gives the install's limits, its time zone and the moment of login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

MAX_LOGIN = "max_login"
DAILY_LOGOUT = "daily_logout"


@dataclass(frozen=True)
class Limits:
    zone: tzinfo
    max_login_minutes: int | None = None
    daily_logout_at: time | None = None  # wall-clock time in `zone`

    @property
    def any(self) -> bool:
        return self.max_login_minutes is not None or self.daily_logout_at is not None


@dataclass(frozen=True)
class Due:
    at: datetime  # aware
    why: str  # MAX_LOGIN or DAILY_LOGOUT


def session_end(*, logged_in_at: datetime, limits: Limits) -> Due | None:
    """When a login made at `logged_in_at` is to end, and why; None when nothing ends it.

    The daily logout is the first one after the login (a login at 19:30 with a 19:00 logout
    runs until 19:00 the next day), at that wall-clock time in the install's zone, whatever
    the offset is that day. Where both apply, the earlier wins.
    """
    candidates = []
    if limits.max_login_minutes is not None:
        candidates.append(
            Due(logged_in_at + timedelta(minutes=limits.max_login_minutes), MAX_LOGIN)
        )
    if limits.daily_logout_at is not None:
        candidates.append(Due(_next_daily(logged_in_at, limits), DAILY_LOGOUT))
    return min(candidates, key=lambda due: due.at) if candidates else None


def _next_daily(after: datetime, limits: Limits) -> datetime:
    assert limits.daily_logout_at is not None
    local = after.astimezone(limits.zone)
    day = local.date()
    for _ in range(3):  # today, tomorrow, or (past a skipped local time) the day after
        candidate = datetime.combine(day, limits.daily_logout_at, tzinfo=limits.zone)
        # A wall-clock time skipped by a DST change counts at the same offset as before it.
        if candidate > after:
            return candidate
        day += timedelta(days=1)
    return candidate
