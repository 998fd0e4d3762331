"""Is this address inside those ranges? The one answer the trusted ranges exist to give.

Plain Python, no Django: the registration decision (registrations/policy.py) and handset
provisioning (handsets/provisioning.py) both ask it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TypeAlias

# Python 3.11 has no "type" statement.
IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


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
