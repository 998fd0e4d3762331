"""Hot-desk sessions: who is logged in on which handset, opened and closed by edge reports.

Kamailio 5.6 reports no event when a binding simply runs out, so a session whose expiry has
passed without a refresh is closed as "expired" here, when it is next looked at. Nor does the
shipped config report a refresh of an unchanged binding (it is no news), and most refreshes
never reach the portal at all (Kamailio authenticates them with the HA1 of the login, see
deploy/kamailio/README.md), so the last refresh and the current expiry are brought in from
Kamailio's location table (`refresh_from_bindings`) or, where that cannot be read, from the
portal-validated refreshes in the registration log (`refresh_from_checks`, which misses the
cached ones) before anything is expired.

An administrator can end a session at once (`force_logout`); revoking Hot Desk Access,
removing the user, setting or clearing the PIN, or removing the trusted range a session came
from does the same for all of that user's sessions (`log_out_user`, called by `receivers`).
Removing the binding is what revokes: the edge authenticates refreshes of a live binding by
itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, record
from installs.models import MAX_EXPIRY_SECONDS

from . import edges
from .kamailio_rpc import Binding
from .models import EventKind, HotDeskSession, RegistrationLogEntry, SessionEnd

# A refreshed expiry this close to the stored one is the same: Kamailio reports whole seconds
# left, so re-reading an unchanged binding gives a value that wobbles by a second.
EXPIRY_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class LogoutResult:
    ended: bool  # False: the session had already ended and nothing was done
    unreachable: tuple[str, ...] = ()  # SIP edges whose binding could not be removed
    edges_tried: int = 0  # SIP edges with an RPC URL (0: the binding was left to run out)


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


def force_logout(
    *, session: HotDeskSession, actor: Actor, now: datetime | None = None
) -> LogoutResult:
    """End a live session now: close it as "forced" by `actor`, audit it, remove the binding.

    The session is closed before the binding is removed: a handset that registers again in
    between then opens a new session instead of refreshing the one being closed. The binding
    (the whole AoR: one binding per extension) is removed on every SIP edge with an RPC URL;
    an edge that cannot be reached keeps it until the handset's next refresh, which the
    portal then decides as usual, so the session stays closed either way. A session that has
    already ended is left alone: its AoR may now belong to the user's next handset.
    """
    now = now or timezone.now()
    with transaction.atomic():
        closed = HotDeskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=now, end_reason=SessionEnd.FORCED, ended_by=actor.label[:150]
        )
        if not closed:
            return LogoutResult(ended=False)
        record(
            actor=actor,
            action=Action.SESSION_LOGGED_OUT,
            install=session.install,
            obj=f"{session} (Log out)",
        )
    targets = edges.rpc_edges()
    unreachable = edges.remove_binding_everywhere(aor=_aor(session.pbx_user), edges=targets)
    return LogoutResult(ended=True, unreachable=tuple(unreachable), edges_tried=len(targets))


def log_out_user(*, pbx_user, actor: Actor, why: str, now: datetime | None = None) -> int:
    """End every session of the user at once, as "forced" by `actor`; returns how many.

    For changes that must take effect now (access revoked, user removed, new PIN). The
    binding is removed on every SIP edge once the caller's transaction has committed (never
    for a change that is rolled back, and no network wait inside the transaction), and also
    when the portal knows of no open session: it may have lost track of a refresh.
    """
    now = now or timezone.now()
    with transaction.atomic():
        open_sessions = list(
            HotDeskSession.objects.select_for_update().filter(
                pbx_user=pbx_user, ended_at__isnull=True
            )
        )
        for session in open_sessions:
            session.ended_at = now
            session.end_reason = SessionEnd.FORCED
            session.ended_by = actor.label[:150]
            session.save(update_fields=["ended_at", "end_reason", "ended_by"])
            record(
                actor=actor,
                action=Action.SESSION_LOGGED_OUT,
                install=pbx_user.install,
                obj=f"{session} ({why})",
            )
        if open_sessions or _may_be_registered(pbx_user):
            transaction.on_commit(partial(_remove_binding_later, aor=_aor(pbx_user)))
    return len(open_sessions)


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
        binding = found.get((_aor(session.pbx_user), session.contact))
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
                extension=session.pbx_user.extension,
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


def _aor(pbx_user) -> str:
    return edges.binding_aor(extension=pbx_user.extension, domain=pbx_user.install.sip_domain)


def _may_be_registered(pbx_user) -> bool:
    """Whether a binding can exist: the user has had a session or passed a check.

    Spares a network call for every new user of a bulk import.
    """
    return (
        HotDeskSession.objects.filter(pbx_user=pbx_user).exists()
        or RegistrationLogEntry.objects.filter(
            install_id=pbx_user.install_id, extension=pbx_user.extension, allowed=True
        ).exists()
    )


def _remove_binding_later(*, aor: str) -> None:
    # Runs after the commit, where nobody waits for the answer: failures are logged (by
    # edges) and the next refresh is decided with the new state anyway.
    edges.remove_binding_everywhere(aor=aor, skip_known_down=True)
