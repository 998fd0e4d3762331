"""Hot-desk sessions: who is logged in on which handset, opened and closed by edge reports.

Kamailio 5.6 reports no event when a binding simply runs out, so a session whose expiry has
passed without a refresh is closed as "expired" here, when it is next looked at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import HotDeskSession, SessionEnd


def expire_stale(*, now: datetime | None = None, install=None) -> int:
    """Close every open session whose binding has run out; returns how many."""
    now = now or timezone.now()
    stale = HotDeskSession.objects.filter(ended_at__isnull=True, expires_at__lte=now)
    if install is not None:
        stale = stale.filter(install=install)
    # The binding ended when it expired, not when we noticed.
    count = 0
    for session in stale.only("pk", "expires_at"):
        count += HotDeskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=session.expires_at, end_reason=SessionEnd.EXPIRED
        )
    return count


def registered(
    *,
    pbx_user,
    contact: str,
    call_id: str,
    source_ip: str,
    source_port: int | None,
    proto: str,
    user_agent: str,
    expires: int,
    now: datetime | None = None,
) -> HotDeskSession:
    """Open a session for a new binding, or refresh the open one if it is the same handset.

    A binding from another handset (another Contact) replaces the old one, as Kamailio's
    single-contact save does, and the old session ends as "moved".
    """
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=expires)
    with transaction.atomic():
        current = (
            HotDeskSession.objects.select_for_update()
            .filter(pbx_user=pbx_user, ended_at__isnull=True)
            .first()
        )
        if current and current.expires_at <= now:
            _end(current, when=current.expires_at, reason=SessionEnd.EXPIRED)
            current = None
        if current and current.contact == contact:
            current.call_id = call_id
            current.refreshed_at = now
            current.expires_at = expires_at
            current.source_ip, current.source_port = source_ip, source_port
            current.save(
                update_fields=["call_id", "refreshed_at", "expires_at", "source_ip", "source_port"]
            )
            return current
        if current:
            _end(current, when=now, reason=SessionEnd.MOVED)
        return HotDeskSession.objects.create(
            install=pbx_user.install,
            pbx_user=pbx_user,
            contact=contact,
            call_id=call_id,
            source_ip=source_ip,
            source_port=source_port,
            proto=proto,
            user_agent=user_agent,
            logged_in_at=now,
            refreshed_at=now,
            expires_at=expires_at,
        )


def unregistered(*, pbx_user, now: datetime | None = None) -> int:
    """The handset logged out: close the open session."""
    return _end_open(pbx_user=pbx_user, when=now or timezone.now(), reason=SessionEnd.LOGGED_OUT)


def end_all_for_user(
    *, pbx_user, reason: str, actor_label: str = "", now: datetime | None = None
) -> int:
    return _end_open(
        pbx_user=pbx_user, when=now or timezone.now(), reason=reason, ended_by=actor_label
    )


def _end_open(*, pbx_user, when: datetime, reason: str, ended_by: str = "") -> int:
    return HotDeskSession.objects.filter(pbx_user=pbx_user, ended_at__isnull=True).update(
        ended_at=when, end_reason=reason, ended_by=ended_by[:150]
    )


def _end(session: HotDeskSession, *, when: datetime, reason: str) -> None:
    session.ended_at = when
    session.end_reason = reason
    session.save(update_fields=["ended_at", "end_reason"])
