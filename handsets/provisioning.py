"""The provisioning server's decisions: which install a URL names, and whether a source may fetch.

A fetch is served only when the URL's token matches the install's (compared in constant time)
and the client address is inside one of the install's trusted ranges. A wrong token is a 404,
so a guesser learns nothing; a right token from outside the ranges is a 403, logged.

Behind a reverse proxy every request seems to come from the proxy, so the client address can
be read from a header instead: `settings.PROVISIONING_CLIENT_IP_HEADER` names it (for example
`X-Forwarded-For` or `X-Real-IP`). Without that setting the header is never read, because any
client can send it. With it, a missing or malformed header is a denial: falling back to the
proxy's own address could let every request through.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from trustedips.matching import is_trusted, normalise_source
from trustedips.models import TrustedRange

from . import yealink
from .models import Handset, ProvisioningFetch, ProvisioningProfile


def client_address(request: HttpRequest) -> str:
    """The address to judge: REMOTE_ADDR, or the configured proxy header's last entry.

    The last entry of `X-Forwarded-For` is the one the nearest proxy (ours) appended; the
    entries before it were written by the client and prove nothing.
    """
    header = getattr(settings, "PROVISIONING_CLIENT_IP_HEADER", None)
    if not header:
        return request.META.get("REMOTE_ADDR", "")
    value = request.headers.get(header, "")
    return value.split(",")[-1].strip()


def find_profile(*, install_pk: int, token: str) -> ProvisioningProfile | None:
    """The profile the URL names, or None when the token is not the install's current one."""
    profile = (
        ProvisioningProfile.objects.select_related("install").filter(install_id=install_pk).first()
    )
    if profile is None or not constant_time_compare(profile.token, token):
        return None
    return profile


def trusted_source(
    *, install, address: str
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The normalised source address if it lies inside one of the install's ranges, else None."""
    source = normalise_source(address)
    if source is None:
        return None
    networks = [
        ipaddress.ip_network(text)
        for text in TrustedRange.objects.filter(install=install).values_list("network", flat=True)
    ]
    return source if is_trusted(source, networks) else None


def record_fetch(
    *,
    profile: ProvisioningProfile,
    filename: str,
    source: str,
    user_agent: str,
    handset: Handset | None,
) -> None:
    """Remember that `filename` was served to `source`, on the handset too when it is known.

    A common-file fetch is put down to a registered handset when its Yealink User-Agent names
    that handset's MAC (the User-Agent is the client's word, so this is only a record).
    """
    if handset is None:
        mac = yealink.mac_from_user_agent(user_agent)
        if mac is not None:
            handset = Handset.objects.filter(install=profile.install, mac=mac).first()
    now = timezone.now()
    ProvisioningFetch.objects.create(
        install=profile.install,
        handset=handset,
        filename=filename,
        source_ip=source,
        user_agent=user_agent[:200],
    )
    if handset is not None:
        Handset.objects.filter(pk=handset.pk).update(last_fetched_at=now, last_fetched_from=source)
