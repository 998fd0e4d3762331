"""Trusted range rules, straight through `parse_network` (no database).

The tables here are the rules of issue 2; the form, portal and command tests reuse them so each
rule is shown through every way in.
"""

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from trustedips.validators import parse_network, validate_cidr

# (typed by the administrator, stored as)
ACCEPTED = [
    pytest.param("203.0.113.0/24", "203.0.113.0/24", id="ipv4-network"),
    pytest.param("203.0.113.7", "203.0.113.7/32", id="bare-address-is-a-host"),
    pytest.param("  198.51.100.0/24  ", "198.51.100.0/24", id="spaces-trimmed"),
    pytest.param("203.0.0.0/8", "203.0.0.0/8", id="slash-8-is-the-widest-ipv4"),
    pytest.param("2001:db8::/48", "2001:db8::/48", id="ipv6-network"),
    pytest.param("2001:db8::/32", "2001:db8::/32", id="slash-32-is-the-widest-ipv6"),
    pytest.param("2001:DB8:0:0::/48", "2001:db8::/48", id="ipv6-stored-canonical"),
    pytest.param("2001:db8::7", "2001:db8::7/128", id="bare-ipv6-address-is-a-host"),
]

# (typed, error code, text the message must contain)
REFUSED = [
    pytest.param("203.0.113.7/24", "host_bits_set", "203.0.113.0/24", id="host-bits-set"),
    pytest.param("2001:db8::7/64", "host_bits_set", "2001:db8::/64", id="ipv6-host-bits-set"),
    pytest.param("0.0.0.0/0", "too_broad", "too broad", id="slash-0"),
    pytest.param("203.0.113.0/0", "too_broad", "too broad", id="slash-0-with-address"),
    pytest.param("203.0.113.0/7", "too_broad", "too broad", id="broader-than-slash-8"),
    pytest.param("2001:db8::/31", "too_broad", "too broad", id="ipv6-broader-than-slash-32"),
    pytest.param("2001:db8::/16", "too_broad", "too broad", id="ipv6-far-too-broad"),
    pytest.param("999.1.1.1/24", "invalid_cidr", "999.1.1.1/24", id="octet-over-255"),
    pytest.param("10.0.0.0/33", "invalid_cidr", "10.0.0.0/33", id="prefix-over-32"),
    pytest.param("010.0.0.0/8", "invalid_cidr", "010.0.0.0/8", id="leading-zero"),
    pytest.param("abc", "invalid_cidr", "abc", id="not-an-address"),
    pytest.param("203.0.113.0/24/24", "invalid_cidr", "203.0.113.0/24/24", id="two-prefixes"),
    pytest.param("::ffff:203.0.113.0/120", "ipv4_mapped", "IPv4", id="ipv4-mapped-ipv6"),
    pytest.param("", "required", "203.0.113.0/24", id="empty"),
    pytest.param("   ", "required", "203.0.113.0/24", id="only-spaces"),
]


def refusal(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_network(value)
    return caught.value


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_accepted_range_is_returned_in_canonical_form(typed, stored):
    assert parse_network(typed).with_prefixlen == stored


@pytest.mark.parametrize(("typed", "code", "named"), REFUSED)
def test_refused_range_raises_with_its_code_and_a_corrective_message(typed, code, named):
    error = refusal(typed)
    assert error.code == code
    assert named in error.messages[0]


def test_host_bits_message_names_the_network_the_administrator_meant():
    meant = ipaddress.ip_interface("203.0.113.7/24").network.with_prefixlen
    assert f"Did you mean {meant}?" in refusal("203.0.113.7/24").messages[0]


def test_too_broad_range_is_never_corrected_to_another_too_broad_range():
    # Host bits are set too, but suggesting 0.0.0.0/0 would only lead to a second refusal.
    message = refusal("203.0.113.7/0").messages[0]
    assert "too broad" in message
    assert "Did you mean" not in message


@pytest.mark.parametrize(
    ("version_example", "limit"),
    [("203.0.0.0/{}", 8), ("2001:db8::/{}", 32)],
    ids=["ipv4", "ipv6"],
)
def test_widest_allowed_prefix_is_accepted_and_one_bit_wider_is_refused(version_example, limit):
    assert parse_network(version_example.format(limit)).prefixlen == limit
    wider = ipaddress.ip_network(version_example.format(limit)).supernet().with_prefixlen
    assert refusal(wider).code == "too_broad"


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_model_validator_accepts_only_the_canonical_text(typed, stored):
    validate_cidr(stored)
    if typed != stored:
        with pytest.raises(ValidationError):
            validate_cidr(typed)
