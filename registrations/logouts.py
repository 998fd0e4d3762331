"""Ending hot-desk sessions now: an administrator's Log out, and every change that revokes.

An administrator can end a session at once (`force_logout`); revoking Hot Desk Access,
removing the user, setting or clearing the PIN, or removing the trusted range a session came
from does the same for all of that user's sessions (`log_out_user`, called by `receivers`).
Removing the binding is what revokes: the edge authenticates refreshes of a live binding by
itself, so the binding is removed on every SIP edge (`kamailio.edges`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, record
from installs.models import MAX_EXPIRY_SECONDS
from kamailio import edges
from users.models import PbxUser

from .models import HotDeskSession, RegistrationLogEntry, SessionEnd
from .sessions import aor_of


@dataclass(frozen=True)
class LogoutResult:
    ended: bool  # False: the session had already ended and nothing was done
    unreachable: tuple[str, ...] = ()  # SIP edges whose binding could not be removed
    edges_tried: int = 0  # SIP edges with an RPC URL (0: the binding was left to run out)
    calls_ended: int = 0  # answered calls of the operator ended (end_calls=True)
    calls_unreachable: tuple[str, ...] = ()  # SIP edges whose calls could not be ended


def force_logout(
    *,
    session: HotDeskSession,
    actor: Actor,
    end_calls: bool = False,
    sticky: bool = True,
    now: datetime | None = None,
) -> LogoutResult:
    """End a live session now: close it as "forced" by `actor`, audit it, remove the binding.

    With `end_calls`, the operator's answered calls are ended too (a BYE to each side): a
    logout alone stops new calls and lets a call in progress finish. `sticky`: the handset's
    refreshes of this login are refused from now on (`PbxUser.logged_out_call_id`), so it
    does not log the operator straight back in; without it, its next refresh is decided as
    usual and may open a new session.

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
        if sticky and session.pbx_user_id is not None:
            keep_logged_out(pbx_user_id=session.pbx_user_id, call_id=session.call_id)
        record(
            actor=actor,
            action=Action.SESSION_LOGGED_OUT,
            install=session.install,
            obj=f"{session} ({'Log out and end the call' if end_calls else 'Log out'})",
        )
    targets = edges.rpc_edges()
    operator = aor_of(session.pbx_user)
    unreachable = edges.remove_binding_everywhere(aor=operator, edges=targets)
    calls = edges.end_calls_everywhere(operator=operator, edges=targets) if end_calls else None
    return LogoutResult(
        ended=True,
        unreachable=tuple(unreachable),
        edges_tried=len(targets),
        calls_ended=calls.ended if calls else 0,
        calls_unreachable=calls.unreachable if calls else (),
    )


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
            keep_logged_out(pbx_user_id=pbx_user.pk, call_id=session.call_id)
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
            transaction.on_commit(partial(_remove_binding_later, aor=aor_of(pbx_user)))
    return len(open_sessions)


def end_on_time(*, session: HotDeskSession, reason: str, now: datetime) -> bool:
    """End a session whose install's logout time has come (`timed_logouts`): closed with
    `reason`, audited, the binding removed on every edge once committed, and sticky like a
    forced logout. False if it had ended already."""
    with transaction.atomic():
        closed = HotDeskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=now, end_reason=reason
        )
        if not closed:
            return False
        if session.pbx_user_id is not None:
            keep_logged_out(pbx_user_id=session.pbx_user_id, call_id=session.call_id)
            aor = aor_of(session.pbx_user)
            transaction.on_commit(partial(_remove_binding_later, aor=aor))
        record(
            actor=Actor.system(SessionEnd(reason).label),
            action=Action.SESSION_LOGGED_OUT,
            install=session.install,
            obj=f"{session} ({SessionEnd(reason).label})",
        )
    return True


def keep_logged_out(*, pbx_user_id: int, call_id: str) -> None:
    """Refuse refreshes of the login `call_id` of the user from now on (see `policy.decide`)."""
    PbxUser.objects.filter(pk=pbx_user_id).update(logged_out_call_id=call_id[:255])


def remove_install_bindings_later(*, install) -> int:
    """Once the caller's transaction commits, remove every binding `install`'s users may have.

    For an install about to be deleted (no page does that; `manage.py shell` can): its
    sessions go with it, so there is nobody left to log out, but the edges would keep
    authenticating those handsets' refreshes from their cache. A binding may exist for an
    open session, and for one the portal saw expire lately while the handset kept refreshing
    on the edge.
    Returns how many addresses-of-record are to be removed.
    """
    lately = timezone.now() - timedelta(seconds=MAX_EXPIRY_SECONDS)
    extensions = set(
        HotDeskSession.objects.filter(install=install, pbx_user__isnull=False)
        .filter(Q(ended_at__isnull=True) | Q(end_reason=SessionEnd.EXPIRED, ended_at__gte=lately))
        .values_list("pbx_user__extension", flat=True)
    )
    for extension in sorted(extensions):
        aor = edges.binding_aor(extension=extension, domain=install.sip_domain)
        transaction.on_commit(partial(_remove_binding_later, aor=aor))
    return len(extensions)


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
