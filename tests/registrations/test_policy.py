"""Tests for the pure REGISTER decision in ``registrations.policy``.

No Django and no database: every fact the decision needs is passed in.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registrations.policy import (
    Decision,
    GuessLimits,
    LockFacts,
    Reason,
    UserFacts,
    decide,
    guesses_left,
    lock_is_active,
)
from trustedips.matching import is_trusted, normalise_source
from users.digest import ha1_matches_pin, pin_ha1

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)

# Independent of the module under test: a literal digest input hashed here.
HA1 = hashlib.md5(b"201:pbx.example.com:4321").hexdigest()

USER = UserFacts(extension="201", hot_desk_access=True, pin_ha1=HA1)
REVOKED_USER = UserFacts(extension="201", hot_desk_access=False, pin_ha1=HA1)
USER_WITHOUT_PIN = UserFacts(extension="201", hot_desk_access=True, pin_ha1="")
# Logged out by an administrator from the login with this Call-ID.
LOGGED_OUT_CALL_ID = "a84b4c76e66710@203.0.113.7"
LOGGED_OUT_USER = UserFacts(
    extension="201", hot_desk_access=True, pin_ha1=HA1, logged_out_call_id=LOGGED_OUT_CALL_ID
)

TRUSTED = (
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("198.51.100.7/32"),
    # A /48 inside 2001:db8::/32, so its neighbours are documentation
    # addresses too (the /48 at 2001:db8:: would have 2001:db7:... before it).
    ipaddress.ip_network("2001:db8:1::/48"),
)

TRUSTED_SOURCE = "203.0.113.7"
UNTRUSTED_SOURCE = "192.0.2.7"

LOCKED_FOR_AN_HOUR = LockFacts(locked_until=NOW + timedelta(hours=1), indefinite=False)
LOCKED_INDEFINITELY = LockFacts(locked_until=None, indefinite=True)


def _decide(**overrides: Any) -> Decision:
    """decide() with facts that allow, changed only where a row says so."""
    facts: dict[str, Any] = {
        "domain_known": True,
        "user": USER,
        "trusted_networks": TRUSTED,
        "lock": None,
        "source_ip": TRUSTED_SOURCE,
        "now": NOW,
        "deregistration": False,
    }
    facts.update(overrides)
    return decide(**facts)


def _assert_invariant(decision: Decision, user: UserFacts | None) -> None:
    """Deny means no HA1; allow means exactly the user's HA1."""
    if decision.allow:
        assert decision.reason is Reason.OK
        assert user is not None
        assert decision.ha1 == user.pin_ha1
    else:
        assert decision.reason is not Reason.OK
        assert decision.ha1 is None


def _row(row_id: str, expected: Reason, **overrides: Any) -> pytest.ParameterSet:
    return pytest.param(overrides, expected, id=row_id)


REASON_ROWS = [
    _row("allowed", Reason.OK),
    _row("unknown-domain", Reason.UNKNOWN_DOMAIN, domain_known=False),
    _row("unknown-extension", Reason.UNKNOWN_EXTENSION, user=None),
    _row("no-hot-desk-access", Reason.NO_HOT_DESK_ACCESS, user=REVOKED_USER),
    _row("no-pin-set", Reason.NO_PIN_SET, user=USER_WITHOUT_PIN),
    _row("malformed-source", Reason.MALFORMED_SOURCE, source_ip="abc"),
    _row("untrusted-source", Reason.UNTRUSTED_SOURCE, source_ip=UNTRUSTED_SOURCE),
    _row("locked", Reason.LOCKED, lock=LOCKED_FOR_AN_HOUR),
    _row("logged-out", Reason.LOGGED_OUT, user=LOGGED_OUT_USER, call_id=LOGGED_OUT_CALL_ID),
]

PRECEDENCE_ROWS = [
    _row(
        "unknown-domain-beats-unknown-extension",
        Reason.UNKNOWN_DOMAIN,
        domain_known=False,
        user=None,
    ),
    _row(
        "unknown-domain-beats-everything",
        Reason.UNKNOWN_DOMAIN,
        domain_known=False,
        user=None,
        source_ip="abc",
        trusted_networks=(),
        lock=LOCKED_INDEFINITELY,
    ),
    _row(
        "untrusted-source-beats-unknown-extension",
        Reason.UNTRUSTED_SOURCE,
        user=None,
        source_ip=UNTRUSTED_SOURCE,
    ),
    _row(
        "malformed-source-beats-unknown-extension",
        Reason.MALFORMED_SOURCE,
        user=None,
        source_ip="abc",
    ),
    _row(
        "no-hot-desk-access-beats-no-pin",
        Reason.NO_HOT_DESK_ACCESS,
        user=UserFacts(extension="201", hot_desk_access=False, pin_ha1=""),
    ),
    _row(
        "untrusted-source-beats-no-hot-desk-access",
        Reason.UNTRUSTED_SOURCE,
        user=REVOKED_USER,
        source_ip=UNTRUSTED_SOURCE,
    ),
    _row(
        "malformed-source-beats-no-pin",
        Reason.MALFORMED_SOURCE,
        user=USER_WITHOUT_PIN,
        source_ip="abc",
    ),
    _row(
        "no-pin-beats-locked",
        Reason.NO_PIN_SET,
        user=USER_WITHOUT_PIN,
        lock=LOCKED_INDEFINITELY,
    ),
    _row(
        "malformed-source-beats-no-trusted-networks",
        Reason.MALFORMED_SOURCE,
        source_ip="abc",
        trusted_networks=(),
    ),
    _row(
        "malformed-source-beats-locked",
        Reason.MALFORMED_SOURCE,
        source_ip="abc",
        lock=LOCKED_INDEFINITELY,
    ),
    _row(
        "untrusted-source-beats-locked",
        Reason.UNTRUSTED_SOURCE,
        source_ip=UNTRUSTED_SOURCE,
        lock=LOCKED_FOR_AN_HOUR,
    ),
    _row(
        "untrusted-source-beats-indefinite-lock",
        Reason.UNTRUSTED_SOURCE,
        source_ip=UNTRUSTED_SOURCE,
        lock=LOCKED_INDEFINITELY,
    ),
]

# 203.0.113.0/24, 198.51.100.7/32 and 2001:db8:1::/48 are trusted. The
# neighbours of 203.0.113.0/24 are outside the documentation range by
# necessity; they are only ever parsed here.
RANGE_ROWS = [
    _row("ipv4-first-address", Reason.OK, source_ip="203.0.113.0"),
    _row("ipv4-last-address", Reason.OK, source_ip="203.0.113.255"),
    _row("ipv4-one-past-last", Reason.UNTRUSTED_SOURCE, source_ip="203.0.114.0"),
    _row("ipv4-one-before-first", Reason.UNTRUSTED_SOURCE, source_ip="203.0.112.255"),
    _row("ipv4-slash-32-itself", Reason.OK, source_ip="198.51.100.7"),
    _row("ipv4-slash-32-one-before", Reason.UNTRUSTED_SOURCE, source_ip="198.51.100.6"),
    _row("ipv4-slash-32-one-after", Reason.UNTRUSTED_SOURCE, source_ip="198.51.100.8"),
    _row("ipv6-first-address", Reason.OK, source_ip="2001:db8:1::"),
    _row(
        "ipv6-last-address",
        Reason.OK,
        source_ip="2001:db8:1:ffff:ffff:ffff:ffff:ffff",
    ),
    _row("ipv6-one-past-last", Reason.UNTRUSTED_SOURCE, source_ip="2001:db8:2::"),
    _row(
        "ipv6-one-before-first",
        Reason.UNTRUSTED_SOURCE,
        source_ip="2001:db8:0:ffff:ffff:ffff:ffff:ffff",
    ),
    _row("ipv6-bracketed", Reason.OK, source_ip="[2001:db8:1::7]"),
    _row("ipv6-upper-case", Reason.OK, source_ip="2001:DB8:1::A"),
    _row("ipv4-mapped-ipv6-inside", Reason.OK, source_ip="::ffff:203.0.113.7"),
    _row("ipv4-mapped-ipv6-hex-form", Reason.OK, source_ip="::ffff:cb00:7107"),
    _row("ipv4-mapped-ipv6-bracketed", Reason.OK, source_ip="[::ffff:203.0.113.7]"),
    _row(
        "ipv4-mapped-ipv6-outside",
        Reason.UNTRUSTED_SOURCE,
        source_ip="::ffff:192.0.2.7",
    ),
    _row("surrounding-whitespace", Reason.OK, source_ip=" \t203.0.113.7\n"),
    _row(
        "ipv6-source-with-only-ipv4-networks",
        Reason.UNTRUSTED_SOURCE,
        source_ip="2001:db8:1::7",
        trusted_networks=(ipaddress.ip_network("203.0.113.0/24"),),
    ),
    _row(
        "ipv4-source-with-only-ipv6-networks",
        Reason.UNTRUSTED_SOURCE,
        trusted_networks=(ipaddress.ip_network("2001:db8:1::/48"),),
    ),
    _row("no-trusted-networks", Reason.UNTRUSTED_SOURCE, trusted_networks=()),
]

MALFORMED_SOURCES = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("abc", id="word"),
    pytest.param("999.1.1.1", id="octet-out-of-range"),
    pytest.param("203.0.113.07", id="leading-zero-octet"),
    pytest.param("203.0.113.0/24", id="ipv4-cidr"),
    pytest.param("2001:db8:1::7/128", id="ipv6-cidr"),
    pytest.param("fe80::1%eth0", id="zone-id"),
    pytest.param("[fe80::1%eth0]", id="bracketed-zone-id"),
    pytest.param("::ffff:203.0.113.7%1", id="mapped-with-zone-id"),
    pytest.param("203.0.113", id="three-octets"),
    pytest.param("203.0.113.7:5060", id="host-and-port"),
    pytest.param("[2001:db8:1::7]:5060", id="ipv6-host-and-port"),
    pytest.param("[203.0.113.7]", id="bracketed-ipv4"),
    pytest.param("[2001:db8:1::7", id="unbalanced-bracket"),
    pytest.param("[[2001:db8:1::7]]", id="double-brackets"),
    pytest.param("[ 2001:db8:1::7 ]", id="space-inside-brackets"),
    pytest.param("203.0.113.7, 198.51.100.7", id="two-addresses"),
    pytest.param("203.0.113.7 198.51.100.7", id="two-addresses-space"),
    pytest.param("\u0662\u0660\u0663.0.113.7", id="non-ascii-digits"),
    pytest.param("203.0.113.7\x00", id="nul-byte"),
    pytest.param("None", id="none-as-text"),
    pytest.param("null", id="null-as-text"),
    pytest.param(None, id="none"),
    pytest.param(3405803783, id="int-that-stdlib-would-accept"),
    pytest.param(b"203.0.113.7", id="bytes"),
    pytest.param(["203.0.113.7"], id="list"),
    pytest.param(ipaddress.ip_address("203.0.113.7"), id="address-object"),
]

LOCK_ROWS = [
    _row("no-lock", Reason.OK, lock=None),
    _row(
        "timed-lock-expiring-exactly-now",
        Reason.OK,
        lock=LockFacts(locked_until=NOW, indefinite=False),
    ),
    _row(
        "timed-lock-expiring-one-microsecond-after-now",
        Reason.LOCKED,
        lock=LockFacts(locked_until=NOW + ONE_MICROSECOND, indefinite=False),
    ),
    _row(
        "timed-lock-expired-in-the-past",
        Reason.OK,
        lock=LockFacts(locked_until=NOW - timedelta(days=1), indefinite=False),
    ),
    _row(
        "timed-lock-expiring-now-in-another-timezone",
        Reason.OK,
        lock=LockFacts(
            locked_until=NOW.astimezone(timezone(timedelta(hours=2))),
            indefinite=False,
        ),
    ),
    _row("indefinite-lock", Reason.LOCKED, lock=LOCKED_INDEFINITELY),
    _row(
        "indefinite-lock-with-past-expiry",
        Reason.LOCKED,
        lock=LockFacts(locked_until=NOW - timedelta(days=1), indefinite=True),
    ),
    _row(
        "lock-row-without-expiry-or-indefinite",
        Reason.OK,
        lock=LockFacts(locked_until=None, indefinite=False),
    ),
    _row(
        "naive-expiry-fails-closed",
        Reason.LOCKED,
        lock=LockFacts(locked_until=datetime(2000, 1, 1), indefinite=False),
    ),
]

DEREGISTRATION_ROWS = [
    _row(
        "revoked-user-deregistration-allowed",
        Reason.OK,
        user=REVOKED_USER,
        deregistration=True,
    ),
    _row(
        "revoked-user-registration-denied",
        Reason.NO_HOT_DESK_ACCESS,
        user=REVOKED_USER,
        deregistration=False,
    ),
    _row(
        "revoked-user-deregistration-from-untrusted-source",
        Reason.UNTRUSTED_SOURCE,
        user=REVOKED_USER,
        deregistration=True,
        source_ip=UNTRUSTED_SOURCE,
    ),
    _row(
        "revoked-user-deregistration-without-pin",
        Reason.NO_PIN_SET,
        user=UserFacts(extension="201", hot_desk_access=False, pin_ha1=""),
        deregistration=True,
    ),
    _row(
        "revoked-user-deregistration-while-locked",
        Reason.LOCKED,
        user=REVOKED_USER,
        deregistration=True,
        lock=LOCKED_FOR_AN_HOUR,
    ),
    _row(
        "deregistration-of-unknown-extension",
        Reason.UNKNOWN_EXTENSION,
        user=None,
        deregistration=True,
    ),
    _row("active-user-deregistration-allowed", Reason.OK, deregistration=True),
]


def _user_with_ha1(ha1: Any) -> UserFacts:
    return UserFacts(extension="201", hot_desk_access=True, pin_ha1=ha1)


MALFORMED_HA1_ROWS = [
    _row("empty", Reason.NO_PIN_SET, user=_user_with_ha1("")),
    _row("upper-case", Reason.NO_PIN_SET, user=_user_with_ha1(HA1.upper())),
    _row("31-chars", Reason.NO_PIN_SET, user=_user_with_ha1(HA1[:31])),
    _row("33-chars", Reason.NO_PIN_SET, user=_user_with_ha1(HA1 + "0")),
    _row("non-hex", Reason.NO_PIN_SET, user=_user_with_ha1("g" + HA1[1:])),
    _row("trailing-newline", Reason.NO_PIN_SET, user=_user_with_ha1(HA1 + "\n")),
    _row("padded", Reason.NO_PIN_SET, user=_user_with_ha1(f" {HA1} ")),
    _row("plain-pin", Reason.NO_PIN_SET, user=_user_with_ha1("4321")),
    _row("none", Reason.NO_PIN_SET, user=_user_with_ha1(None)),
    _row(
        "non-ascii-hex-lookalikes",
        Reason.NO_PIN_SET,
        user=_user_with_ha1("\uff10" * 32),  # fullwidth digit zero
    ),
]


def _row_user(overrides: dict[str, Any]) -> UserFacts | None:
    return overrides.get("user", USER)


def _check(overrides: dict[str, Any], expected: Reason) -> None:
    decision = _decide(**overrides)
    assert decision.reason is expected
    assert decision.allow is (expected is Reason.OK)
    _assert_invariant(decision, _row_user(overrides))


@pytest.mark.parametrize(("overrides", "expected"), REASON_ROWS)
def test_each_rule_denies_with_its_own_reason(overrides: dict[str, Any], expected: Reason) -> None:
    _check(overrides, expected)


@pytest.mark.parametrize(
    ("call_id", "deregistration"),
    [("a-new-login@203.0.113.7", False), ("", False), (LOGGED_OUT_CALL_ID, True)],
)
def test_a_logout_sticks_only_to_the_login_it_ended(call_id: str, deregistration: bool) -> None:
    # Another login (another Call-ID), a check without one (Explain), and the handset's own
    # log-out (Expires: 0) of the ended login are all decided as before.
    decision = _decide(user=LOGGED_OUT_USER, call_id=call_id, deregistration=deregistration)

    assert decision.allow


def test_every_reason_but_the_reported_ones_is_reachable_from_decide() -> None:
    reached = {row.values[1] for row in REASON_ROWS}
    assert reached == set(Reason) - {Reason.WRONG_PIN, Reason.NO_OUTCOME, Reason.TOO_LATE}


@pytest.mark.parametrize("extension_known", [True, False])
@pytest.mark.parametrize("domain_known", [True, False])
def test_an_untrusted_source_gets_one_answer_whoever_it_asks_about(
    domain_known: bool, extension_known: bool
) -> None:
    # Nothing about the user may show on the wire before the source is trusted.
    decision = _decide(
        domain_known=domain_known,
        user=USER if extension_known else None,
        trusted_networks=TRUSTED if domain_known else (),
        source_ip=UNTRUSTED_SOURCE,
    )

    assert decision.reason.public == "untrusted_source"


def test_only_an_unknown_domain_is_disguised_on_the_wire() -> None:
    disguised = {reason for reason in Reason if reason.public != reason.value}
    assert disguised == {Reason.UNKNOWN_DOMAIN}


LIMITS = GuessLimits(short_count=5, short_window=timedelta(minutes=15), hard_count=10)


@pytest.mark.parametrize(
    ("consecutive", "in_window", "window_age", "in_flight", "left"),
    [
        (0, 0, None, 0, 5),
        (0, 0, None, 4, 1),
        (0, 0, None, 5, 0),
        (3, 3, timedelta(minutes=1), 1, 1),
        (3, 3, timedelta(minutes=1), 2, 0),
        # A window of 15 minutes or more has closed: its failures no longer use up guesses.
        (3, 3, timedelta(minutes=15), 0, 5),
        # After a timed lock the window starts again, but the run towards 10 goes on.
        (7, 0, None, 0, 3),
        (9, 1, timedelta(minutes=1), 0, 1),
        (9, 1, timedelta(minutes=1), 1, 0),
        (10, 0, None, 0, 0),
    ],
)
def test_guesses_left_counts_failures_and_the_guesses_in_flight(
    consecutive: int, in_window: int, window_age: timedelta | None, in_flight: int, left: int
) -> None:
    assert (
        guesses_left(
            consecutive_failures=consecutive,
            window_failures=in_window,
            window_started_at=None if window_age is None else NOW - window_age,
            in_flight=in_flight,
            limits=LIMITS,
            now=NOW,
        )
        == left
    )


def test_a_window_that_cannot_be_compared_with_now_counts_as_open() -> None:
    naive = datetime(2024, 1, 1, 9, 0)
    assert (
        guesses_left(
            consecutive_failures=4,
            window_failures=4,
            window_started_at=naive,
            in_flight=0,
            limits=LIMITS,
            now=NOW,
        )
        == 1
    )


@pytest.mark.parametrize(("overrides", "expected"), PRECEDENCE_ROWS)
def test_earlier_rule_wins_when_several_fail(overrides: dict[str, Any], expected: Reason) -> None:
    _check(overrides, expected)


@pytest.mark.parametrize(("overrides", "expected"), RANGE_ROWS)
def test_source_is_trusted_only_inside_trusted_ranges(
    overrides: dict[str, Any], expected: Reason
) -> None:
    _check(overrides, expected)


@pytest.mark.parametrize("source_ip", MALFORMED_SOURCES)
def test_malformed_source_is_denied_as_malformed(source_ip: Any) -> None:
    _check({"source_ip": source_ip}, Reason.MALFORMED_SOURCE)


@pytest.mark.parametrize("source_ip", MALFORMED_SOURCES)
def test_malformed_source_does_not_normalise(source_ip: Any) -> None:
    assert normalise_source(source_ip) is None


@pytest.mark.parametrize(("overrides", "expected"), LOCK_ROWS)
def test_lock_holds_until_its_expiry_and_indefinite_lock_always_holds(
    overrides: dict[str, Any], expected: Reason
) -> None:
    _check(overrides, expected)


@pytest.mark.parametrize(("overrides", "expected"), DEREGISTRATION_ROWS)
def test_deregistration_skips_only_the_hot_desk_access_check(
    overrides: dict[str, Any], expected: Reason
) -> None:
    _check(overrides, expected)


@pytest.mark.parametrize(("overrides", "expected"), MALFORMED_HA1_ROWS)
def test_malformed_ha1_is_treated_as_no_pin_set(
    overrides: dict[str, Any], expected: Reason
) -> None:
    _check(overrides, expected)


def test_source_outside_trusted_ranges_is_denied() -> None:
    decision = _decide(source_ip=UNTRUSTED_SOURCE)
    assert decision == Decision(False, Reason.UNTRUSTED_SOURCE)


def test_allowed_decision_carries_the_users_ha1() -> None:
    assert _decide() == Decision(True, Reason.OK, ha1=HA1)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("203.0.113.7", ipaddress.IPv4Address("203.0.113.7"), id="ipv4"),
        pytest.param("  2001:db8:1::7 ", ipaddress.IPv6Address("2001:db8:1::7"), id="ipv6"),
        pytest.param("[2001:db8:1::7]", ipaddress.IPv6Address("2001:db8:1::7"), id="brackets"),
        pytest.param(
            "::ffff:203.0.113.7",
            ipaddress.IPv4Address("203.0.113.7"),
            id="ipv4-mapped-becomes-ipv4",
        ),
    ],
)
def test_normalise_source_returns_the_canonical_address(
    address: str, expected: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> None:
    result = normalise_source(address)
    assert result == expected
    assert type(result) is type(expected)


def test_is_trusted_ignores_networks_of_the_other_ip_version() -> None:
    mixed = [
        ipaddress.ip_network("2001:db8:1::/48"),
        ipaddress.ip_network("203.0.113.0/24"),
    ]
    assert is_trusted(ipaddress.IPv4Address("203.0.113.7"), mixed)
    assert is_trusted(ipaddress.IPv6Address("2001:db8:1::7"), mixed)
    assert not is_trusted(ipaddress.IPv4Address("192.0.2.7"), mixed)
    assert not is_trusted(ipaddress.IPv6Address("2001:db8:2::7"), mixed)


def test_is_trusted_matches_an_unnormalised_ipv4_mapped_source() -> None:
    source = ipaddress.IPv6Address("::ffff:203.0.113.7")
    assert is_trusted(source, [ipaddress.ip_network("203.0.113.0/24")])


def test_is_trusted_with_no_networks_trusts_nothing() -> None:
    assert not is_trusted(ipaddress.IPv4Address("203.0.113.7"), [])


@pytest.mark.parametrize(
    ("lock", "now", "expected"),
    [
        pytest.param(None, NOW, False, id="no-lock"),
        pytest.param(LockFacts(locked_until=NOW, indefinite=False), NOW, False, id="at-expiry"),
        pytest.param(
            LockFacts(locked_until=NOW, indefinite=False),
            NOW - ONE_MICROSECOND,
            True,
            id="one-microsecond-before-expiry",
        ),
        pytest.param(LOCKED_INDEFINITELY, NOW, True, id="indefinite"),
        pytest.param(
            LockFacts(locked_until=NOW, indefinite=False),
            datetime(2024, 5, 1, 12, 0),
            True,
            id="naive-now-fails-closed",
        ),
    ],
)
def test_lock_is_active_until_exactly_its_expiry(
    lock: LockFacts | None, now: datetime, expected: bool
) -> None:
    assert lock_is_active(lock, now=now) is expected


@pytest.mark.parametrize(
    ("allow", "reason", "ha1"),
    [
        pytest.param(True, Reason.LOCKED, None, id="allow-with-deny-reason"),
        pytest.param(False, Reason.OK, None, id="deny-with-ok-reason"),
        pytest.param(False, Reason.LOCKED, HA1, id="deny-carrying-ha1"),
        pytest.param(True, "ok", HA1, id="allow-with-plain-string-reason"),
        pytest.param(1, Reason.OK, HA1, id="allow-that-is-not-a-bool"),
    ],
)
def test_decision_refuses_to_break_its_invariant(allow: Any, reason: Any, ha1: str | None) -> None:
    with pytest.raises(ValueError):
        Decision(allow, reason, ha1=ha1)


def test_pin_ha1_is_md5_of_extension_domain_and_pin() -> None:
    expected = hashlib.md5(b"201:pbx.example.com:4321").hexdigest()
    assert pin_ha1(extension="201", domain="pbx.example.com", pin="4321") == expected


def test_ha1_matches_pin_accepts_the_right_pin() -> None:
    assert ha1_matches_pin(ha1=HA1, extension="201", domain="pbx.example.com", pin="4321")


@pytest.mark.parametrize(
    ("ha1", "extension", "domain", "pin"),
    [
        pytest.param(HA1, "201", "pbx.example.com", "4322", id="wrong-pin"),
        pytest.param(HA1, "202", "pbx.example.com", "4321", id="other-extension"),
        pytest.param(HA1, "201", "other.example.com", "4321", id="other-domain"),
        pytest.param(HA1.upper(), "201", "pbx.example.com", "4321", id="upper-case-ha1"),
        pytest.param("", "201", "pbx.example.com", "4321", id="empty-ha1"),
        pytest.param("\u00e9" * 32, "201", "pbx.example.com", "4321", id="non-ascii"),
        pytest.param(HA1, "201", "pbx.example.com", "\ud800", id="lone-surrogate"),
        pytest.param(None, "201", "pbx.example.com", "4321", id="none-ha1"),
        pytest.param(HA1, "201", "pbx.example.com", None, id="none-pin"),
    ],
)
def test_ha1_matches_pin_rejects_anything_else(
    ha1: Any, extension: Any, domain: Any, pin: Any
) -> None:
    assert not ha1_matches_pin(ha1=ha1, extension=extension, domain=domain, pin=pin)


_LOCKS = st.sampled_from(
    [
        None,
        LOCKED_FOR_AN_HOUR,
        LOCKED_INDEFINITELY,
        LockFacts(locked_until=NOW, indefinite=False),
    ]
)
_HA1S = st.one_of(
    st.just(HA1),
    st.just(""),
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdefABCDEF", min_size=30, max_size=34),
)


@settings(database=None)  # no .hypothesis/ directory in the project
@given(
    source_ip=st.one_of(
        st.text(),
        st.ip_addresses().map(str),
        st.ip_addresses().map(lambda address: f"[{address}]"),
    ),
    domain_known=st.booleans(),
    has_user=st.booleans(),
    hot_desk_access=st.booleans(),
    deregistration=st.booleans(),
    has_trusted_networks=st.booleans(),
    ha1=_HA1S,
    lock=_LOCKS,
)
def test_decide_never_raises_and_never_leaks_an_ha1_on_deny(
    source_ip: str,
    domain_known: bool,
    has_user: bool,
    hot_desk_access: bool,
    deregistration: bool,
    has_trusted_networks: bool,
    ha1: str,
    lock: LockFacts | None,
) -> None:
    user = (
        UserFacts(extension="201", hot_desk_access=hot_desk_access, pin_ha1=ha1)
        if has_user
        else None
    )
    decision = decide(
        domain_known=domain_known,
        user=user,
        trusted_networks=TRUSTED if has_trusted_networks else (),
        lock=lock,
        source_ip=source_ip,
        now=NOW,
        deregistration=deregistration,
    )
    assert decision.reason is not Reason.WRONG_PIN
    _assert_invariant(decision, user)
