"""What the install's management commands share."""

from __future__ import annotations

from django.core.management.base import CommandError

from .models import Install


def install_by_domain(domain: str, *, lock: bool = False) -> Install:
    """The install of a SIP domain (any case, surrounding spaces ignored); a CommandError
    naming the domain if there is none. `lock`: its row locked in the caller's transaction."""
    installs = Install.objects.select_for_update() if lock else Install.objects.all()
    install = installs.filter(sip_domain=domain.strip().lower()).first()
    if install is None:
        raise CommandError(f"No install has the SIP domain {domain.strip()!r}.")
    return install
