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
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

__all__ = [
    "Decision",
    "GuessLimits",
    "LockFacts",
    "Reason",
    "UserFacts",
    "decide",
    "guesses_left",
    "ha1_matches_pin",
    "is_trusted",
    "lock_is_active",
    "normalise_source",
    "pin_ha1",
]

# Python 3.11 has no "type" statement.
IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def normalise_source(address: str) -> IPAddress | None:
    """Return the single IP address in ``address``, or ``None``.

    Surrounding whitespace is stripped and ``[2001:db8::1]`` brackets are
    accepted around an IPv6 address (and only around one). An IPv4-mapped
    IPv6 address such as ``::ffff:192.0.2.7`` becomes the IPv4 address, so it
    is judged against IPv4 ranges: a dual-stack socket reports IPv4 peers that
    way.

    ``None`` for anything ambiguous: zone ids (``fe80::1%eth0``), leading-zero
    IPv4 octets (octal or decimal?), CIDR notation, ``host:port``, empty
    strings and anything that is not a ``str`` (the stdlib would turn an
    ``int`` into an address).
    """
    if not isinstance(address, str):
        return None
    text = address.strip()
    bracketed = text.startswith("[") and text.endswith("]")
    if bracketed:
        text = text[1:-1]
    # A zone id names an interface on the portal's host, not on the caller's;
    # it cannot be matched against a network, so refuse it rather than drop it.
    if not text or "%" in text:
        return None
    try:
        address_obj = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address_obj, ipaddress.IPv6Address):
        if address_obj.scope_id is not None:  # belt and braces for the "%" check
            return None
        if address_obj.ipv4_mapped is not None:
            return address_obj.ipv4_mapped
    elif bracketed:
        # Brackets are IPv6 literal syntax; "[192.0.2.7]" is not a form any
        # correct sender produces.
        return None
    return address_obj


def is_trusted(source: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``source`` lies inside any of ``networks``.

    ``source`` should come from :func:`normalise_source`. Only networks of the
    same IP version are compared, so a mixed list never raises; an IPv4-mapped
    IPv6 source is still matched against IPv4 networks. No networks at all
    means nothing is trusted.
    """
    if isinstance(source, ipaddress.IPv6Address) and source.ipv4_mapped is not None:
        source = source.ipv4_mapped
    return any(network.version == source.version and source in network for network in networks)


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
    if window_open:
        try:
            window_open = bool(now - window_started_at < limits.short_window)
        except TypeError:
            window_open = True
    in_window = window_failures if window_open else 0
    return min(
        limits.hard_count - consecutive_failures,
        limits.short_count - in_window,
    ) - max(in_flight, 0)


def pin_ha1(*, extension: str, domain: str, pin: str) -> str:
    """Return the SIP digest HA1 for a PIN: md5 of ``extension:domain:pin``.

    This is ``HA1 = MD5(username:realm:password)`` from RFC 2617/7616, which
    Kamailio checks digests against; the SIP domain is the realm. Pass the
    domain exactly as Kamailio uses it as the realm (the canonical, lower-case
    form), or every digest will fail.

    PINs are validated upstream; text with lone surrogates (which no SIP
    client can send) raises ``UnicodeEncodeError`` rather than being hashed
    into an HA1 nobody could ever match.
    """
    # MD5 is what the SIP digest scheme mandates, not a choice made here;
    # usedforsecurity=False keeps it available on FIPS-restricted builds.
    material = f"{extension}:{domain}:{pin}".encode()
    return hashlib.md5(material, usedforsecurity=False).hexdigest()


def ha1_matches_pin(*, ha1: str, extension: str, domain: str, pin: str) -> bool:
    """Whether ``pin`` is the PIN behind ``ha1``, compared in constant time.

    Returns ``False`` rather than raising for malformed input (a non-string,
    or text that cannot be encoded).
    """
    if not all(isinstance(value, str) for value in (ha1, extension, domain, pin)):
        return False
    try:
        expected = pin_ha1(extension=extension, domain=domain, pin=pin)
        # Compare bytes: compare_digest raises TypeError on non-ASCII str.
        return hmac.compare_digest(ha1.encode(), expected.encode())
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; no real PIN or HA1 contains them.
        return False
