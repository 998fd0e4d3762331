"""Wrong-PIN lockouts: counting failures, permitting guesses and lifting locks.

The count lives in the database row of the user's `Lockout`, updated under a row lock inside
a transaction, so two failures reported at the same moment by two portal processes both count
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE transaction takes the write lock).

The same row lock guards the permits (`GuessPermit`): the check that hands an edge a user's
HA1 takes one (`take_permit`) only while guesses are left counting the permits still open, and
the outcome report settles it (`record_failure`, `settle`). A guess is therefore counted where
it is allowed, before the digest is checked, and parallel attempts cannot overshoot a lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, record

from .models import EventKind, GuessPermit, Lockout, RegistrationLogEntry
from .policy import GuessLimits, LockFacts, Reason, guesses_left


@dataclass(frozen=True)
class Thresholds:
    short_count: int
    short_window: timedelta
    short_lock: timedelta
    hard_count: int
    # A permit whose outcome has not come back after this long counts as a wrong PIN.
    permit_timeout: timedelta = timedelta(seconds=60)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            short_count=settings.HOTDESK_LOCKOUT_SHORT_THRESHOLD,
            short_window=timedelta(seconds=settings.HOTDESK_LOCKOUT_SHORT_WINDOW_SECONDS),
            short_lock=timedelta(seconds=settings.HOTDESK_LOCKOUT_SHORT_SECONDS),
            hard_count=settings.HOTDESK_LOCKOUT_HARD_THRESHOLD,
            permit_timeout=timedelta(seconds=settings.HOTDESK_GUESS_PERMIT_SECONDS),
        )

    @property
    def guesses(self) -> GuessLimits:
        return GuessLimits(
            short_count=self.short_count, short_window=self.short_window, hard_count=self.hard_count
        )


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


def apply_failure(lockout: Lockout, *, now: datetime, limits: Thresholds) -> None:
    """Count one wrong PIN on `lockout` (unsaved) and lock it when a threshold is reached.

    Two runs are counted: wrong PINs since the last success (`consecutive_failures`, which
    leads to a lock only an administrator lifts) and wrong PINs within the short window
    (which lead to a timed lock).
    """
    window_open = (
        lockout.window_started_at is not None
        and now - lockout.window_started_at < limits.short_window
    )
    if window_open:
        lockout.window_failures += 1
    else:
        lockout.window_failures = 1
        lockout.window_started_at = now
    lockout.consecutive_failures += 1
    lockout.last_failure_at = now
    if lockout.consecutive_failures >= limits.hard_count:
        # "Locked since" is when the lock now in force began: a timed lock that has already
        # lapsed leaves its `locked_at` behind, and that is not when this lock started.
        if not lockout.is_active(now):
            lockout.locked_at = now
        lockout.locked_indefinitely = True
    elif lockout.window_failures >= limits.short_count:
        lockout.locked_until = now + limits.short_lock
        lockout.locked_at = now
        lockout.window_failures = 0
        lockout.window_started_at = None


def take_permit(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """Allow one more digest check for the user, or refuse it (False) as a lock.

    Under the user's row lock: permits left open past `permit_timeout` are counted as wrong
    PINs first (a lost outcome is never a free guess); then the check is refused when a lock is
    active or no guess is left counting the permits still open (`policy.guesses_left`). The
    same attempt asking again (the edge's retry) gets its permit back without a second one.
    """
    now = now or timezone.now()
    limits = Thresholds.from_settings()
    with transaction.atomic():
        lockout = _locked_row(attempt.pbx_user_id)
        rows = list(
            GuessPermit.objects.filter(
                Q(pbx_user_id=attempt.pbx_user_id) | Q(edge=attempt.edge, attempt=attempt.attempt)
            ).order_by("granted_at")
        )
        if any(p.edge == attempt.edge and p.attempt == attempt.attempt for p in rows):
            # Asked again (the edge's retry), or settled already: the edge gave up on this
            # attempt before its check got here, and will check no digest for it.
            return True
        permits = [p for p in rows if p.pbx_user_id == attempt.pbx_user_id]
        overdue = [p for p in permits if now - p.granted_at >= limits.permit_timeout]
        if overdue:
            _count_unsettled(lockout, overdue, attempt=attempt, now=now, limits=limits)
        left = guesses_left(
            consecutive_failures=lockout.consecutive_failures,
            window_failures=lockout.window_failures,
            window_started_at=lockout.window_started_at,
            in_flight=len(permits) - len(overdue),
            limits=limits.guesses,
            now=now,
        )
        if lockout.is_active(now) or left <= 0:
            return False
        GuessPermit.objects.create(
            pbx_user_id=attempt.pbx_user_id,
            edge=attempt.edge,
            attempt=attempt.attempt,
            source_ip=attempt.source_ip[:64],
            granted_at=now,
        )
    return True


def record_failure(
    *, pbx_user, source_ip: str, now: datetime | None = None, edge: str = "", attempt: str = ""
) -> Lockout:
    """Count a wrong PIN reported by the SIP edge and settle its permit.

    Safe under concurrent reports. Whether it is the attempt's first report is the caller's
    to know (the log's unique constraint): this counts every call.
    """
    now = now or timezone.now()
    limits = Thresholds.from_settings()
    with transaction.atomic():
        lockout = _locked_row(pbx_user.pk)
        if attempt:
            GuessPermit.objects.filter(edge=edge, attempt=attempt).delete()
        apply_failure(lockout, now=now, limits=limits)
        lockout.last_failure_ip = source_ip[:64]
        lockout.save()
    return lockout


def settle(*, edge: str, attempts: Iterable[str], now: datetime | None = None) -> None:
    """The outcomes of these attempts came back without a wrong PIN: their guesses are free.

    An attempt with no permit (yet) gets a marker, so that its check, should it still arrive
    (the edge gave up on a slow portal), takes no guess; old markers are dropped here.
    """
    now = now or timezone.now()
    attempts = {a for a in attempts if a}
    if not attempts:
        return
    permits = GuessPermit.objects.filter(edge=edge, attempt__in=attempts)
    found = set(permits.values_list("attempt", flat=True))
    permits.filter(pbx_user__isnull=False).delete()
    if attempts - found:
        GuessPermit.objects.bulk_create(
            [
                GuessPermit(pbx_user=None, edge=edge, attempt=attempt, granted_at=now)
                for attempt in attempts - found
            ],
            ignore_conflicts=True,
        )
        timeout = Thresholds.from_settings().permit_timeout
        GuessPermit.objects.filter(pbx_user__isnull=True, granted_at__lt=now - timeout).delete()


def _count_unsettled(
    lockout: Lockout,
    overdue: list[GuessPermit],
    *,
    attempt: Attempt,
    now: datetime,
    limits: Thresholds,
) -> None:
    """Count each overdue permit as a wrong PIN, logged as such, and drop it.

    The log entry takes the attempt's place: a late `auth_failed` report for it is then a
    duplicate, never a second count.
    """
    for permit in overdue:
        apply_failure(lockout, now=now, limits=limits)
        lockout.last_failure_ip = permit.source_ip
    lockout.save()
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
                source_ip=permit.source_ip,
                edge=permit.edge,
                attempt=permit.attempt,
            )
            for permit in overdue
        ],
        ignore_conflicts=True,
    )
    GuessPermit.objects.filter(pk__in=[p.pk for p in overdue]).delete()


def record_successes(pbx_user_ids: Iterable[int]) -> None:
    """A right PIN ends each user's run of wrong ones (but not an active lock)."""
    Lockout.objects.filter(pbx_user_id__in=pbx_user_ids, consecutive_failures__gt=0).update(
        consecutive_failures=0, window_failures=0, window_started_at=None
    )


def reset(*, pbx_user) -> None:
    """Forget every failure and lift any lock (new PIN or administrator unlock)."""
    Lockout.objects.filter(pbx_user=pbx_user).update(
        consecutive_failures=0,
        window_failures=0,
        window_started_at=None,
        locked_until=None,
        locked_indefinitely=False,
        locked_at=None,
    )


def unlock(*, pbx_user, actor: Actor) -> None:
    with transaction.atomic():
        reset(pbx_user=pbx_user)
        record(actor=actor, action=Action.USER_UNLOCKED, install=pbx_user.install, obj=pbx_user)


def facts(lockout: Lockout | None) -> LockFacts | None:
    if lockout is None:
        return None
    return LockFacts(locked_until=lockout.locked_until, indefinite=lockout.locked_indefinitely)


def _locked_row(pbx_user_id: int) -> Lockout:
    for _ in range(2):
        try:
            return Lockout.objects.select_for_update().get(pbx_user_id=pbx_user_id)
        except Lockout.DoesNotExist:
            try:
                with transaction.atomic():
                    return Lockout.objects.create(pbx_user_id=pbx_user_id)
            except IntegrityError:
                # Another process created it between our read and our insert: lock theirs.
                continue
    return Lockout.objects.select_for_update().get(pbx_user_id=pbx_user_id)
