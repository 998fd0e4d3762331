"""What the Real Time Dashboard shows: who is hot-desking now, and how recent sessions ended.

The portal's sessions are brought up to date first. Kamailio's location table is the truth
about live bindings (a refresh of an unchanged binding is not reported to the portal); where
an edge's table cannot be read, the registration log stands in; then sessions whose expiry
has passed without a refresh are closed as "expired", and, when every edge's table was read,
sessions that no edge holds a binding for as "no binding".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from kamailio import edges
from kamailio.edges import LocationTables
from kamailio.rpc import Binding

from . import sessions
from .models import HotDeskSession

HISTORY_PAGE_SIZE = 50

# What an operator on the dashboard is doing now, as a room above this one knows it (calls: the
# call in progress). Sent with install= and extensions= (of the live sessions); each receiver
# returns {extension: Activity}.
live_activity = Signal()


# Which desk each live session's handset is, as a room that knows the handsets says (by the
# MAC in its user agent, or the address it registers from). Sent with install= and
# sessions=; each receiver returns {session pk: desk name}.
desk_names = Signal()


@dataclass(frozen=True)
class Activity:
    what: str  # e.g. "On a call with 1002 (internal)"
    since: datetime


@dataclass(frozen=True)
class LiveSessions:
    sessions: list[HotDeskSession]
    tables: LocationTables  # which SIP edges' location tables were read
    # Bindings of the install's domain that no open session accounts for: a login whose
    # report never arrived, or a forced logout whose edge could not be reached.
    untracked: list[Binding]


def live_sessions(*, install, now: datetime | None = None) -> LiveSessions:
    """The install's open sessions, after bringing them up to date with the SIP edges."""
    now = now or timezone.now()
    tables = edges.read_location_tables()
    matched = sessions.refresh_from_bindings(install=install, bindings=tables.bindings)
    if not tables.complete:
        sessions.refresh_from_checks(install=install, now=now, exclude=matched)
    sessions.expire_stale(install=install, now=now)
    if tables.complete:
        sessions.end_without_binding(install=install, matched=matched, now=now)
    live = list(
        HotDeskSession.objects.filter(install=install, ended_at__isnull=True)
        .select_related("pbx_user")
        .order_by("pbx_user__extension", "pk")
    )
    tracked = {
        (
            edges.binding_aor(extension=session.extension, domain=install.sip_domain),
            session.contact,
        )
        for session in live
    }
    suffix = "@" + install.sip_domain.lower()
    untracked = sorted(
        (
            binding
            for binding in tables.bindings
            if binding.aor.lower().endswith(suffix)
            and (binding.aor.lower(), binding.contact) not in tracked
        ),
        key=lambda binding: (binding.aor, binding.contact),
    )
    return LiveSessions(sessions=live, tables=tables, untracked=untracked)


def activities(*, install, sessions: list[HotDeskSession]) -> dict[str, Activity]:
    """What each live session's operator is doing now, by extension, as the receivers of
    `live_activity` say; an extension none of them knows is absent."""
    found: dict[str, Activity] = {}
    extensions = sorted({session.extension for session in sessions})
    if not extensions:
        return found
    for _, answer in live_activity.send(
        sender=HotDeskSession, install=install, extensions=extensions
    ):
        if isinstance(answer, dict):
            found.update(answer)
    return found


def desks(*, install, sessions: list[HotDeskSession]) -> dict[int, str]:
    """{session pk: desk name} for the live sessions whose handset a receiver knows."""
    found: dict[int, str] = {}
    if not sessions:
        return found
    for _, answer in desk_names.send(sender=HotDeskSession, install=install, sessions=sessions):
        if isinstance(answer, dict):
            found.update(answer)
    return found


def matching(sessions: list[HotDeskSession], text: str) -> list[HotDeskSession]:
    """The sessions of an extension (exactly) or a name (any part, any case) like `text`."""
    text = text.strip().lower()
    if not text:
        return sessions
    return [
        session
        for session in sessions
        if session.extension == text or text in session.user_name.lower()
    ]


def history(*, install) -> QuerySet[HotDeskSession]:
    """The install's ended sessions, most recently ended first."""
    return (
        HotDeskSession.objects.filter(install=install, ended_at__isnull=False)
        .select_related("pbx_user")
        .order_by("-ended_at", "-pk")
    )
