"""Guess permits: a wrong PIN is counted where the HA1 that lets the edge check it is given out.

A check that allows a REGISTER hands the edge the user's HA1, and with it one digest check: one
guess. So the allow also takes a permit (`take`), under the lock of the user's `Lockout` row,
and only while the user has a guess left counting the permits still open
(`policy.guesses_left`). The edge reports every allowed attempt's outcome: a wrong PIN
(counted by `lockouts.record_failure`, its permit then dropped by `release`), or a login,
log-out or "settled" line (`settle`). However many attempts run at once, from however many
addresses and portal processes, no more digests are checked than the lockout thresholds allow.

A permit never settled (the report was lost) counts as a wrong PIN after
`HOTDESK_GUESS_PERMIT_SECONDS`: a lost outcome is never a free guess.

`take` sits in every login. Its usual case is a conditional UPDATE of the user's lockout row,
whose `in_flight` column counts the open permits, and the permit's INSERT: one statement on
PostgreSQL (which re-checks the condition on the row's newest version when it had to wait for
the row lock, so parallel checks cannot overshoot), one write transaction on SQLite (which lets
one writer in at a time). Everything else (the first attempt of a user, a refusal, an overdue
permit, the same attempt asked again) takes the long way: a transaction that locks the row,
reads the permit rows and re-counts `in_flight` from them, so a count that drifted heals
itself.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import lockouts
from .dbtime import aware_utc
from .models import EventKind, GuessPermit, Lockout, RegistrationLogEntry
from .policy import LockFacts, Reason, guesses_left, lock_is_active


@dataclass(frozen=True)
class Attempt:
    """One REGISTER attempt as the edge names it: the transaction id it gave, and where from."""

    pbx_user_id: int
    install_id: int
    domain: str
    extension: str
    edge: str
    attempt: str
    source_ip: str


class _Counts(NamedTuple):
    """What a user's lockout row says about the guesses left."""

    consecutive_failures: int
    window_failures: int
    window_started_at: datetime | None
    locked_until: datetime | None
    locked_indefinitely: bool


class _Permit(NamedTuple):
    pbx_user_id: int | None
    edge: str
    attempt: str
    granted_at: datetime


class Grant(enum.Enum):
    GRANTED = "granted"  # one digest check may be made (or this attempt has its permit)
    REFUSED = "refused"  # no guess left, or locked
    TOO_LATE = "too_late"  # the edge settled this attempt already: it gave up on the portal


def take(*, attempt: Attempt, now: datetime | None = None) -> Grant:
    """Allow one more digest check for the user, or refuse it as a lock.

    Under the user's row lock: permits left open past the permit time are counted as wrong
    PINs first; then the check is refused when a lock is active or no guess is left counting
    the permits still open. The same attempt asking again (the edge's retry) gets its permit
    back without a second one; one the edge has settled already (it gave up on a slow portal
    and checks no digest for it) is too late, and takes nothing.
    """
    now = now or timezone.now()
    limits = lockouts.Thresholds.from_settings()
    if _take_at_once(attempt, now=now, limits=limits):
        return Grant.GRANTED
    with transaction.atomic():
        counts = _counts_locked(attempt.pbx_user_id)
        if counts is None:  # the user's first attempt (or another process's, at once)
            Lockout.objects.bulk_create(
                [Lockout(pbx_user_id=attempt.pbx_user_id)], ignore_conflicts=True
            )
            counts = _counts_locked(attempt.pbx_user_id)
            assert counts is not None, "the row was just made"
        rows = _permits(attempt)
        for row in rows:
            if row.edge == attempt.edge and row.attempt == attempt.attempt:
                return Grant.GRANTED if row.pbx_user_id is not None else Grant.TOO_LATE
        open_permits = [row for row in rows if row.pbx_user_id == attempt.pbx_user_id]
        overdue = [row for row in open_permits if now - row.granted_at >= limits.permit_timeout]
        if overdue:
            counts = _count_unsettled(overdue, attempt=attempt, now=now, limits=limits)
        in_flight = len(open_permits) - len(overdue)
        left = guesses_left(
            consecutive_failures=counts.consecutive_failures,
            window_failures=counts.window_failures,
            window_started_at=counts.window_started_at,
            in_flight=in_flight,
            limits=limits.guesses,
            now=now,
        )
        lock = LockFacts(locked_until=counts.locked_until, indefinite=counts.locked_indefinitely)
        granted = not lock_is_active(lock, now=now) and left > 0
        if granted:
            _insert_permit(attempt, now=now)
            in_flight += 1
        _set_in_flight(attempt.pbx_user_id, in_flight)
    return Grant.GRANTED if granted else Grant.REFUSED


def settle(*, edge: str, attempts: Iterable[str], now: datetime | None = None) -> None:
    """The outcomes of these attempts came back without a wrong PIN: their guesses are free.

    An attempt with no permit (yet) gets a marker, so that its check, should it still arrive
    (the edge gave up on a slow portal), takes no guess; old markers are dropped here. A fixed
    number of statements however many attempts: this runs in every report batch.
    """
    now = now or timezone.now()
    attempts = {a for a in attempts if a}
    if not attempts:
        return
    found = _delete_permits(edge, attempts)
    _release(Counter(user for _attempt, user in found))
    # Markers that exist already stay as they are (ignore_conflicts).
    unknown = attempts - {name for name, _user in found}
    if unknown:
        GuessPermit.objects.bulk_create(
            [
                GuessPermit(pbx_user=None, edge=edge, attempt=name, granted_at=now)
                for name in unknown
            ],
            ignore_conflicts=True,
        )
        timeout = lockouts.Thresholds.from_settings().permit_timeout
        GuessPermit.objects.filter(pbx_user__isnull=True, granted_at__lt=now - timeout).delete()


def release(*, edge: str, attempt: str) -> None:
    """Drop one attempt's permit, if it still has one: its wrong PIN has been counted."""
    _release(Counter(user for _attempt, user in _delete_permits(edge, {attempt})))


def _count_unsettled(
    overdue: list[_Permit], *, attempt: Attempt, now: datetime, limits: lockouts.Thresholds
) -> _Counts:
    """Count each overdue permit as a wrong PIN, logged as such, and drop it.

    The log entry takes the attempt's place: a late `auth_failed` report for it is then a
    duplicate, never a second count.
    """
    lockout = lockouts.locked_row(attempt.pbx_user_id)
    for _permit in overdue:
        lockouts.apply_failure(lockout, now=now, limits=limits)
    lockout.save(update_fields=lockouts.COUNTED_FIELDS)
    RegistrationLogEntry.objects.bulk_create(
        [
            RegistrationLogEntry(
                created_at=now,
                install_id=attempt.install_id,
                kind=EventKind.AUTH_FAILED,
                allowed=False,
                reason=Reason.NO_OUTCOME.value,
                domain=attempt.domain,
                extension=attempt.extension,
                edge=permit.edge,
                attempt=permit.attempt,
            )
            for permit in overdue
        ],
        ignore_conflicts=True,
    )
    for permit in overdue:
        GuessPermit.objects.filter(edge=permit.edge, attempt=permit.attempt).delete()
    return _counts_of(lockout)  # `take` sets in_flight from the rows left


# --- The usual case in plain SQL ------------------------------------------------------------
# Building and compiling the same querysets cost several times what running them does, on the
# path of every login (docs/performance.md). The SQL is plain enough for PostgreSQL and SQLite.


def _table(model) -> str:
    """The model's table, quoted: the only text put into this module's SQL (S608 below)."""
    return connection.ops.quote_name(model._meta.db_table)


def _take_at_once(attempt: Attempt, *, now: datetime, limits: lockouts.Thresholds) -> bool:
    """Take a permit with one conditional UPDATE and its INSERT, when nothing needs a closer look.

    The UPDATE's condition is `policy.guesses_left(...) > 0` and no active lock, written over
    the lockout row's columns (a test holds the two to the same answers); it also steps aside
    for an attempt that already has a row and for a user with an overdue permit. False: not
    taken here, for whatever reason; the long way decides.

    PostgreSQL runs both as one statement, which commits without waiting for its WAL to reach
    the disk (`relaxed`: a transaction-local setting, and in autocommit the statement is the
    transaction). A permit is a reservation for a few seconds; a crash of the database server
    could lose the last fraction of a second of them, and those attempts are still counted by
    their outcome reports, which do wait. SQLite runs them in one write transaction.
    """
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "user": attempt.pbx_user_id,
        "now": adapt(now),
        "hard": limits.hard_count,
        "short": limits.short_count,
        "window_opened_after": adapt(now - limits.short_window),
        "overdue": adapt(now - limits.permit_timeout),
        "edge": attempt.edge,
        "attempt": attempt.attempt,
        "ip": attempt.source_ip[:64],
    }
    lockout, permit = _table(Lockout), _table(GuessPermit)
    grant = f"""
        UPDATE {lockout} SET in_flight = in_flight + 1
        WHERE pbx_user_id = %(user)s
          AND NOT locked_indefinitely
          AND (locked_until IS NULL OR locked_until <= %(now)s)
          AND consecutive_failures + in_flight < %(hard)s
          AND in_flight + CASE WHEN window_started_at > %(window_opened_after)s
                               THEN window_failures ELSE 0 END < %(short)s
          AND NOT EXISTS (SELECT 1 FROM {permit} WHERE edge = %(edge)s AND attempt = %(attempt)s)
          AND NOT EXISTS (SELECT 1 FROM {permit}
                          WHERE pbx_user_id = %(user)s AND granted_at <= %(overdue)s)
        RETURNING pbx_user_id
    """  # noqa: S608
    columns = f"INSERT INTO {permit} (pbx_user_id, edge, attempt, source_ip, granted_at)"
    values = "%(edge)s, %(attempt)s, %(ip)s, %(now)s"
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                relaxed = "SELECT set_config('synchronous_commit', 'off', true)"
                cursor.execute(
                    f"WITH relaxed AS ({relaxed}), granted AS ({grant})"  # noqa: S608
                    f" {columns} SELECT pbx_user_id, {values} FROM granted, relaxed",
                    params,
                )
                return cursor.rowcount == 1
            with transaction.atomic():
                cursor.execute(grant, params)
                if cursor.fetchone() is None:
                    return False
                _insert_permit(attempt, now=now)
                return True
    except IntegrityError:  # the same attempt, at the same moment: the long way sorts it out
        return False


def _delete_permits(edge: str, attempts: set[str]) -> list[tuple[str, int]]:
    """Delete these attempts' permits (not markers); (attempt, user) of each one deleted.

    DELETE ... RETURNING: of two batches settling the same attempt at once, only one deletes
    it and gives its guess back.
    """
    names = sorted(attempts)
    placeholders = ", ".join(["%s"] * len(names))
    sql = (
        f"DELETE FROM {_table(GuessPermit)} WHERE edge = %s"  # noqa: S608
        f" AND attempt IN ({placeholders}) AND pbx_user_id IS NOT NULL"
        " RETURNING attempt, pbx_user_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [edge, *names])
        return [(name, user) for name, user in cursor.fetchall()]


def _release(counts: Counter) -> None:
    """Lower each user's `in_flight` by the permits of theirs just deleted, in one statement."""
    if not counts:
        return
    cases = " ".join(["WHEN %s THEN %s"] * len(counts))
    placeholders = ", ".join(["%s"] * len(counts))
    sql = (
        f"UPDATE {_table(Lockout)} SET in_flight = CASE"  # noqa: S608
        f" WHEN in_flight > (CASE pbx_user_id {cases} ELSE 0 END)"
        f" THEN in_flight - (CASE pbx_user_id {cases} ELSE 0 END) ELSE 0 END"
        f" WHERE pbx_user_id IN ({placeholders})"
    )
    pairs = [value for user, count in sorted(counts.items()) for value in (user, count)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pairs, *pairs, *sorted(counts)])


def _set_in_flight(pbx_user_id: int, in_flight: int) -> None:
    sql = f"UPDATE {_table(Lockout)} SET in_flight = %s WHERE pbx_user_id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [in_flight, pbx_user_id])


def _counts_locked(pbx_user_id: int) -> _Counts | None:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    columns = "consecutive_failures, window_failures, window_started_at, locked_until"
    sql = (
        f"SELECT {columns}, locked_indefinitely FROM {_table(Lockout)}"  # noqa: S608
        f" WHERE pbx_user_id = %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pbx_user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    consecutive, in_window, started, until, indefinite = row
    return _Counts(consecutive, in_window, aware_utc(started), aware_utc(until), bool(indefinite))


def _permits(attempt: Attempt) -> list[_Permit]:
    """The user's open permits, and whatever row this attempt already has (permit or marker)."""
    sql = (
        f"SELECT pbx_user_id, edge, attempt, granted_at FROM {_table(GuessPermit)}"  # noqa: S608
        " WHERE pbx_user_id = %s OR (edge = %s AND attempt = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [attempt.pbx_user_id, attempt.edge, attempt.attempt])
        rows = cursor.fetchall()
    return [_Permit(user, edge, name, aware_utc(granted)) for user, edge, name, granted in rows]


def _insert_permit(attempt: Attempt, *, now: datetime) -> None:
    sql = (
        f"INSERT INTO {_table(GuessPermit)} (pbx_user_id, edge, attempt, source_ip, granted_at)"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s)"
    )
    granted = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [attempt.pbx_user_id, attempt.edge, attempt.attempt, attempt.source_ip[:64], granted],
        )


def _counts_of(lockout: Lockout) -> _Counts:
    return _Counts(
        lockout.consecutive_failures,
        lockout.window_failures,
        lockout.window_started_at,
        lockout.locked_until,
        lockout.locked_indefinitely,
    )
