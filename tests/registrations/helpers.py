"""Requests as Kamailio sends them, shared by the registration API tests."""

import base64
import hashlib
import itertools
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

from django.urls import reverse

CHECK_URL = "/api/sip/v1/register/check"
EVENT_URL = "/api/sip/v1/register/event"

TRUSTED_IP = "203.0.113.7"
UNTRUSTED_IP = "192.0.2.7"
HANDSET_UA = "Infinity-Handset/5.1"

_cseqs = itertools.count(1)
_attempts = itertools.count(1)


def new_attempt() -> str:
    """An id as the edge gives each REGISTER transaction (Kamailio's $sruid)."""
    return f"srid-test-{next(_attempts)}"


def expected_ha1(extension: str, domain: str, pin: str) -> str:
    """The SIP digest HA1, computed here rather than by the code under test."""
    return hashlib.md5(f"{extension}:{domain}:{pin}".encode()).hexdigest()


def basic(name: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def check_params(**overrides) -> dict:
    """The query of a check for extension 1001 of acme.pbx.test from a trusted address."""
    params = {
        "domain": "acme.pbx.test",
        "user": "1001",
        "ip": TRUSTED_IP,
        "port": "5060",
        "proto": "udp",
        "expires": "500",
        "ua": HANDSET_UA,
        "callid": "a84b4c76e66710@203.0.113.7",
        "attempt": new_attempt(),
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def check(client, **overrides):
    return client.get(CHECK_URL, check_params(**overrides))


def event_params(kind: str, /, **overrides) -> dict:
    """An outcome report; every call gets a fresh CSeq and attempt unless one is given."""
    params = check_params(
        event=kind,
        cseq=str(next(_cseqs)),
        contact="<sip:1001@203.0.113.7:5060;transport=udp>",
    )
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def post_form(client, data, **extra):
    """POST `data` form-encoded, as Kamailio's http_client does."""
    body = data if isinstance(data, bytes | str) else urlencode(data)
    return client.post(EVENT_URL, body, content_type="application/x-www-form-urlencoded", **extra)


def report(client, kind: str, /, **overrides):
    return post_form(client, event_params(kind, **overrides))


def users_tab(install) -> str:
    return reverse("users:list", kwargs={"install_pk": install.pk})


# Ann Smith's desk phone, as the SIP edge stores its binding.
AOR = "1001@acme.pbx.test"
DESK_PHONE = "sip:1001@203.0.113.7:5060;transport=udp"


BATCH_URL = "/api/sip/v1/register/events"


def post_batch(client, reports: list[dict], **extra):
    """POST reports to register/events as Kamailio's report queue does: one form per line."""
    body = "\n".join(urlencode(params) for params in reports)
    return client.post(BATCH_URL, body, content_type="text/plain; charset=utf-8", **extra)


def http_call(url: str, *, headers: dict, data: bytes | None = None) -> tuple[int, dict]:
    """One HTTP request to the local server: its status and JSON body (or {"text": ...})."""
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (http only)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body)
    except ValueError:  # a server error page, say: the test shows it
        return status, {"text": body.decode(errors="replace")[:500]}
