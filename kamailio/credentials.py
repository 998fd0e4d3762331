"""HTTP Basic authentication of SIP edge nodes (Kamailio) calling the API.

Secrets are long random strings, so they are stored as SHA-256 and compared in constant time;
a slow password hash on every REGISTER would cost more than the decision itself. A verified
Authorization header is remembered for a few seconds per process, so a deactivated credential
stops working within `CACHE_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Callable

from django.utils.crypto import constant_time_compare, salted_hmac

from .models import SipCredential

logger = logging.getLogger(__name__)

CACHE_SECONDS = 5.0
# What a SipCredential name (a SlugField) can be. Anything else names no credential, and must not
# reach the database: PostgreSQL refuses a NUL character in a query parameter with an error.
_NAME_RE = re.compile(r"[-a-zA-Z0-9_]{1,64}")
_verified: dict[str, tuple[str, str, float]] = {}  # sha256(header) -> (name, networks, expiry)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rpc_authorization(credential: SipCredential, *, secret_key: str | None = None) -> str:
    """The Authorization header the portal sends to this edge's JSON-RPC.

    Derived from the portal's SECRET_KEY (or `secret_key`) and the credential, so rotating
    the credential's secret changes it and the database alone does not hold it. The edge
    keeps only its SHA-256 (`rpc_authorization_sha256`, in hotdesk-local.cfg) and compares
    digests.
    """
    token = salted_hmac(
        "hotdesk.registrations.edge_rpc",
        f"{credential.name}:{credential.secret_sha256}",
        secret=secret_key,
        algorithm="sha256",
    ).hexdigest()
    return f"Bearer {token}"


def rpc_authorization_sha256(credential: SipCredential) -> str:
    return hashlib.sha256(rpc_authorization(credential).encode()).hexdigest()


def authenticate(
    header: str, remote_addr: str, *, clock: Callable[[], float] = time.monotonic
) -> str | None:
    """The name of the edge credential in an `Authorization: Basic ...` header, or None.

    None for a missing, malformed or wrong credential, an inactive one, or a caller outside
    the credential's allowed networks. Never raises on what a client sends.
    """
    key = hashlib.sha256(header.encode("utf-8", "surrogateescape")).hexdigest()
    now = clock()
    cached = _verified.get(key)
    if cached and cached[2] > now:
        name, networks = cached[0], cached[1]
    else:
        found = _verify(header)
        if found is None:
            return None
        name, networks = found
        _verified[key] = (name, networks, now + CACHE_SECONDS)
    if not _address_allowed(remote_addr, networks):
        logger.warning(
            "SIP edge credential %s used from %s, outside its networks", name, remote_addr
        )
        return None
    return name


def forget_cached() -> None:
    _verified.clear()


def _verify(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, sep, secret = decoded.partition(":")
    if not sep or not _NAME_RE.fullmatch(name):
        return None
    credential = SipCredential.objects.filter(name=name, is_active=True).first()
    # Hash even when the name is unknown so timing does not tell which names exist.
    digest = hash_secret(secret)
    expected = credential.secret_sha256 if credential else hash_secret(new_secret())
    if not constant_time_compare(digest, expected) or credential is None:
        return None
    return credential.name, credential.allowed_networks


def _address_allowed(remote_addr: str, networks: str) -> bool:
    if not networks.strip():
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    for text in networks.split():
        try:
            if address in ipaddress.ip_network(text):
                return True
        except ValueError:
            continue
    return False
