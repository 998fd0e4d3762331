"""Which desk a hot-desked handset is, from the handset registry, for the dashboard.

A Yealink's user agent carries its MAC ("Yealink SIP-T46S 66.86.0.15 00:15:65:8d:9f:27"), the
key of the registry; a handset whose user agent has none is known by the address it last
fetched its configuration from, if that is where it registers from.
"""

from __future__ import annotations

import re
from typing import Any

from django.dispatch import receiver

from registrations.dashboard import desk_names

from .models import Handset

_MAC = re.compile(r"(?<![0-9a-f:])((?:[0-9a-f]{2}[:-]?){5}[0-9a-f]{2})(?![0-9a-f:])", re.I)


def mac_in(user_agent: str) -> str | None:
    """The MAC address in a user agent, as the registry stores it (12 lower-case hex)."""
    for found in _MAC.finditer(user_agent):
        mac = re.sub(r"[:-]", "", found.group(1)).lower()
        if len(mac) == 12:
            return mac
    return None


@receiver(desk_names, dispatch_uid="handsets.desk_names")
def desks_of_sessions(
    sender: Any, *, install: Any, sessions: list, **kwargs: Any
) -> dict[int, str]:
    handsets = list(
        Handset.objects.filter(install=install).values_list("mac", "desk", "last_fetched_from")
    )
    by_mac = {mac: desk for mac, desk, _ in handsets}
    by_address = {address: desk for _, desk, address in handsets if address}
    found = {}
    for session in sessions:
        mac = mac_in(session.user_agent or "")
        desk = by_mac.get(mac) if mac else None
        found[session.pk] = desk or by_address.get(session.source_ip, "")
    return {pk: desk for pk, desk in found.items() if desk}
