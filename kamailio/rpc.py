"""Kamailio's RPC interface (the `jsonrpcs` module over HTTP), as far as the portal needs it.

The portal acts on a SIP edge in two ways: it removes a handset's binding at once (forced
logout, revoked access, new PIN) and it reads the location table, which is where a refresh
of an unchanged binding ends up (Kamailio does not report it to the portal). The stdlib only,
and a short timeout: an administrator's click must never hang on a dead edge.

Kamailio 5.6 answers `ul.dump` with
``{"Domains": [{"Domain": {"Domain": "location", "Size": 1024, "AoRs": [{"Info": {"AoR":
"1001@acme.pbx.test", "HashID": ..., "Contacts": [{"Contact": {"Address": "sip:...",
"Expires": 3594, "Call-ID": "...", "User-Agent": "...", "Received": "[not set]",
"Last-Modified": 1714550400, ...}}]}}], "Stats": {...}}}]}``: `Expires` is the seconds left,
or "permanent", "expired" or "deleted"; unset strings read "[not set]"; `Last-Modified` is a
Unix time (0 for a contact added over RPC). A JSON-RPC error comes back as HTTP 500 with a
JSON-RPC error body, e.g. ``{"code": 500, "message": "AOR not found in location table"}``.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

LOCATION_TABLE = "location"
DEFAULT_TIMEOUT = 2.0
# Larger answers are refused rather than read into memory: a location table that big is
# not something to parse on every dashboard refresh.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
NOT_SET = "[not set]"

_ids = itertools.count(1)


class EdgeUnreachable(Exception):
    """The SIP edge could not be asked, or did not give a usable answer.

    Connection refused, timeout, an HTTP error, a JSON-RPC error or a malformed answer: for
    the caller they all mean "this edge did not do what was asked".
    """


class JsonRpcError(EdgeUnreachable):
    """Kamailio answered the call with a JSON-RPC error."""

    def __init__(self, code, message: str) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Binding:
    """One contact in Kamailio's location table."""

    aor: str  # "1001@acme.pbx.test" (usrloc use_domain=1)
    contact: str  # the Contact URI as stored
    expires_at: datetime | None  # None: permanent (added without an expiry)
    received: str  # the NAT source Kamailio saw ("sip:203.0.113.7:40000"), or ""
    user_agent: str
    call_id: str
    last_modified: datetime | None  # when the handset last registered, if Kamailio knows


def call(
    *,
    rpc_url: str,
    method: str,
    params: list | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    authorization: str = "",
) -> Any:
    """Call one RPC method and return its `result`; raises `EdgeUnreachable` on any failure.

    The shipped cfg serves only ul.dump and ul.rm, in exactly the form written here (key
    order and spacing included), to a caller whose `authorization` header it knows.
    """
    if urlsplit(rpc_url).scheme not in {"http", "https"}:
        # urllib would also open file: and ftp: URLs.
        raise EdgeUnreachable(f"not an HTTP URL: {rpc_url!r}")
    request_id = next(_ids)
    body = {"jsonrpc": "2.0", "method": method, "id": request_id}
    if params is not None:
        body["params"] = params
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        rpc_url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        # jsonrpcs answers a JSON-RPC error with HTTP 500 and the error in the body.
        raw = _read_error_body(error)
        if _error_of(raw) is None:
            raise EdgeUnreachable(f"HTTP {error.code} {error.reason}") from error
    except (OSError, ValueError) as error:  # URLError, timeouts, resets; bad URLs
        raise EdgeUnreachable(_describe(error)) from error
    if len(raw) > MAX_ANSWER_BYTES:
        raise EdgeUnreachable(f"answer larger than {MAX_ANSWER_BYTES} bytes")
    answer = _decode(raw)
    if (rpc_error := _error_of(raw)) is not None:
        raise JsonRpcError(rpc_error.get("code"), str(rpc_error.get("message", "")))
    if "result" not in answer:
        raise EdgeUnreachable("JSON-RPC answer without a result")
    return answer["result"]


def remove_binding(
    *, rpc_url: str, aor: str, timeout: float = DEFAULT_TIMEOUT, authorization: str = ""
) -> None:
    """Delete the AoR's record (every contact of it) from the location table (`ul.rm`).

    An AoR that is not there counts as removed: the binding is gone either way. Kamailio 5.6
    answers that case with an empty result; other versions with "AOR not found".
    """
    try:
        call(
            rpc_url=rpc_url,
            method="ul.rm",
            params=[LOCATION_TABLE, aor],
            timeout=timeout,
            authorization=authorization,
        )
    except JsonRpcError as error:
        # Only a missing AoR: "Domain table not found" is a misconfigured edge, not success.
        if "aor not found" not in error.message.lower():
            raise


def list_bindings(
    *, rpc_url: str, timeout: float = DEFAULT_TIMEOUT, authorization: str = ""
) -> list[Binding]:
    """Every live contact in the location table (`ul.dump`).

    Contacts Kamailio already counts as expired or deleted are left out, and so is any entry
    that does not have the expected shape (one odd entry must not hide the others). An answer
    that is not a dump at all raises `EdgeUnreachable`.
    """
    result = call(rpc_url=rpc_url, method="ul.dump", timeout=timeout, authorization=authorization)
    now = datetime.now(UTC)
    if not isinstance(result, dict) or not isinstance(result.get("Domains"), list | dict):
        raise EdgeUnreachable("ul.dump answer without Domains")
    bindings = []
    for domain in _items(result["Domains"], "Domain"):
        if domain.get("Domain") != LOCATION_TABLE:
            continue
        for record in _items(domain.get("AoRs"), "Info"):
            aor = record.get("AoR")
            if not isinstance(aor, str):
                continue
            for contact in _items(record.get("Contacts"), "Contact"):
                binding = _binding(aor, contact, now=now)
                if binding is not None:
                    bindings.append(binding)
    return bindings


def _binding(aor: str, contact: dict, *, now: datetime) -> Binding | None:
    address = contact.get("Address")
    expires = contact.get("Expires")
    if not isinstance(address, str) or not address:
        return None
    if expires == "permanent":
        expires_at = None
    elif isinstance(expires, int) and not isinstance(expires, bool) and expires > 0:
        expires_at = now + timedelta(seconds=expires)
    else:  # "expired", "deleted", anything else: not a live binding
        return None
    modified = contact.get("Last-Modified")
    last_modified = (
        datetime.fromtimestamp(modified, UTC)
        if isinstance(modified, int) and not isinstance(modified, bool) and modified > 0
        else None
    )
    return Binding(
        aor=aor,
        contact=address,
        expires_at=expires_at,
        received=_text(contact.get("Received")),
        user_agent=_text(contact.get("User-Agent")),
        call_id=_text(contact.get("Call-ID")),
        last_modified=last_modified,
    )


def _items(value: Any, key: str) -> list[dict]:
    """The `{key: {...}}` wrappers of a dump level, unwrapped; one wrapper or a list of them."""
    wrappers = value if isinstance(value, list) else [value]
    return [
        wrapper[key]
        for wrapper in wrappers
        if isinstance(wrapper, dict) and isinstance(wrapper.get(key), dict)
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value != NOT_SET else ""


def _decode(raw: bytes) -> dict:
    try:
        answer = json.loads(raw)
    except ValueError as error:
        raise EdgeUnreachable("answer is not JSON") from error
    if not isinstance(answer, dict):
        raise EdgeUnreachable("answer is not a JSON-RPC object")
    return answer


def _error_of(raw: bytes) -> dict | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    return error if isinstance(error, dict) else None


def _read_error_body(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(64 * 1024)
    except OSError:
        return b""


def _describe(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    return str(reason if reason is not None else error) or type(error).__name__


# --- calls in progress (the dialog module) and the tables the edge fetches ------------------

CALLS_PROFILE = "hotdesk"  # the cfg files each call under its operators in this profile


@dataclass(frozen=True)
class CallHandle:
    """One call in an edge's dialog table, as `dlg.end_dlg` names it."""

    h_entry: int
    h_id: int
    call_id: str
    confirmed: bool  # answered (state 4): only such a call can be ended with a BYE


def list_calls(
    *, rpc_url: str, operator: str, timeout: float = DEFAULT_TIMEOUT, authorization: str = ""
) -> list[CallHandle]:
    """The calls in progress of `operator` ("1001@acme.pbx.test"), as caller or callee.

    Kamailio 5.6 answers `dlg.profile_list` with a list of dialogs (``h_entry``, ``h_id``,
    ``call-id``, ``state``: 1 unconfirmed ... 4 confirmed, 5 deleted), empty for none.
    """
    result = call(
        rpc_url=rpc_url,
        method="dlg.profile_list",
        params=[CALLS_PROFILE, operator],
        timeout=timeout,
        authorization=authorization,
    )
    dialogs = result if isinstance(result, list) else [result] if isinstance(result, dict) else []
    handles = []
    for dialog in dialogs:
        h_entry, h_id = dialog.get("h_entry"), dialog.get("h_id")
        if isinstance(h_entry, int) and isinstance(h_id, int) and _is_count(h_entry, h_id):
            handles.append(
                CallHandle(
                    h_entry=h_entry,
                    h_id=h_id,
                    call_id=_text(dialog.get("call-id")),
                    confirmed=dialog.get("state") == 4,
                )
            )
    return handles


def end_call(
    *, rpc_url: str, handle: CallHandle, timeout: float = DEFAULT_TIMEOUT, authorization: str = ""
) -> None:
    """End an answered call: the edge sends a BYE to each side (`dlg.end_dlg`)."""
    call(
        rpc_url=rpc_url,
        method="dlg.end_dlg",
        params=[handle.h_entry, handle.h_id],
        timeout=timeout,
        authorization=authorization,
    )


def fetch_tables_now(
    *, rpc_url: str, timeout: float = DEFAULT_TIMEOUT, authorization: str = ""
) -> None:
    """Make the edge fetch the PBX table and the locked list within a second, not at its
    next periodic fetch (the cfg's route PBX_TABLE runs when hdportal=>tables_due is past)."""
    call(
        rpc_url=rpc_url,
        method="htable.seti",
        params=["hdportal", "tables_due", 0],
        timeout=timeout,
        authorization=authorization,
    )


def _is_count(*values: int) -> bool:
    return all(not isinstance(value, bool) and value >= 0 for value in values)
