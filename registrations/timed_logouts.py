"""Ending logins at the install's logout times (maximum login time, daily logout).

`end_due_sessions` runs every few seconds without anyone remembering a cron job: each SIP edge
asks the portal for it with its periodic table fetch (`POST /api/sip/v1/sessions/tick`,
deploy/kamailio/kamailio.cfg route PBX_TABLE), so it runs wherever hot desking runs; several
edges asking is harmless (a session ends once). An operator on a call is logged out once the
call has ended: rooms that know about calls answer `busy_operators`.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from installs.models import Install

from . import logouts
from .models import HotDeskSession, SessionEnd
from .session_limits import DAILY_LOGOUT, Due, Limits, session_end

# Sent with install_ids=[...]; each receiver returns a set of (install_id, extension) of the
# operators on a call now.
busy_operators = Signal()

_REASON = {DAILY_LOGOUT: SessionEnd.DAILY_LOGOUT}


def limits_of(install: Install) -> Limits:
    return Limits(
        zone=install.zone,
        max_login_minutes=install.max_login_minutes,
        daily_logout_at=install.daily_logout_at,
    )


def due_of(session: HotDeskSession) -> Due | None:
    """When this session is to end by its install's limits (None: it does not)."""
    return session_end(logged_in_at=session.logged_in_at, limits=limits_of(session.install))


def end_due_sessions(*, now: datetime | None = None) -> int:
    """End every open session whose logout time has come; returns how many ended."""
    now = now or timezone.now()
    limited = Install.objects.filter(
        Q(max_login_minutes__isnull=False) | Q(daily_logout_at__isnull=False)
    )
    due = [
        (session, when)
        for session in HotDeskSession.objects.filter(
            install__in=limited, ended_at__isnull=True
        ).select_related("install", "pbx_user__install")
        if (when := due_of(session)) is not None and when.at <= now
    ]
    if not due:
        return 0
    busy = _busy(sorted({session.install_id for session, _ in due}))
    ended = 0
    for session, when in due:
        if (session.install_id, session.extension) in busy:
            continue  # logged out when the call ends: the next tick after it
        reason = _REASON.get(when.why, SessionEnd.MAX_LOGIN)
        ended += logouts.end_on_time(session=session, reason=reason, now=now)
    return ended


def _busy(install_ids: list[int]) -> set[tuple[int, str]]:
    busy: set[tuple[int, str]] = set()
    for _, answer in busy_operators.send(sender=HotDeskSession, install_ids=install_ids):
        if isinstance(answer, set):
            busy |= answer
    return busy
