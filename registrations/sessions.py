"""Hot-desk sessions: who is logged in on which handset, opened and closed by edge reports.

Kamailio 5.6 reports no event when a binding simply runs out, so a session whose expiry has
passed without a refresh is closed as "expired" here, when it is next looked at. Nor does the
shipped config report a refresh of an unchanged binding (it is no news), and most refreshes
never reach the portal at all (Kamailio authenticates them with the HA1 of the login, see
deploy/kamailio/README.md), so the last refresh and the current expiry are brought in from
Kamailio's location table (`refresh_from_bindings`) or, where that cannot be read, from the
portal-validated refreshes in the registration log (`refresh_from_checks`, which misses the
cached ones) before anything is expired.

Ending sessions at once (an administrator's Log out, revocations) is `logouts`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from installs.models import MAX_EXPIRY_SECONDS
from kamailio import edges
from kamailio.rpc import Binding
from users.models import PbxUser

from .models import EventKind, HotDeskSession, RegistrationLogEntry, SessionEnd

# A session this young may belong to a binding made after the location tables were read
# (they are reused for edges.TABLE_CACHE_SECONDS) or whose report is still on its way: it is
# never taken for one without a binding.
NO_BINDING_GRACE = timedelta(seconds=30)
# A refreshed expiry this close to the stored one is the same: Kamailio reports whole seconds
# left, so re-reading an unchanged binding gives a value that wobbles by a second.
EXPIRY_TOLERANCE = timedelta(seconds=2)


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


@dataclass(frozen=True)
class EdgeReport:
    """A `registered` or `unregistered` report of the SIP edge about one known user."""

    pbx_user_id: int
    install_id: int
    registered: bool  # False: the handset de-registered
    contact: str = ""
    call_id: str = ""
    cseq: int = 0
    source_ip: str = ""
    source_port: int | None = None
    proto: str = ""
    user_agent: str = ""
    expires: int = 0
    edge: str = ""


def apply_reports(
    reports: Sequence[EdgeReport], *, now: datetime | None = None
) -> dict[int, HotDeskSession | None]:
    """Open, refresh and close sessions for edge reports, in their order, with a few queries.

    A registration from the handset of the open session refreshes it; from another handset
    (another Contact) it replaces it, as Kamailio's single-contact save does, and the old
    session ends as "moved"; a session past its expiry ends as "expired" at that moment. A
    de-registration ends the open session as "logged out". Returns each reported user's open
    session afterwards (None: none).

    Reports are applied in CSeq order per Call-ID, as the registrar applied the REGISTERs: a
    report whose CSeq is lower than one already applied for the same user and Call-ID (a
    batch re-sent late, or another edge's) is logged by the caller but changes no session, so
    a late login can never reopen a session its own log-out closed.

    The SIP edge sends these reports in batches (one per 100 ms), so the cost here is per
    batch, not per report: one locking read of the users' open sessions, one read of the
    highest CSeqs, then at most one statement per kind of change. A session opened meanwhile
    by another process for one of these users makes the final INSERT fail on
    `one_open_session` (IntegrityError), and the whole transaction rolls back for the caller
    to retry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        changes = _SessionChanges(reports, now=now)
        for report in reports:
            changes.apply(report)
        changes.save()
    return changes.open_by_user


class _SessionChanges:
    """What one batch of reports does to the sessions, gathered in memory, then saved."""

    def __init__(self, reports: Sequence[EdgeReport], *, now: datetime) -> None:
        self.now = now
        user_ids = {report.pbx_user_id for report in reports}
        locked = (
            HotDeskSession.objects.select_for_update()
            .filter(pbx_user_id__in=user_ids, ended_at__isnull=True)
            .order_by("pk")  # one locking order for every process: no deadlock
        )
        self.open_by_user: dict[int, HotDeskSession | None] = {
            session.pbx_user_id: session for session in locked if session.pbx_user_id is not None
        }
        self.highest_cseq: dict[tuple[int, str], int] = {
            (row["pbx_user_id"], row["call_id"]): row["highest"]
            for row in HotDeskSession.objects.filter(
                pbx_user_id__in=user_ids, call_id__in={report.call_id for report in reports}
            )
            .values("pbx_user_id", "call_id")
            .annotate(highest=Max("cseq"))
            .order_by()
        }
        self.closed: dict[int, HotDeskSession] = {}
        self.refreshed: dict[int, HotDeskSession] = {}
        self.opened: list[HotDeskSession] = []

    def apply(self, report: EdgeReport) -> None:
        key = (report.pbx_user_id, report.call_id)
        if report.cseq < self.highest_cseq.get(key, 0):
            return  # older than what the registrar has since seen of this Call-ID
        self.highest_cseq[key] = report.cseq
        current = self.open_by_user.get(report.pbx_user_id)
        if current is not None and current.expires_at <= self.now:
            self._close(current, reason=SessionEnd.EXPIRED)
            current = None
        if not report.registered:
            if current is not None:
                current.cseq = report.cseq
                self._close(current, reason=SessionEnd.LOGGED_OUT)
            self.open_by_user[report.pbx_user_id] = None
        elif current is not None and current.contact == report.contact:
            self._refresh(current, report)
        else:
            if current is not None:
                self._close(current, reason=SessionEnd.MOVED)
            self._open(report)

    def _close(self, session: HotDeskSession, *, reason: str) -> None:
        # The binding ended when it expired, not when we noticed.
        session.ended_at = session.expires_at if reason == SessionEnd.EXPIRED else self.now
        session.end_reason = reason
        if session.pk is not None:  # else opened in this batch: inserted already closed
            self.closed[session.pk] = session

    def _refresh(self, session: HotDeskSession, report: EdgeReport) -> None:
        session.call_id, session.cseq = report.call_id, report.cseq
        session.refreshed_at = self.now
        session.expires_at = self.now + timedelta(seconds=report.expires)
        session.source_ip, session.source_port = report.source_ip, report.source_port
        session.edge = report.edge
        if session.pk is not None:
            self.refreshed[session.pk] = session

    def _open(self, report: EdgeReport) -> None:
        session = HotDeskSession(
            install_id=report.install_id,
            pbx_user_id=report.pbx_user_id,
            contact=report.contact,
            call_id=report.call_id,
            cseq=report.cseq,
            source_ip=report.source_ip,
            source_port=report.source_port,
            proto=report.proto,
            user_agent=report.user_agent,
            edge=report.edge,
            logged_in_at=self.now,
            refreshed_at=self.now,
            expires_at=self.now + timedelta(seconds=report.expires),
        )
        self.opened.append(session)
        self.open_by_user[report.pbx_user_id] = session

    def save(self) -> None:
        if self.refreshed:
            HotDeskSession.objects.bulk_update(
                self.refreshed.values(),
                [
                    "call_id",
                    "cseq",
                    "refreshed_at",
                    "expires_at",
                    "source_ip",
                    "source_port",
                    "edge",
                ],
            )
        if self.closed:  # after the refreshes: a session may be refreshed, then closed
            # Every row was read under a lock in this transaction: nobody closed it meanwhile.
            HotDeskSession.objects.bulk_update(
                self.closed.values(), ["ended_at", "end_reason", "cseq"]
            )
        # Closed ones first: `one_open_session` would refuse a new session beside an old one.
        HotDeskSession.objects.bulk_create(self.opened)
        if self.opened:
            # A new login (its Call-ID was not the refused one): an older logout no longer
            # needs to stick. One statement for the batch, touching only users that had one.
            PbxUser.objects.filter(pk__in=[session.pbx_user_id for session in self.opened]).exclude(
                logged_out_call_id=""
            ).update(logged_out_call_id="")


def end_for_restarted_edge(*, edge: str, now: datetime | None = None) -> int:
    """A SIP edge started (again): the bindings it held are gone, so are their sessions.

    The edge says so in the first line it reports after it starts (`started`), before any
    report of a login made on it since, so the sessions ended here are exactly the ones whose
    bindings the restart lost. Sessions another edge holds are left alone. Returns how many
    ended.
    """
    return HotDeskSession.objects.filter(edge=edge, ended_at__isnull=True).update(
        ended_at=now or timezone.now(), end_reason=SessionEnd.EDGE_RESTARTED
    )


def refresh_from_bindings(*, install, bindings: Iterable[Binding]) -> set[int]:
    """Copy each live binding's last refresh and expiry onto its open session.

    A binding belongs to a session when its AoR is the user's and its contact is the
    session's handset. Returns the pks of the sessions that have a binding.
    """
    suffix = "@" + install.sip_domain.lower()
    found = {
        (binding.aor.lower(), binding.contact): binding
        for binding in bindings
        if binding.aor.lower().endswith(suffix)
    }
    matched = set()
    for session in HotDeskSession.objects.filter(
        install=install, ended_at__isnull=True
    ).select_related("pbx_user__install"):
        binding = found.get((aor_of(session.pbx_user), session.contact))
        if binding is None:
            continue
        matched.add(session.pk)
        changes = {}
        if (
            binding.expires_at is not None
            and abs(binding.expires_at - session.expires_at) > EXPIRY_TOLERANCE
        ):
            changes["expires_at"] = binding.expires_at
        if binding.last_modified is not None and binding.last_modified > session.refreshed_at:
            changes["refreshed_at"] = binding.last_modified
        if changes:
            HotDeskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(**changes)
    return matched


def end_without_binding(*, install, matched: set[int], now: datetime | None = None) -> int:
    """End the install's open sessions that no SIP edge holds a binding for; returns how many.

    Only for a complete read (`LocationTables.complete`) of which `matched` are the sessions
    that have a binding (`refresh_from_bindings`): a binding lost without a report (an edge
    that died and never came back, or came back and its `started` report was lost, or a
    log-out whose report was dropped) ends its session as "no binding" rather than leaving it
    live until its expiry. Sessions past their expiry are `expire_stale`'s.
    """
    now = now or timezone.now()
    return (
        HotDeskSession.objects.filter(
            install=install,
            ended_at__isnull=True,
            expires_at__gt=now,
            refreshed_at__lt=now - NO_BINDING_GRACE,  # never before the login
        )
        .exclude(pk__in=matched)
        .update(ended_at=now, end_reason=SessionEnd.NO_BINDING)
    )


def refresh_from_checks(
    *, install, now: datetime | None = None, exclude: Iterable[int] = ()
) -> int:
    """Extend open sessions past their expiry that the registration log shows were refreshed.

    For when the location table cannot be read: a refresh is an allowed check with the
    session's Call-ID after its last refresh. It expires after the expiry it asked for, at
    most the longest one Kamailio grants. Returns how many sessions were extended.
    """
    now = now or timezone.now()
    due = (
        HotDeskSession.objects.filter(install=install, ended_at__isnull=True, expires_at__lte=now)
        .exclude(pk__in=list(exclude))
        .select_related("pbx_user")
    )
    extended = 0
    for session in due:
        check = (
            RegistrationLogEntry.objects.filter(
                install=install,
                extension=session.extension,
                kind=EventKind.CHECK,
                allowed=True,
                call_id=session.call_id,
                created_at__gt=session.refreshed_at,
            )
            .exclude(expires=0)  # a log-out
            .order_by("-created_at")
            .values_list("created_at", "expires")
            .first()
        )
        if check is None:
            continue
        at, asked = check
        seconds = min(asked or install.registration_expiry, MAX_EXPIRY_SECONDS)
        extended += HotDeskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            refreshed_at=at, expires_at=at + timedelta(seconds=seconds)
        )
    return extended


def aor_of(pbx_user) -> str:
    """The address-of-record of the user's binding on the SIP edges."""
    return edges.binding_aor(extension=pbx_user.extension, domain=pbx_user.install.sip_domain)
