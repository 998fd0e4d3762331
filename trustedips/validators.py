"""Parsing and checking trusted ranges, NetBox-style: canonical or refused with a correction."""

import ipaddress

from django.core.exceptions import ValidationError

# Broader than this is "everyone" for practical purposes, and almost always a typo.
MIN_PREFIX = {4: 8, 6: 32}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_network(value: str) -> Network:
    """Turn administrator input into a canonical network, or raise a ValidationError saying how.

    A bare address is a single host (/32 or /128). Host bits set is refused with the network
    the administrator probably meant, rather than silently widened or narrowed.
    """
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter an IP range such as 203.0.113.0/24.", code="required")
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise ValidationError(
            "“%(value)s” is not an IP range. Write it as address/prefix, such as 203.0.113.0/24.",
            code="invalid_cidr",
            params={"value": text},
        ) from None
    network = iface.network
    if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
        # Sources are matched as IPv4 once unmapped, so a mapped range would never match.
        raise ValidationError(
            "Write IPv4 ranges in IPv4 form, such as 203.0.113.0/24.", code="ipv4_mapped"
        )
    # Breadth before host bits, so the correction offered below is never itself refused.
    limit = MIN_PREFIX[network.version]
    if network.prefixlen < limit:
        raise ValidationError(
            "%(value)s is too broad: the widest range allowed is a /%(limit)s.",
            code="too_broad",
            params={"value": text, "limit": limit},
        )
    if "/" in text and iface.ip != network.network_address:
        raise ValidationError(
            "%(value)s has host bits set. Did you mean %(network)s?",
            code="host_bits_set",
            params={"value": text, "network": network.with_prefixlen},
        )
    return network


def validate_cidr(value: str) -> None:
    """Model-field validator: the stored text must already be canonical."""
    network = parse_network(value)
    if network.with_prefixlen != value:
        raise ValidationError(
            "Store ranges in canonical form (%(network)s).",
            code="not_canonical",
            params={"network": network.with_prefixlen},
        )
