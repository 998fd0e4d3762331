"""Load the facts for one REGISTER and hand them to the pure decision.

This is the only place that turns database rows into `policy` facts; the HTTP API, the
Explain form and `check_registration` all come through `evaluate`, so they cannot disagree.
It runs at most three small queries whatever the size of the install.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from installs.models import Install
from trustedips.models import TrustedRange
from users.models import PbxUser

from . import lockouts
from .policy import Decision, UserFacts, decide


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    install: Install | None
    pbx_user: PbxUser | None


def find_user(*, domain: str, extension: str) -> tuple[Install | None, PbxUser | None]:
    """The install of a SIP domain and its user with that extension (either may be None)."""
    pbx_user = (
        PbxUser.objects.select_related("install", "lockout")
        .filter(install__sip_domain=domain, extension=extension)
        .first()
    )
    if pbx_user is not None:
        return pbx_user.install, pbx_user
    return Install.objects.filter(sip_domain=domain).first(), None


def trusted_networks(install: Install) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(text)
        for text in TrustedRange.objects.filter(install=install).values_list("network", flat=True)
    ]


def evaluate(
    *,
    domain: str,
    extension: str,
    source_ip: str,
    deregistration: bool = False,
    now: datetime | None = None,
) -> Evaluation:
    """Decide a REGISTER for `extension`@`domain` from `source_ip`, reading current state."""
    domain = domain.strip().lower()
    install, pbx_user = find_user(domain=domain, extension=extension)
    networks = trusted_networks(install) if pbx_user is not None else []
    decision = decide(
        domain_known=install is not None,
        user=UserFacts(
            extension=pbx_user.extension,
            hot_desk_access=pbx_user.hot_desk_access,
            pin_ha1=pbx_user.pin_ha1,
        )
        if pbx_user
        else None,
        trusted_networks=networks,
        lock=lockouts.facts(getattr(pbx_user, "lockout", None)) if pbx_user else None,
        source_ip=source_ip,
        now=now or timezone.now(),
        deregistration=deregistration,
    )
    return Evaluation(decision=decision, install=install, pbx_user=pbx_user)
