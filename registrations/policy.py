"""Decide whether a SIP REGISTER may pass.

Kamailio asks the portal about every REGISTER. This module holds the whole
answer as one pure function, :func:`decide`, so that the HTTP view and any
management command reach exactly the same verdict. It imports only the
standard library, reads no clock (``now`` is passed in) and does no I/O, so
its tests need neither Django nor a database.

The rules deny by default and run in this order; the first one that fails
decides the reason:

1. the SIP domain belongs to a known install          (``UNKNOWN_DOMAIN``)
2. the source is a single IP address                  (``MALFORMED_SOURCE``)
   inside one of that install's trusted networks      (``UNTRUSTED_SOURCE``)
3. the extension exists in that install               (``UNKNOWN_EXTENSION``)
4. the user has Hot Desk Access, unless this is a
   de-registration                                    (``NO_HOT_DESK_ACCESS``)
5. the user has a well-formed PIN HA1                 (``NO_PIN_SET``)
6. the user is not locked out                         (``LOCKED``)

Only then is the REGISTER allowed, and the decision carries the user's HA1 so
Kamailio can check the digest itself; the PIN never leaves the database.

The source check comes *before* anything about the user: from outside a
trusted network nobody learns whether an extension exists, has access or is
locked, and nobody can lock a user out. What goes on the wire is
:attr:`Reason.public`, which also says ``untrusted_source`` for an unknown
domain (no source is trusted for a domain nobody has), so an outsider gets the
same answer for every domain and extension; the log keeps the real reason.

How many wrong PINs may still be checked, counting those in flight, is
:func:`guesses_left`: the portal hands out an HA1 only while it is above zero.

Every function here returns an answer for malformed input instead of raising;
only :class:`Decision` raises, and only for a programming error.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from trustedips.matching import IPNetwork, is_trusted, normalise_source

__all__ = [
    "Decision",
    "GuessLimits",
    "LockFacts",
    "Reason",
    "UserFacts",
    "decide",
    "guesses_left",
    "lock_is_active",
]


# fullmatch, not match with "$": "$" would also accept a trailing newline.
_HA1_RE = re.compile(r"[0-9a-f]{32}")


class Reason(enum.StrEnum):
    """Why a REGISTER was allowed or denied; the value is what gets recorded."""

    OK = "ok"
    UNKNOWN_DOMAIN = "unknown_domain"
    UNKNOWN_EXTENSION = "unknown_extension"
    NO_HOT_DESK_ACCESS = "no_hot_desk_access"
    NO_PIN_SET = "no_pin_set"
    MALFORMED_SOURCE = "malformed_source"
    UNTRUSTED_SOURCE = "untrusted_source"
    LOCKED = "locked"
    # Never returned by decide(): the portal cannot see the digest. It is
    # recorded when Kamailio reports that a digest it checked has failed.
    WRONG_PIN = "wrong_pin"
    # Never returned by decide() either: an HA1 was handed out and no outcome came
    # back in time, so the attempt is counted as a wrong PIN (fail closed).
    NO_OUTCOME = "no_outcome"
    # Nor this: the check reached the portal after the edge had given up on it (a slow
    # portal) and answered the phone 503; nothing was handed out.
    TOO_LATE = "too_late"
    # The refresh of a login an administrator or a logout time ended: it stays ended; the
    # operator logs in again at a desk.
    LOGGED_OUT = "logged_out"

    @property
    def public(self) -> str:
        """The reason as the SIP edge may show it to the handset.

        An unknown domain reads as an untrusted source: no source is trusted for a
        domain nobody has, and an outsider must not learn which domains exist.
        """
        return Reason.UNTRUSTED_SOURCE.value if self is Reason.UNKNOWN_DOMAIN else self.value


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What the decision needs to know about one PBX user.

    ``pin_ha1`` is ``""`` when no PIN is set, otherwise 32 lower-case hex
    characters (see :func:`pin_ha1`).
    """

    extension: str
    hot_desk_access: bool
    pin_ha1: str
    # The Call-ID of a login that was ended for good (forced or timed logout), or "".
    logged_out_call_id: str = ""


@dataclass(frozen=True, slots=True)
class LockFacts:
    """A user's lockout state; see :func:`lock_is_active` for when it holds.

    ``locked_until`` is timezone-aware. ``indefinite`` means locked until an
    administrator unlocks, whatever ``locked_until`` says.
    """

    locked_until: datetime | None
    indefinite: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one REGISTER.

    Invariant: ``allow`` is ``True`` exactly when ``reason`` is ``Reason.OK``,
    and ``ha1`` is set only on an allow, so a denial can never leak a user's
    HA1. Breaking it raises ``ValueError``: that is a bug in the caller, not
    bad input.
    """

    allow: bool
    reason: Reason
    ha1: str | None = None

    def __post_init__(self) -> None:
        # Identity checks on purpose: a truthy 1 or the plain string "ok" must
        # not pass for an allow.
        if self.allow is not (self.reason is Reason.OK):
            raise ValueError(
                f"allow must be True exactly when reason is OK "
                f"(got allow={self.allow!r}, reason={self.reason!r})"
            )
        if self.ha1 is not None and not self.allow:
            raise ValueError("a denial must not carry an HA1")


def lock_is_active(lock: LockFacts | None, *, now: datetime) -> bool:
    """Whether ``lock`` still holds at ``now``.

    An indefinite lock always holds. A timed lock holds while
    ``now < locked_until``: at exactly ``locked_until`` it has expired. A lock
    whose expiry cannot be compared with ``now`` (a naive datetime, say) is
    treated as holding: when in doubt, stay locked.
    """
    if lock is None:
        return False
    if lock.indefinite:
        return True
    if lock.locked_until is None:
        return False
    try:
        return bool(now < lock.locked_until)
    except TypeError:
        # Naive vs aware, or not a datetime at all: fail closed.
        return True


def _is_well_formed_ha1(ha1: object) -> bool:
    """An HA1 is exactly 32 lower-case hex characters (an MD5 hex digest)."""
    return isinstance(ha1, str) and _HA1_RE.fullmatch(ha1) is not None


def decide(
    *,
    domain_known: bool,
    user: UserFacts | None,
    trusted_networks: Sequence[IPNetwork],
    lock: LockFacts | None,
    source_ip: str,
    now: datetime,
    deregistration: bool = False,
    call_id: str = "",
) -> Decision:
    """Decide whether one REGISTER may pass; see the module docstring.

    Checks run in a fixed order and the first failure is the reason. A
    de-registration (``Expires: 0``) skips only the Hot Desk Access check, so a
    handset can always log out after access is revoked; every other check
    still applies to it.
    """
    if not domain_known:
        return Decision(False, Reason.UNKNOWN_DOMAIN)
    # The source before anything about the user: an outsider learns nothing about who
    # exists, has access or is locked, and cannot lock anyone out.
    source = normalise_source(source_ip)
    if source is None:
        return Decision(False, Reason.MALFORMED_SOURCE)
    if not is_trusted(source, trusted_networks):
        return Decision(False, Reason.UNTRUSTED_SOURCE)
    if user is None:
        return Decision(False, Reason.UNKNOWN_EXTENSION)
    if not user.hot_desk_access and not deregistration:
        return Decision(False, Reason.NO_HOT_DESK_ACCESS)
    # A malformed HA1 could never match a digest; say so plainly rather than
    # hand Kamailio a value that would only surface later as a wrong PIN.
    if not _is_well_formed_ha1(user.pin_ha1):
        return Decision(False, Reason.NO_PIN_SET)
    if lock_is_active(lock, now=now):
        return Decision(False, Reason.LOCKED)
    # A logout that ended this very login sticks: the handset's refresh does not log the
    # operator back in. Checked before any digest, so a refresh with an old PIN after a new
    # one was set is no guess at the new PIN either.
    if call_id and call_id == user.logged_out_call_id and not deregistration:
        return Decision(False, Reason.LOGGED_OUT)
    return Decision(True, Reason.OK, ha1=user.pin_ha1)


@dataclass(frozen=True, slots=True)
class GuessLimits:
    """The lockout thresholds: a timed lock after ``short_count`` wrong PINs within
    ``short_window``; a lock until an administrator acts after ``hard_count`` in a row."""

    short_count: int
    short_window: timedelta
    hard_count: int


def guesses_left(
    *,
    consecutive_failures: int,
    window_failures: int,
    window_started_at: datetime | None,
    in_flight: int,
    limits: GuessLimits,
    now: datetime,
) -> int:
    """How many more digests may be checked before a threshold is reached.

    ``in_flight`` counts the checks already allowed whose outcome is not known yet:
    each of them may still turn out to be a wrong PIN, so each uses up a guess until
    it is settled. Zero or less means the next check must be refused as locked, so no
    number of parallel attempts ever has more digests checked than the thresholds
    allow. A window whose start cannot be compared with ``now`` counts as open.
    """
    window_open = window_started_at is not None
    if window_started_at is not None:
        try:
            window_open = bool(now - window_started_at < limits.short_window)
        except TypeError:
            window_open = True
    in_window = window_failures if window_open else 0
    return min(
        limits.hard_count - consecutive_failures,
        limits.short_count - in_window,
    ) - max(in_flight, 0)
