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

from registrations.api_forms import BadParams, batch_lines, form_params, text_param

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
    lines = batch_lines(body, max_lines=MAX_BATCH, what="call events")
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
    ref = text_param(data, "ref", 64, required=True)
    if not _REF_RE.fullmatch(ref):
        raise BadParams("ref: the edge's call id (letters, digits, - _ . : @)")
    if kind == ANSWER:
        return CallEvent(kind=kind, at=at, ref=ref)
    if kind == END:
        code = text_param(data, "code", 3, required=True)
        if not (code.isascii() and code.isdigit() and 100 <= int(code) <= 699):
            raise BadParams("code: a SIP status code (100-699)")
        cancelled = text_param(data, "cancelled", 1) == "1"
        return CallEvent(kind=kind, at=at, ref=ref, sip_code=int(code), cancelled=cancelled)
    if kind == START:
        return _start(data, at=at, ref=ref)
    raise BadParams("event: must be start, answer, end or started")


def _start(data: Mapping[str, str], *, at: datetime, ref: str) -> CallEvent:
    direction = text_param(data, "dir", 8, required=True)
    if direction not in Direction.values:
        raise BadParams("dir: must be internal, out or in")
    return CallEvent(
        kind=START,
        at=at,
        ref=ref,
        direction=direction,
        domain=text_param(data, "domain", 253, required=True).strip().lower(),
        extension=text_param(data, "op", _length("extension"), required=True).strip(),
        # Whatever the far end dialled or presented: cut, never refused for its length.
        other_party=text_param(data, "other", 1024)[: _length("other_party")],
        handset_ip=text_param(data, "ip", _length("handset_ip")),
        user_agent=text_param(data, "ua", 1024)[: _length("user_agent")],
        sip_call_id=text_param(data, "callid", 1024)[: _length("sip_call_id")],
    )


def _length(name: str) -> int:
    length = getattr(CallRecord._meta.get_field(name), "max_length", None)
    assert isinstance(length, int), name
    return length


def _time(data: Mapping[str, str]) -> datetime:
    text = text_param(data, "t", 24, required=True)
    if not _TIME_RE.fullmatch(text):
        raise BadParams("t: seconds since 1970, e.g. 1796183985.123456")
    try:
        return datetime.fromtimestamp(float(Decimal(text)), UTC)
    except (InvalidOperation, OverflowError, OSError, ValueError):
        raise BadParams("t: out of range") from None
