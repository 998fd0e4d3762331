"""The Registration log as an administrator reads it: one row per login attempt, in words.

The edge logs a check and, for an allowed one, its outcome (logged in, logged out, wrong PIN)
as separate entries of the same attempt. Here the check carries its outcome, and an outcome
whose check is on the page already is not shown again; outcomes without a check (a wrong PIN
on a refresh the edge checked itself) stand alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from common.forms import within_days
from users.models import PbxUser

from .explanations import EXPLANATIONS
from .models import EventKind, HotDeskSession, RegistrationLogEntry, SessionEnd
from .policy import Reason

LOGGED_IN, LOGGED_OUT, WRONG_PIN, DENIED = "logged_in", "logged_out", "wrong_pin", "denied"
OUTCOMES = {
    LOGGED_IN: "Logged in",
    LOGGED_OUT: "Logged out",
    WRONG_PIN: "Wrong PIN",
    DENIED: "Refused before the PIN",
}

_DENIED_WORDS = {
    Reason.UNKNOWN_DOMAIN: "Not from a trusted network: {ip}",
    Reason.UNTRUSTED_SOURCE: "Not from a trusted network: {ip}",
    Reason.MALFORMED_SOURCE: "Not a valid source address: {ip}",
    Reason.UNKNOWN_EXTENSION: "No user has this extension",
    Reason.NO_HOT_DESK_ACCESS: "No Hot Desk Access",
    Reason.NO_PIN_SET: "No Hot Desk PIN set",
    Reason.LOCKED: "Locked after wrong PINs",
    Reason.LOGGED_OUT: "Logged out earlier: log in again at a desk",
    Reason.TOO_LATE: "The portal answered too late: the handset was told to try again",
    Reason.NO_OUTCOME: "No outcome came back: counted as a wrong PIN",
}


def attempts(install, **filters: object) -> QuerySet[RegistrationLogEntry]:
    """The install's log, one row per attempt, newest first, with `outcome_*` and `user_pk`
    annotations; `filters` as `LogFilterForm` cleans them."""
    same_attempt = RegistrationLogEntry.objects.filter(
        edge=OuterRef("edge"), attempt=OuterRef("attempt")
    ).exclude(attempt="")
    outcome = same_attempt.exclude(kind=EventKind.CHECK).order_by("pk")
    rows = (
        RegistrationLogEntry.objects.filter(install=install)
        .exclude(~Q(kind=EventKind.CHECK) & Exists(same_attempt.filter(kind=EventKind.CHECK)))
        .annotate(
            outcome_kind=Subquery(outcome.values("kind")[:1]),
            outcome_wrong_pins=Subquery(outcome.values("wrong_pins")[:1]),
            outcome_locked=Subquery(outcome.values("locked")[:1]),
            user_pk=Subquery(
                PbxUser.objects.filter(
                    install_id=OuterRef("install_id"), extension=OuterRef("extension")
                ).values("pk")[:1]
            ),
        )
    )
    return _filtered(rows, **filters).order_by("-created_at", "-pk")


def _filtered(rows: QuerySet[RegistrationLogEntry], **wanted: object) -> QuerySet:
    if wanted.get("extension"):
        rows = rows.filter(extension=wanted["extension"])
    if wanted.get("source_ip"):
        rows = rows.filter(source_ip=wanted["source_ip"])
    if wanted.get("reason"):
        rows = rows.filter(reason=wanted["reason"])
    since, until = wanted.get("since"), wanted.get("until")
    rows = within_days(
        rows,
        "created_at",
        since=since if isinstance(since, date) else None,
        until=until if isinstance(until, date) else None,
    )
    outcome = wanted.get("outcome")
    kind_is = {
        LOGGED_IN: EventKind.REGISTERED,
        LOGGED_OUT: EventKind.UNREGISTERED,
        WRONG_PIN: EventKind.AUTH_FAILED,
    }
    if outcome == DENIED:
        rows = rows.filter(kind=EventKind.CHECK, allowed=False)
    elif outcome in kind_is:
        kind = kind_is[str(outcome)]
        rows = rows.filter(Q(outcome_kind=kind) | Q(kind=kind))
    return rows


def words(row: RegistrationLogEntry) -> str:
    """What happened, for a person: "Logged in", "Wrong PIN, 2 of 5 before a lock", ..."""
    if row.kind == EventKind.CHECK and not row.allowed:
        template = _DENIED_WORDS.get(Reason(row.reason), row.get_reason_display())
        return template.format(ip=row.source_ip or "?")
    kind = getattr(row, "outcome_kind", None) if row.kind == EventKind.CHECK else row.kind
    if kind == EventKind.REGISTERED:
        return "Moved to another desk" if getattr(row, "moved", False) else "Logged in"
    if kind == EventKind.UNREGISTERED:
        return "Logged out"
    if kind == EventKind.AUTH_FAILED:
        if row.kind == EventKind.CHECK:
            return _wrong_pin(row.outcome_wrong_pins, row.outcome_locked)  # type: ignore[attr-defined]
        if row.reason == Reason.NO_OUTCOME:
            return _DENIED_WORDS[Reason.NO_OUTCOME]
        return _wrong_pin(row.wrong_pins, row.locked)
    if row.expires == 0:
        return "Logging out…"
    return "PIN accepted, binding unchanged (a refresh)"


def _wrong_pin(count: int | None, locked: bool | None) -> str:
    if locked:
        return "Wrong PIN: the user is now locked"
    if count:
        limit = settings.HOTDESK_LOCKOUT_SHORT_THRESHOLD
        return f"Wrong PIN, {count} of {limit} before a lock"
    return "Wrong PIN"


# A login that replaced the operator's session on another handset is reported within a second
# or two of its check; the window allows for a slow batch.
_MOVE_WINDOW = timedelta(seconds=10)


def mark_moves(rows: list[RegistrationLogEntry]) -> None:
    """Set `moved` on the rows of logins that moved their operator from another desk (the
    session there ended as "moved" when this login was recorded), in one query for the page.
    Each move belongs to the operator's latest login at or before it."""
    logins = [row for row in rows if words(row) == "Logged in"]
    if not logins or logins[0].install_id is None:
        return
    moves = HotDeskSession.objects.filter(
        install_id=logins[0].install_id,
        end_reason=SessionEnd.MOVED,
        ended_at__gte=min(row.created_at for row in logins),
        ended_at__lte=max(row.created_at for row in logins) + _MOVE_WINDOW,
    ).values_list("pbx_user__extension", "removed_extension", "ended_at")
    for extension, removed, at in moves:
        if at is None:
            continue
        before = [
            row
            for row in logins
            if row.extension == (extension or removed) and row.created_at <= at
        ]
        if before:
            latest = max(before, key=lambda row: row.created_at)
            if at - latest.created_at <= _MOVE_WINDOW:
                latest.moved = True  # type: ignore[attr-defined]


def tone(row: RegistrationLogEntry) -> str:
    """A Bootstrap colour for the row's outcome."""
    text = words(row)
    if text in ("Logged in", "Moved to another desk"):
        return "success"
    if text.startswith(("Logged out", "PIN accepted", "Logging out")):
        return "secondary"
    return "danger"


def advice(row: RegistrationLogEntry) -> str:
    """What an administrator can do about how this attempt ended."""
    text = words(row)
    if text.startswith("Wrong PIN: the user is now locked") or text.startswith("Locked"):
        return (
            "Unlock the user on the Users tab once you know the attempts were theirs, or set a "
            "new PIN (which also unlocks)."
        )
    if text.startswith("Wrong PIN"):
        return (
            "The handset sent a PIN that is not the user's. Ask the operator to log in again "
            "with the Hot Desking key; if the PIN is forgotten, set a new one on the user's page."
        )
    if text.startswith("Not from a trusted network"):
        return "Add the office's address range on the Trusted IPs tab, if this desk is yours."
    if text.startswith("Logged out earlier"):
        return "The operator logs in again at the desk with the Hot Desking key."
    if row.kind == EventKind.CHECK and not row.allowed:
        return EXPLANATIONS[Reason(row.reason)]
    return ""
