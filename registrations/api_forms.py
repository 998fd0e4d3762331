"""The parameters the SIP edge sends, checked before anything else looks at them.

Not Django forms: building a form deep-copies every field, which cost more CPU than the whole
decision on the REGISTER path (see docs/performance.md). The rules are the same kind a form
would hold, written once here for both endpoints: required fields, integer ranges, lengths, a
known transport, and no NUL characters (PostgreSQL refuses them in a query parameter).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest

from common.django_internals import raw_query_string

from .models import SETTLED, STARTED, EventKind, RegistrationLogEntry

PROTOCOLS = frozenset({"udp", "tcp", "tls", "ws", "wss", "sctp"})
EVENTS = frozenset({EventKind.REGISTERED, EventKind.UNREGISTERED, EventKind.AUTH_FAILED})
# Kamailio sends a batch every 100 ms; at a thousand logins a second that is about a hundred.
MAX_BATCH = 1000
_MAX_INT = 2**31 - 1
# Kamailio's parser takes any CSeq number that fits an unsigned 32-bit integer; every one it
# accepts must be one the portal accepts, or a handset could choose a report the portal refuses.
_MAX_CSEQ = 2**32 - 1
# The edge's id of one REGISTER transaction (Kamailio's $sruid: "srid-6b0f505d-19af-1").
_ATTEMPT_RE = re.compile(r"[-A-Za-z0-9_.:@]{1,64}")


class BadParams(ValueError):
    """A request the edge should never send; the message names the parameter."""


def query_params(request: HttpRequest) -> dict[str, str]:
    """The request's query string as a plain dict (the last value of a repeated name wins).

    What `request.GET` holds, without QueryDict's per-value bookkeeping, which took about a
    tenth of a check's CPU time (docs/performance.md).
    """
    return form_params(raw_query_string(request.META), what="query")


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


@functools.cache
def _stored(field: str) -> int:
    """The longest value the log keeps in `field`: what the API accepts as well."""
    length = getattr(RegistrationLogEntry._meta.get_field(field), "max_length", None)
    assert isinstance(length, int), field
    return length


def parse_check(query: Mapping[str, str]) -> dict:
    """The check parameters as clean values, or BadParams saying which one is wrong."""
    params = {
        "domain": text_param(query, "domain", _stored("domain"), required=True).strip().lower(),
        "user": text_param(query, "user", _stored("extension"), required=True).strip(),
        "ip": text_param(query, "ip", _stored("source_ip"), required=True).strip(),
        "port": _integer(query, "port", 0, 65535),
        "proto": text_param(query, "proto", _stored("proto")).strip().lower(),
        # The handset chooses it (any 32-bit number Kamailio parses): past any binding's
        # length it means the same, and it is stored capped.
        "expires": _capped(_integer(query, "expires", 0, _MAX_CSEQ), _MAX_INT),
        # Longer than stored is accepted (handsets send long ones), and cut.
        "ua": text_param(query, "ua", 1024)[: _stored("user_agent")],
        "callid": text_param(query, "callid", _stored("call_id")),
        "attempt": _attempt(query),
    }
    if params["proto"] and params["proto"] not in PROTOCOLS:
        raise BadParams("proto: unknown transport")
    return params


def parse_event(body: Mapping[str, str]) -> dict:
    """The outcome-report parameters: the check's, plus event, callid, cseq and contact."""
    params = parse_check(body)
    params["event"] = text_param(body, "event", _stored("kind"), required=True)
    if params["event"] not in EVENTS:
        raise BadParams("event: must be registered, unregistered or auth_failed")
    params["callid"] = text_param(body, "callid", _stored("call_id"), required=True)
    params["cseq"] = _integer(body, "cseq", 0, _MAX_CSEQ, required=True)
    params["contact"] = text_param(body, "contact", _stored("contact"))
    return params


@dataclass
class Batch:
    """What one batch of the edge holds, line by line."""

    reports: list[dict] = field(default_factory=list)  # in the order the edge saw them
    settled: list[str] = field(default_factory=list)  # attempts settled without news
    rejected: list[str] = field(default_factory=list)  # "line N: why", one per bad line


def parse_session_batch(body: bytes) -> Batch:
    """A batch of reports from the edge: one form-encoded report per line.

    Lines are reports (`registered`, `unregistered`, and `auth_failed` that the edge could not
    deliver at once and sends again), `event=settled&attempt=...` for a guess permit whose
    outcome is no news, or `event=started` when the edge has (re)started. A bad line is
    rejected on its own (in `Batch.rejected`) and never takes the batch's other lines with it:
    those may be another customer's logins. Only a body that is not a batch at all is a
    BadParams.
    """
    lines = batch_lines(body, max_lines=MAX_BATCH, what="reports")
    batch = Batch()
    for number, line in enumerate(lines, start=1):
        try:
            fields = form_params(line.strip(), what="report")
            if fields.get("event") == SETTLED:
                batch.settled.append(_attempt(fields))
                continue
            if fields.get("event") == STARTED:
                batch.reports.append({"event": STARTED})
                continue
            params = parse_event(fields)
        except BadParams as error:
            batch.rejected.append(f"line {number}: {error}")
            continue
        batch.reports.append(params)
    return batch


def batch_lines(body: bytes, *, max_lines: int, what: str) -> list[str]:
    """The non-empty lines of a batch the edge sent (UTF-8, one form per line); BadParams for
    a body that is not a batch at all."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParams("body: not UTF-8") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadParams(f"body: no {what} (one form-encoded line each)")
    if len(lines) > max_lines:
        raise BadParams(f"body: more than {max_lines} {what}")
    return lines


def _capped(value: int | None, high: int) -> int | None:
    return value if value is None else min(value, high)


def _attempt(data: Mapping[str, str]) -> str:
    value = text_param(data, "attempt", _stored("attempt"), required=True)
    if not _ATTEMPT_RE.fullmatch(value):
        raise BadParams("attempt: the edge's transaction id (letters, digits, - _ . : @)")
    return value


def is_deregistration(params: dict) -> bool:
    return params["expires"] == 0


def text_param(
    data: Mapping[str, str], name: str, max_length: int, *, required: bool = False
) -> str:
    """One parameter as text: required if so, at most `max_length` long, no NUL."""
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
    text = text_param(data, name, 12, required=required).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise BadParams(f"{name}: must be a whole number")
    value = int(text)
    if not low <= value <= high:
        raise BadParams(f"{name}: must be between {low} and {high}")
    return value
