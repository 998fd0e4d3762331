"""The call events a SIP edge sends in a batch, one form-encoded event per line, checked.

    event=start&ref=R&t=1796183985.123456&dir=out&domain=acme.pbx.test&op=1001&other=0207...
        &ip=192.0.2.7&ua=Yealink...&callid=...
    event=answer&ref=R&t=...
    event=end&ref=R&t=...&code=487&cancelled=1
    event=started&t=...                       (the edge has (re)started: its calls are gone)

`ref` is the edge's id for the call, `t` the edge's clock in seconds with a fraction. A bad
line is rejected on its own and never takes the batch's other lines with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from registrations.api_forms import BadParams, form_params

from .models import CallRecord, Direction

# The edge sends up to ~16 KB a batch (about a hundred events); a replayed backlog may be more.
MAX_BATCH = 2000
_REF_RE = re.compile(r"[-A-Za-z0-9_.:@]{1,64}")
_TIME_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
START, ANSWER, END, STARTED = "start", "answer", "end", "started"


@dataclass(frozen=True)
class CallEvent:
    kind: str  # START, ANSWER, END or STARTED
    at: datetime
    ref: str = ""
    direction: str = ""
    domain: str = ""
    extension: str = ""
    other_party: str = ""
    handset_ip: str = ""
    user_agent: str = ""
    sip_call_id: str = ""
    sip_code: int | None = None
    cancelled: bool = False


@dataclass
class EventBatch:
    events: list[CallEvent] = field(default_factory=list)  # in the order the edge saw them
    rejected: list[str] = field(default_factory=list)  # "line N: why"


def parse_batch(body: bytes) -> EventBatch:
    """The batch's events in order; BadParams only for a body that is not a batch at all."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParams("body: not UTF-8") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadParams("body: no call events (one form-encoded event per line)")
    if len(lines) > MAX_BATCH:
        raise BadParams(f"body: more than {MAX_BATCH} call events")
    batch = EventBatch()
    for number, line in enumerate(lines, start=1):
        try:
            batch.events.append(parse_event(form_params(line.strip(), what="event")))
        except BadParams as error:
            batch.rejected.append(f"line {number}: {error}")
    return batch


def parse_event(data: Mapping[str, str]) -> CallEvent:
    kind = data.get("event", "")
    at = _time(data)
    if kind == STARTED:
        return CallEvent(kind=kind, at=at)
    ref = _text(data, "ref", 64, required=True)
    if not _REF_RE.fullmatch(ref):
        raise BadParams("ref: the edge's call id (letters, digits, - _ . : @)")
    if kind == ANSWER:
        return CallEvent(kind=kind, at=at, ref=ref)
    if kind == END:
        code = _text(data, "code", 3, required=True)
        if not (code.isascii() and code.isdigit() and 100 <= int(code) <= 699):
            raise BadParams("code: a SIP status code (100-699)")
        cancelled = _text(data, "cancelled", 1) == "1"
        return CallEvent(kind=kind, at=at, ref=ref, sip_code=int(code), cancelled=cancelled)
    if kind == START:
        return _start(data, at=at, ref=ref)
    raise BadParams("event: must be start, answer, end or started")


def _start(data: Mapping[str, str], *, at: datetime, ref: str) -> CallEvent:
    direction = _text(data, "dir", 8, required=True)
    if direction not in Direction.values:
        raise BadParams("dir: must be internal, out or in")
    return CallEvent(
        kind=START,
        at=at,
        ref=ref,
        direction=direction,
        domain=_text(data, "domain", 253, required=True).strip().lower(),
        extension=_text(data, "op", _length("extension"), required=True).strip(),
        # Whatever the far end dialled or presented: cut, never refused for its length.
        other_party=_text(data, "other", 1024)[: _length("other_party")],
        handset_ip=_text(data, "ip", _length("handset_ip")),
        user_agent=_text(data, "ua", 1024)[: _length("user_agent")],
        sip_call_id=_text(data, "callid", 1024)[: _length("sip_call_id")],
    )


def _length(name: str) -> int:
    length = getattr(CallRecord._meta.get_field(name), "max_length", None)
    assert isinstance(length, int), name
    return length


def _time(data: Mapping[str, str]) -> datetime:
    text = _text(data, "t", 24, required=True)
    if not _TIME_RE.fullmatch(text):
        raise BadParams("t: seconds since 1970, e.g. 1796183985.123456")
    try:
        return datetime.fromtimestamp(float(Decimal(text)), UTC)
    except (InvalidOperation, OverflowError, OSError, ValueError):
        raise BadParams("t: out of range") from None


def _text(data: Mapping[str, str], name: str, max_length: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if required and not value.strip():
        raise BadParams(f"{name}: this parameter is required")
    if len(value) > max_length:
        raise BadParams(f"{name}: longer than {max_length} characters")
    if "\x00" in value:
        raise BadParams(f"{name}: contains a NUL character")
    return value
