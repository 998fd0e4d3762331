"""What the SIP edges fetch to route calls: the installs' PBXs, and who is locked out.

The edge routes a call to a number no hot desk has to the install's PBX, and rings a hot
desk for an INVITE that comes from the address of that install's PBX; it refuses the calls of
an operator locked after wrong PINs. It fetches both lists every 5 s (`GET /api/sip/v1/pbx`
and `/locked`, route PBX_TABLE of the shipped cfg), so a change on the Settings tab, by
`set_install` or a new lock reaches every edge within seconds, without a restart. A PBX named
by host name is resolved here, where a slow or failing resolver costs no SIP request; the
edge still sends to the name.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from installs.models import Install

from .models import Lockout

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


def locked_table(*, now: datetime | None = None) -> str:
    """One `domain|extension` line per user locked after wrong PINs now.

    A lock does not remove a live binding (that would let anyone log an operator out by
    guessing), so the edge asks for this list to refuse a locked operator's calls.
    """
    now = now or timezone.now()
    locked = (
        Lockout.objects.filter(Q(locked_indefinitely=True) | Q(locked_until__gt=now))
        .order_by("pbx_user__install__sip_domain", "pbx_user__extension")
        .values_list("pbx_user__install__sip_domain", "pbx_user__extension")
    )
    return "".join(f"{domain}|{extension}\n" for domain, extension in locked)


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
