"""Wrong-PIN lockouts: counting failures and lifting locks.

The count lives in the database row of the user's `Lockout`, updated under a row lock inside
a transaction, so two failures reported at the same moment by two portal processes both count
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE transaction takes the write lock).
The same row lock guards the guesses in flight (`permits`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, record

from .models import Lockout
from .policy import GuessLimits, LockFacts


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


# What counting a failure changes; `in_flight` belongs to `permits`, which keeps it in step
# with the permit rows in statements of its own.
COUNTED_FIELDS = [
    "consecutive_failures",
    "window_failures",
    "window_started_at",
    "locked_until",
    "locked_indefinitely",
    "locked_at",
    "last_failure_at",
    "last_failure_ip",
]


def record_failure(*, pbx_user, source_ip: str, now: datetime | None = None) -> Lockout:
    """Count a wrong PIN reported by the SIP edge; safe under concurrent reports.

    Whether it is the attempt's first report is the caller's to know (the log's unique
    constraint): this counts every call.
    """
    now = now or timezone.now()
    limits = Thresholds.from_settings()
    with transaction.atomic():
        lockout = locked_row(pbx_user.pk)
        apply_failure(lockout, now=now, limits=limits)
        lockout.last_failure_ip = source_ip[:64]
        lockout.save(update_fields=COUNTED_FIELDS)
    return lockout


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


def locked_row(pbx_user_id: int) -> Lockout:
    """The user's `Lockout`, created if need be, locked until the transaction ends."""
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
