"""The parameters the SIP edge sends, checked before anything else looks at them.

Not Django forms: building a form deep-copies every field, which cost more CPU than the whole
decision on the REGISTER path (see docs/performance.md). The rules are the same kind a form
would hold, written once here for both endpoints: required fields, integer ranges, lengths, a
known transport, and no NUL characters (PostgreSQL refuses them in a query parameter).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest

from .models import EventKind

PROTOCOLS = frozenset({"udp", "tcp", "tls", "ws", "wss", "sctp"})
EVENTS = frozenset({EventKind.REGISTERED, EventKind.UNREGISTERED, EventKind.AUTH_FAILED})
SESSION_EVENTS = frozenset({EventKind.REGISTERED, EventKind.UNREGISTERED})
# Kamailio sends a batch every 100 ms; at a thousand logins a second that is about a hundred.
MAX_BATCH = 1000
_MAX_INT = 2**31 - 1


class BadParams(ValueError):
    """A request the edge should never send; the message names the parameter."""


def query_params(request: HttpRequest) -> dict[str, str]:
    """The request's query string as a plain dict (the last value of a repeated name wins).

    What `request.GET` holds, without QueryDict's per-value bookkeeping, which took about a
    tenth of a check's CPU time (docs/performance.md).
    """
    raw = get_bytes_from_wsgi(request.META, "QUERY_STRING", "").decode("utf-8", "replace")
    return form_params(raw, what="query")


def form_params(text: str, *, what: str) -> dict[str, str]:
    """Form-encoded `text` as a plain dict; BadParams past DATA_UPLOAD_MAX_NUMBER_FIELDS."""
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            errors="replace",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError:
        raise BadParams(f"{what}: too many parameters") from None
    return dict(pairs)


def parse_check(query: Mapping[str, str]) -> dict:
    """The check parameters as clean values, or BadParams saying which one is wrong."""
    params = {
        "domain": _text(query, "domain", 253, required=True).strip().lower(),
        "user": _text(query, "user", 64, required=True).strip(),
        "ip": _text(query, "ip", 64, required=True).strip(),
        "port": _integer(query, "port", 0, 65535),
        "proto": _text(query, "proto", 8).strip().lower(),
        "expires": _integer(query, "expires", 0, _MAX_INT),
        "ua": _text(query, "ua", 1024)[:255],
        "callid": _text(query, "callid", 255),
    }
    if params["proto"] and params["proto"] not in PROTOCOLS:
        raise BadParams("proto: unknown transport")
    return params


def parse_event(body: Mapping[str, str]) -> dict:
    """The outcome-report parameters: the check's, plus event, callid, cseq and contact."""
    params = parse_check(body)
    params["event"] = _text(body, "event", 16, required=True)
    if params["event"] not in EVENTS:
        raise BadParams("event: must be registered, unregistered or auth_failed")
    params["callid"] = _text(body, "callid", 255, required=True)
    params["cseq"] = _integer(body, "cseq", 0, _MAX_INT, required=True)
    params["contact"] = _text(body, "contact", 512)
    return params


def parse_session_batch(body: bytes) -> list[dict]:
    """A batch of `registered`/`unregistered` reports: one form-encoded report per line.

    All or nothing: the first bad line is a BadParams naming its line number. A wrong PIN is
    never batched (it must count before the next guess), so `auth_failed` is refused here.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParams("body: not UTF-8") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadParams("body: no reports (one form-encoded report per line)")
    if len(lines) > MAX_BATCH:
        raise BadParams(f"body: more than {MAX_BATCH} reports")
    reports = []
    for number, line in enumerate(lines, start=1):
        try:
            params = parse_event(form_params(line.strip(), what="report"))
            if params["event"] not in SESSION_EVENTS:
                raise BadParams("event: a batch holds registered and unregistered reports only")
        except BadParams as error:
            raise BadParams(f"line {number}: {error}") from None
        reports.append(params)
    return reports


def is_deregistration(params: dict) -> bool:
    return params["expires"] == 0


def _text(data: Mapping[str, str], name: str, max_length: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if required and not value.strip():
        raise BadParams(f"{name}: this parameter is required")
    if len(value) > max_length:
        raise BadParams(f"{name}: longer than {max_length} characters")
    if "\x00" in value:
        raise BadParams(f"{name}: contains a NUL character")
    return value


def _integer(
    data: Mapping[str, str], name: str, low: int, high: int, *, required: bool = False
) -> int | None:
    text = _text(data, name, 12, required=required).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise BadParams(f"{name}: must be a whole number")
    value = int(text)
    if not low <= value <= high:
        raise BadParams(f"{name}: must be between {low} and {high}")
    return value
