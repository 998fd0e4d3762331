"""The installs' PBXs as the SIP edges need them: where outside calls go, and whom to believe.

The edge routes a call to a number no hot desk has to the install's PBX, and rings a hot
desk for an INVITE that comes from the address of that install's PBX. It fetches the list
every few seconds (`GET /api/sip/v1/pbx`, route PBX_TABLE of the shipped cfg), so a change on
the Settings tab or by `set_install` reaches every edge without a restart. A PBX named by host
name is resolved here, where a slow or failing resolver costs no SIP request; the edge still
sends to the name.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

from installs.models import Install

# How long a resolved host name is believed: about a DNS TTL, and the list stays cheap.
RESOLVE_SECONDS = 60

_resolved: dict[str, tuple[float, tuple[str, ...]]] = {}
_resolved_lock = threading.Lock()


def pbx_table() -> str:
    """One line per install with a PBX: `domain|sip URI|IP,IP` (no IPs: not resolvable now)."""
    lines = []
    for domain, address in (
        Install.objects.exclude(pbx_address="")
        .order_by("sip_domain")
        .values_list("sip_domain", "pbx_address")
    ):
        lines.append(f"{domain}|{address}|{','.join(addresses_of(host_of(address)))}")
    return "".join(line + "\n" for line in lines)


def host_of(address: str) -> str:
    """The host of a stored PBX address (`sip:HOST[:PORT][;transport=...]`), brackets off."""
    rest = address.removeprefix("sip:").split(";", 1)[0]
    if rest.startswith("["):
        return rest[1 : rest.index("]")]
    return rest.split(":", 1)[0]


def addresses_of(host: str) -> tuple[str, ...]:
    """The IP addresses calls from `host` come from: itself if it is one, else its A/AAAA."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    now = time.monotonic()
    with _resolved_lock:
        cached = _resolved.get(host)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        addresses = tuple(sorted({str(info[4][0]) for info in found}))
    except OSError:
        addresses = ()
    with _resolved_lock:
        _resolved[host] = (now + RESOLVE_SECONDS, addresses)
    return addresses


def forget_resolved() -> None:
    """Forget every resolved host (tests)."""
    with _resolved_lock:
        _resolved.clear()
