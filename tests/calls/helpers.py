"""Call events as the shipped edge sends them (deploy/kamailio/kamailio.cfg, route CALL_START)."""

from __future__ import annotations

import itertools
from datetime import datetime
from urllib.parse import urlencode

EVENTS_URL = "/api/sip/v1/calls/events"
T0 = 1796180000.0  # 2026-12-02 03:33:20 UTC, the edge's clock
HANDSET_IP = "203.0.113.7"

_refs = itertools.count(1)


def new_ref() -> str:
    return f"srid-call-{next(_refs)}"


def start(ref: str, *, t: float = T0, direction="internal", op="1001", other="1002", **extra):
    return {
        "event": "start",
        "ref": ref,
        "t": f"{t:.6f}",
        "dir": direction,
        "domain": "acme.pbx.test",
        "op": op,
        "other": other,
        "ip": HANDSET_IP,
        "ua": "Yealink SIP-T54W 96.86.0.70",
        "callid": f"{ref}@handset",
        **extra,
    }


def answer(ref: str, *, t: float) -> dict:
    return {"event": "answer", "ref": ref, "t": f"{t:.6f}"}


def end(ref: str, *, t: float, code: int = 200, cancelled: bool = False) -> dict:
    return {
        "event": "end",
        "ref": ref,
        "t": f"{t:.6f}",
        "code": str(code),
        "cancelled": "1" if cancelled else "0",
    }


def post_events(client, events: list[dict]):
    body = "\n".join(urlencode(event) for event in events)
    return client.post(EVENTS_URL, body, content_type="text/plain; charset=utf-8")


def at(t: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(t, UTC)
