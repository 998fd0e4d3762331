"""Calls between hot desks for the end-to-end tests: a handset that logs in, calls and answers.

`Desk` wraps a `SipClient` (one socket: a phone registers and calls from the same address)
and speaks just enough of RFC 3261 for one call at a time over UDP: INVITE (answering the
edge's 407 with the operator's digest), ringing and answering, ACK, BYE and CANCEL, each
request sent along the Record-Route the edge put in the call. Every field a caller could
choose is a parameter, so a test can play an attacker as well.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

from .sip_client import (
    Response,
    SipClient,
    digest_authorization,
    new_branch,
    new_call_id,
    parse_challenge,
    parse_response,
)

# The handset's own address behind a NAT (RFC 1918): nothing on this host answers there.
PRIVATE_ADDRESS = "192.168.77.10"
_REQUEST_LINE = re.compile(r"([A-Z]+) (\S+) SIP/2\.0")


@dataclass
class Request:
    method: str
    uri: str
    raw: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])


def parse_request(raw: str) -> Request | None:
    head = re.split(r"\r?\n\r?\n", raw, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)
    found = _REQUEST_LINE.fullmatch(lines[0])
    if found is None:
        return None
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Request(found.group(1), found.group(2), raw, headers)


@dataclass
class Call:
    """One call as the caller sees it."""

    call_id: str
    local_tag: str
    remote_uri: str
    cseq: int = 1
    remote_tag: str = ""
    route: list[str] = field(default_factory=list)  # from the 2xx's Record-Route, reversed
    remote_target: str = ""  # the callee's Contact
    invite_branch: str = ""
    invite_headers: str = ""
    final: Response | None = None  # the INVITE's final answer, once read


class Desk:
    """One hot desk: a handset at one address, logged in as `extension`."""

    def __init__(
        self,
        *,
        edge: tuple[str, int],
        extension: str,
        domain: str,
        pin: str,
        source_ip: str = "127.0.0.1",
        transport: str = "udp",
        behind_nat: bool = False,
    ) -> None:
        self.edge, self.extension, self.domain, self.pin = edge, extension, domain, pin
        self.source_ip, self.transport = source_ip, transport
        # A handset behind NAT only knows its private address: its Via and Contact name it,
        # while its packets reach the edge from the NAT's public one (here: the socket's).
        self.advertised_ip = PRIVATE_ADDRESS if behind_nat else source_ip
        self.phone = SipClient(target=edge, source_ip=source_ip, transport=transport, timeout=5)
        self.login_call_id = new_call_id(f"desk{extension}")

    @property
    def _advertised(self) -> str:
        # Behind NAT the port is the phone's own too, not the one the NAT maps it to.
        port = 5060 if self.advertised_ip != self.source_ip else self.phone.local_port
        return f"{self.advertised_ip}:{port}"

    @property
    def contact(self) -> str:
        transport = ";transport=tcp" if self.transport == "tcp" else ""
        return f"<sip:{self.extension}@{self._advertised}{transport}>"

    def via(self, branch: str) -> str:
        # No rport parameter when behind NAT: many phones leave it out, so the edge must
        # answer to the source address anyway.
        rport = "" if self.advertised_ip != self.source_ip else ";rport"
        return f"Via: SIP/2.0/{self.transport.upper()} {self._advertised};branch={branch}{rport}"

    def close(self) -> None:
        self.phone.close()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _sent_by(self) -> str | None:
        return self._advertised if self.advertised_ip != self.source_ip else None

    def log_in(self) -> int:
        return self.phone.login(
            user=self.extension,
            domain=self.domain,
            pin=self.pin,
            call_id=self.login_call_id,
            cseq=1,
            contact=self.contact,
            sent_by=self._sent_by,
        ).status

    def refresh(self, *, cseq: int) -> Response:
        """The handset's periodic re-REGISTER of its login: same Call-ID, a higher CSeq."""
        return self.phone.login(
            user=self.extension,
            domain=self.domain,
            pin=self.pin,
            call_id=self.login_call_id,
            cseq=cseq,
            contact=self.contact,
            sent_by=self._sent_by,
        )

    def log_out(self) -> int:
        return self.phone.login(
            user=self.extension,
            domain=self.domain,
            pin=self.pin,
            call_id=self.login_call_id,
            cseq=10,
            contact=self.contact,
            expires=0,
            sent_by=self._sent_by,
        ).status

    # --- calling ---------------------------------------------------------------------------

    def invite(
        self,
        to: str,
        *,
        pin: str | None = None,
        from_user: str | None = None,
        extra_headers: tuple[str, ...] = (),
    ) -> tuple[Call, int]:
        """INVITE `to` (a bare extension) and wait for the outcome; (call, final status)."""
        call = self.dial(to, pin=pin, from_user=from_user, extra_headers=extra_headers)
        return call, self.outcome(call)

    def dial(
        self,
        to: str,
        *,
        pin: str | None = None,
        from_user: str | None = None,
        extra_headers: tuple[str, ...] = (),
        domain: str | None = None,
    ) -> Call:
        """Send the INVITE, answering the edge's 407 at once; `outcome` waits for the rest.

        `domain`: the Request-URI's and To's, if not the handset's own (an attacker's choice).
        """
        call = Call(
            call_id=new_call_id(f"call{self.extension}"),
            local_tag=secrets.token_hex(4),
            remote_uri=f"sip:{to}@{domain or self.domain}",
        )
        headers = (
            f"From: <sip:{from_user or self.extension}@{self.domain}>;tag={call.local_tag}\r\n"
            f"To: <{call.remote_uri}>\r\n" + "".join(line + "\r\n" for line in extra_headers)
        )
        call.invite_headers = headers
        self._send_invite(call, headers)
        # The edge challenges or refuses at once; only the challenge is answered here.
        first = self._final(call, "INVITE", timeout=6)
        if first is None or first.status != 407:
            call.final = first
            return call
        self.ack_failure(call, first)
        digest = digest_authorization(
            username=from_user or self.extension,
            pin=pin or self.pin,
            challenge=parse_challenge(first.header("proxy-authenticate") or ""),
            uri=call.remote_uri,
            nonce_count=1,
            method="INVITE",
        )
        call.cseq += 1
        self._send_invite(call, headers + f"Proxy-Authorization: {digest}\r\n")
        return call

    def outcome(self, call: Call, *, timeout: float = 6) -> int:
        """The INVITE's final status (0: none came), acknowledged as RFC 3261 says."""
        final = call.final or self._final(call, "INVITE", timeout=timeout)
        if final is None:
            return 0
        if 200 <= final.status < 300:
            call.remote_tag = _tag(final.header("to") or "")
            call.route = list(reversed(_record_route(final.raw)))
            call.remote_target = _uri(final.header("contact") or "")
            self._send_in_call(call, "ACK", cseq=call.cseq)
        else:
            self.ack_failure(call, final)
        return final.status

    def cancel(self, call: Call) -> int:
        """CANCEL the ringing INVITE (its branch and CSeq number); the CANCEL's own status."""
        self.phone.send_to(
            f"CANCEL {call.remote_uri} SIP/2.0\r\n"
            f"{self.via(call.invite_branch)}\r\n"
            "Max-Forwards: 70\r\n"
            f"{call.invite_headers}Call-ID: {call.call_id}\r\nCSeq: {call.cseq} CANCEL\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        answer = self._final(call, "CANCEL", timeout=6)
        return answer.status if answer else 0

    def _send_invite(self, call: Call, headers: str) -> None:
        call.invite_branch = new_branch()
        self.phone.send_raw(
            f"INVITE {call.remote_uri} SIP/2.0\r\n"
            f"{self.via(call.invite_branch)}\r\n"
            "Max-Forwards: 70\r\n"
            f"{headers}Call-ID: {call.call_id}\r\nCSeq: {call.cseq} INVITE\r\n"
            f"Contact: {self.contact}\r\nContent-Length: 0\r\n\r\n"
        )

    def _final(self, call: Call, method: str, *, timeout: float) -> Response | None:
        """The next final response to `method` of `call`, skipping everything else."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = self.phone.next_message(timeout=deadline - time.monotonic())
            response = parse_response(raw) if raw else None
            if (
                response is not None
                and response.header("call-id") == call.call_id
                and (response.header("cseq") or "").endswith(f" {method}")
                and response.status >= 200
            ):
                return response
        return None

    def ack_failure(self, call: Call, response: Response) -> None:
        """ACK a non-2xx final answer to the INVITE: same branch, hop by hop (RFC 3261 17.1.1.3)."""
        self.phone.send_to(
            f"ACK {call.remote_uri} SIP/2.0\r\n"
            f"{self.via(call.invite_branch)}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{self.extension}@{self.domain}>;tag={call.local_tag}\r\n"
            f"To: {response.header('to')}\r\nCall-ID: {call.call_id}\r\n"
            f"CSeq: {call.cseq} ACK\r\nContent-Length: 0\r\n\r\n"
        )

    def reinvite(self, call: Call) -> int:
        """A re-INVITE within the call (a hold, a codec change), ACKed; its final status."""
        call.cseq += 1
        self._send_in_call(call, "INVITE", cseq=call.cseq)
        final = self._final(call, "INVITE", timeout=6)
        if final is None:
            return 0
        if 200 <= final.status < 300:
            self._send_in_call(call, "ACK", cseq=call.cseq)
        return final.status

    def hang_up(self, call: Call) -> int:
        call.cseq += 1
        self._send_in_call(call, "BYE", cseq=call.cseq)
        response = self.phone.receive(call_id=call.call_id, timeout=5)
        return response.status

    def _send_in_call(self, call: Call, method: str, *, cseq: int) -> None:
        routes = "".join(f"Route: {route}\r\n" for route in call.route)
        self.phone.send_to(
            f"{method} {call.remote_target} SIP/2.0\r\n"
            f"{self.via(new_branch())}\r\n"
            f"Max-Forwards: 70\r\n{routes}"
            f"From: <sip:{self.extension}@{self.domain}>;tag={call.local_tag}\r\n"
            f"To: <{call.remote_uri}>;tag={call.remote_tag}\r\nCall-ID: {call.call_id}\r\n"
            f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )

    # --- being called -----------------------------------------------------------------------

    def wait_for(self, method: str, *, timeout: float = 5) -> Request | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = self.phone.next_message(timeout=deadline - time.monotonic())
            request = parse_request(raw) if raw else None
            if request is not None and request.method == method:
                return request
        return None

    def dialog_of(self, invite: Request, *, tag: str) -> Call:
        """The callee's side of the call `invite` started (answered with To tag `tag`), so the
        callee can send requests within it too: the route set is the INVITE's Record-Route
        in order (RFC 3261 12.1.1), the remote target its Contact."""
        return Call(
            call_id=invite.header("call-id") or "",
            local_tag=tag,
            remote_uri=_uri(invite.header("from") or ""),
            cseq=100,
            remote_tag=_tag(invite.header("from") or ""),
            route=_record_route(invite.raw),
            remote_target=_uri(invite.header("contact") or ""),
        )

    def answer(self, request: Request, status: int, reason: str, *, tag: str = "") -> None:
        """Reply to `request` as the edge sent it: its Vias and Record-Route copied back."""
        to = request.header("to") or ""
        if tag and ";tag=" not in to:
            to += f";tag={tag}"
        vias = "".join(f"Via: {via}\r\n" for via in request.all("via"))
        routes = "".join(f"Record-Route: {rr}\r\n" for rr in request.all("record-route"))
        self.phone.send_to(
            f"SIP/2.0 {status} {reason}\r\n{vias}{routes}"
            f"From: {request.header('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {request.header('call-id')}\r\nCSeq: {request.header('cseq')}\r\n"
            f"Contact: {self.contact}\r\nContent-Length: 0\r\n\r\n"
        )


def _tag(header: str) -> str:
    found = re.search(r";tag=([^;>\s]+)", header)
    return found.group(1) if found else ""


def _uri(header: str) -> str:
    found = re.search(r"<([^>]+)>", header)
    return found.group(1) if found else header.split(";")[0].strip()


def _record_route(raw: str) -> list[str]:
    routes = []
    for line in re.split(r"\r?\n", raw):
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "record-route":
            routes += [part.strip() for part in value.split(",")]
    return routes
