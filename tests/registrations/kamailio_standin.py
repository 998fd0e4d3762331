"""A stand-in for Kamailio's JSON-RPC over HTTP (jsonrpcs + xhttp), for the RPC client's tests.

It keeps a location table and a dialog table in memory, answers `ul.dump`, `ul.rm`,
`dlg.profile_list`, `dlg.end_dlg` and `htable.seti` in the shape Kamailio 5.6 gives (checked
against a real 5.6.3: see `kamailio/rpc.py`), and records every
call it received, so a test asserts on what reached the "edge" rather than on a mock. The real
Kamailio is exercised by the `sip` tests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class StandIn:
    """What the stand-in holds and how it misbehaves; change the fields from a test."""

    url: str = ""
    # AoR -> contacts, each a dict of the Contact fields that differ from Kamailio's defaults.
    table: dict[str, list[dict]] = field(default_factory=dict)
    calls: list[dict] = field(default_factory=list)  # the JSON-RPC requests received
    http_status: int | None = None  # answer every request with this status and a text body
    raw_answer: bytes | None = None  # answer every request with these bytes (HTTP 200)
    delay: float = 0.0  # seconds to wait before answering
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)  # method -> (code, message)
    # Calls in progress: each a dlg.profile_list entry with its "profiles" (operators).
    dialogs: list[dict] = field(default_factory=list)

    def add(self, aor: str, contact: str, *, expires=3600, **fields) -> None:
        self.table.setdefault(aor, []).append({"Address": contact, "Expires": expires, **fields})

    def add_call(self, *operators: str, answered: bool = True) -> dict:
        """A call between `operators` ("1001@acme.pbx.test"), as the dialog module holds it."""
        dialog = {
            "h_entry": 100 + len(self.dialogs),
            "h_id": 7000 + len(self.dialogs),
            "call-id": f"standin-call-{len(self.dialogs)}@192.0.2.1",
            "state": 4 if answered else 2,
            "profiles": [{"hotdesk": operator} for operator in operators],
        }
        self.dialogs.append(dialog)
        return dialog

    def methods(self) -> list[tuple[str, list]]:
        return [(call["method"], call.get("params", [])) for call in self.calls]


def _contact(fields: dict) -> dict:
    contact = {
        "Address": "",
        "Expires": 3600,
        "Q": -1,
        "Call-ID": "standin-call@192.0.2.1",
        "CSeq": 2,
        "User-Agent": "[not set]",
        "Received": "[not set]",
        "Path": "[not set]",
        "State": "CS_NEW",
        "Flags": 0,
        "CFlags": 0,
        "Socket": "udp:127.0.0.1:5060",
        "Methods": 4294967295,
        "Ruid": "uloc-standin",
        "Instance": "[not set]",
        "Reg-Id": 0,
        "Server-Id": 0,
        "Tcpconn-Id": -1,
        "Keepalive": 0,
        "Last-Keepalive": int(time.time()),
        "KA-Roundtrip": 0,
        "Last-Modified": int(time.time()),
    }
    contact.update(fields)
    return {"Contact": contact}


def _dump(table: dict[str, list[dict]]) -> dict:
    records = [
        {
            "Info": {
                "AoR": aor,
                "HashID": abs(hash(aor)) % 2**31,
                "Contacts": [_contact(c) for c in contacts],
            }
        }
        for aor, contacts in table.items()
        if contacts
    ]
    return {
        "Domains": [
            {
                "Domain": {
                    "Domain": "location",
                    "Size": 1024,
                    "AoRs": records,
                    "Stats": {"Records": len(records), "Max-Slots": 1 if records else 0},
                }
            }
        ]
    }


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep pytest's output clean
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        standin = self.standin
        try:
            request = json.loads(body)
        except ValueError:
            request = {"unparsable": body.decode(errors="replace")}
        standin.calls.append(request)
        if standin.delay:
            time.sleep(standin.delay)
        if standin.http_status is not None:
            return self._send(standin.http_status, b"Service Unavailable", "text/plain")
        if standin.raw_answer is not None:
            return self._send(200, standin.raw_answer, "application/json")
        if self.path != "/RPC":
            return self._send(404, b"", "text/plain")
        status, answer = self._answer(request)
        return self._send(status, json.dumps(answer).encode(), "application/json")

    def _answer(self, request: dict) -> tuple[int, dict]:
        method, params = request.get("method"), request.get("params", [])
        request_id = request.get("id")

        def error(code: int, message: str) -> tuple[int, dict]:
            # jsonrpcs: the HTTP status and reason follow the JSON-RPC error.
            return code, {
                "jsonrpc": "2.0",
                "error": {"code": code, "message": message},
                "id": request_id,
            }

        if method in self.standin.errors:
            return error(*self.standin.errors[method])
        result: dict | list | str
        if method == "ul.dump":
            result = _dump(self.standin.table)
        elif method == "ul.rm":
            if len(params) < 2:
                return error(500, "Not enough parameters (table and AOR to lookup)")
            if params[0] != "location":
                return error(500, "Domain table not found")
            self.standin.table.pop(params[1], None)  # 5.6: a missing AoR is not an error
            result = {}
        elif method == "dlg.profile_list":
            result = [
                dialog
                for dialog in self.standin.dialogs
                if {params[0]: params[1]} in dialog["profiles"]
            ]
        elif method == "dlg.end_dlg":
            found = [d for d in self.standin.dialogs if [d["h_entry"], d["h_id"]] == params]
            if not found:
                return error(404, "Requested Dialog not found")
            self.standin.dialogs.remove(found[0])
            result = {}
        elif method == "htable.seti":
            result = "Ok. Key set to new value."
        else:
            return error(500, "Method Not Found")
        return 200, {"jsonrpc": "2.0", "result": result, "id": request_id}

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StandInServer:
    """Serve a `StandIn` on 127.0.0.1 (a free port) from a background thread."""

    def __init__(self) -> None:
        self.standin = StandIn()
        handler = type("Handler", (_Handler,), {"standin": self.standin})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.standin.url = f"http://127.0.0.1:{self.server.server_address[1]}/RPC"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self.standin

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """An RPC URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/RPC"
