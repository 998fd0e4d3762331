"""A small SIP REGISTER client for the end-to-end tests against a real Kamailio on loopback.

It stands in for real phones and for attackers alike, so the caller chooses every field a
client can choose (Call-ID, CSeq, branch, Contact, Expires, digest user, nonce count, extra
headers) and the client sends them verbatim, without checking them.

- `SipClient.register` sends one REGISTER and returns its final answer; `SipClient.login` does
  what a phone does: REGISTER, 401 challenge, REGISTER with an MD5 digest (RFC 2617).
- Over UDP a request is retransmitted after 0.5 s, 1 s, 2 s, ... (RFC 3261 timer E, T1 = 0.5 s,
  capped at T2 = 4 s) until an answer arrives; a provisional 1xx stops the retransmissions.
  Over TCP a request is sent once, on one connection kept for the client's life.
- Whatever has arrived before a request is sent is thrown away, so a late or duplicated answer
  to an earlier request is never taken for the answer to a new one.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

T1 = 0.5
T2 = 4.0
MAX_DATAGRAM = 65535
# Compact header names (RFC 3261 7.3.3 and later RFCs) and the full names they stand for.
COMPACT_HEADERS = {
    "i": "call-id",
    "m": "contact",
    "v": "via",
    "f": "from",
    "t": "to",
    "l": "content-length",
    "c": "content-type",
    "e": "content-encoding",
    "k": "supported",
    "s": "subject",
    "o": "event",
    "u": "allow-events",
}
_STATUS_LINE = re.compile(r"SIP/2\.0 (\d{3})(?: (.*))?")
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I | re.M)
# An auth scheme ("Digest ") in front of the parameters, but not a parameter name ("realm =").
_AUTH_SCHEME = re.compile(r"\s*[A-Za-z][\w-]*\s+(?![\s=])")
_AUTH_PARAM = re.compile(r'([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)')


def _header_key(name: str) -> str:
    key = name.strip().lower()
    return COMPACT_HEADERS.get(key, key)


@dataclass
class Response:
    """One SIP response as received."""

    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    raw: str = ""

    def header(self, name: str) -> str | None:
        """The first value of a header (any case, compact or full name), or None."""
        values = self.headers.get(_header_key(name))
        return values[0] if values else None

    @property
    def cseq_number(self) -> str:
        """The CSeq number exactly as the server wrote it ("" if there is none)."""
        return (self.header("cseq") or "").partition(" ")[0]


def _parse_headers(lines: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    values: list[str] | None = None
    for line in lines:
        if line[:1] in (" ", "\t") and values:
            # A folded line continues the previous header's value (RFC 3261 7.3.1).
            values[-1] = f"{values[-1]} {line.strip()}"
            continue
        name, colon, value = line.partition(":")
        if colon:
            values = headers.setdefault(_header_key(name), [])
            values.append(value.strip())
    return headers


def parse_response(raw: str) -> Response | None:
    """Parse a SIP response; None if `raw` is anything else (a request, a keep-alive, junk)."""
    head = re.split(r"\r?\n\r?\n", raw, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)
    status = _STATUS_LINE.fullmatch(lines[0])
    if status is None:
        return None
    reason = status.group(2) or ""
    return Response(int(status.group(1)), reason, _parse_headers(lines[1:]), raw)


def parse_challenge(header_value: str) -> dict[str, str]:
    """The parameters of a WWW-Authenticate value, names lower-cased, quotes removed."""
    scheme = _AUTH_SCHEME.match(header_value)
    params = header_value[scheme.end() :] if scheme else header_value
    parsed: dict[str, str] = {}
    for match in _AUTH_PARAM.finditer(params):
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        parsed[match.group(1).lower()] = value
    return parsed


def new_call_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}@e2e.test"


def new_branch() -> str:
    # The magic cookie tells the server the branch alone identifies the transaction.
    return "z9hG4bK" + secrets.token_hex(8)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _offers_auth(qop: str | None) -> bool:
    return qop is not None and "auth" in [option.strip() for option in qop.split(",")]


def digest_authorization(
    *,
    username: str,
    pin: str,
    challenge: dict[str, str],
    uri: str,
    nonce_count: int,
    method: str = "REGISTER",
) -> str:
    """An Authorization value answering `challenge` for `method` to `uri` (RFC 2617, MD5)."""
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1 = _md5(f"{username}:{realm}:{pin}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if _offers_auth(challenge.get("qop")):
        nc, cnonce = f"{nonce_count:08x}", secrets.token_hex(8)
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"')
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join([*fields, "algorithm=MD5"])


def _take_message(buffer: bytearray) -> bytes | None:
    """Cut the first complete message off a TCP byte stream, or None if it has not all come."""
    # Bare CRLFs between messages are keep-alives (RFC 5626 4.4.1) and carry nothing.
    while buffer[:2] == b"\r\n":
        del buffer[:2]
    end_of_head = buffer.find(b"\r\n\r\n")
    if end_of_head < 0:
        return None
    length = _CONTENT_LENGTH.search(bytes(buffer[:end_of_head]))
    end = end_of_head + 4 + (int(length.group(1)) if length else 0)
    if len(buffer) < end:
        return None
    message = bytes(buffer[:end])
    del buffer[:end]
    return message


class SipClient:
    """One SIP endpoint on (source_ip, source_port) talking to one server over UDP or TCP."""

    def __init__(
        self,
        *,
        target: tuple[str, int],
        source_ip: str = "127.0.0.1",
        source_port: int = 0,
        transport: str = "udp",
        timeout: float = 5.0,
    ) -> None:
        self.transport = transport.lower()
        if self.transport not in ("udp", "tcp"):
            raise ValueError(f"transport must be udp or tcp, not {transport!r}")
        self.target = target
        self.source_ip = source_ip
        self.timeout = timeout
        self.last_challenge: dict[str, str] | None = None
        self._stream = bytearray()  # TCP bytes received but not yet cut into messages
        self._sock = self._open(source_port)

    def _open(self, source_port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.source_ip else socket.AF_INET
        tcp = self.transport == "tcp"
        sock = socket.socket(family, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        try:
            if tcp:
                # A fixed source port is reusable at once although its last connection is in
                # TIME_WAIT. (Not for UDP: there it would let two sockets share the port.)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.source_ip, source_port))
            if tcp:
                sock.settimeout(self.timeout)
                sock.connect(self.target)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        return sock

    @property
    def local_port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def _host(self) -> str:
        return f"[{self.source_ip}]" if ":" in self.source_ip else self.source_ip

    def default_contact(self, user: str) -> str:
        transport = ";transport=tcp" if self.transport == "tcp" else ""
        return f"<sip:{user}@{self._host}:{self.local_port}{transport}>"

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def register(
        self,
        *,
        user: str,
        domain: str,
        pin: str | None = None,
        auth_user: str | None = None,
        call_id: str,
        cseq: int,
        expires: int | None = 300,
        contact: str | None = None,
        branch: str | None = None,
        nonce_count: int = 1,
        user_agent: str | None = "hotdesk-e2e-client",
        challenge: dict[str, str] | None = None,
        extra_headers: Sequence[str] = (),
        timeout: float | None = None,
        sent_by: str | None = None,
    ) -> Response:
        """Send one REGISTER and return its final response (see the module docstring).

        contact None: this socket's address; "": no Contact header (a query of the bindings);
        "*": Expires is sent as 0 (unless expires is None, which always means no Expires).
        The digest is only sent when both `challenge` and `pin` are given. sent_by: the Via's
        host:port, without rport (a phone behind NAT); None: this socket's, with rport.
        """
        uri = f"sip:{domain}"
        via = f"{sent_by}" if sent_by else f"{self._host}:{self.local_port};rport"
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport.upper()} {via};branch={branch or new_branch()}",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{domain}>;tag={secrets.token_hex(6)}",
            f"To: <sip:{user}@{domain}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} REGISTER",
        ]
        if contact != "":
            lines.append(f"Contact: {contact or self.default_contact(user)}")
        if expires is not None:
            lines.append(f"Expires: {0 if contact == '*' else expires}")
        if challenge is not None and pin is not None:
            digest = digest_authorization(
                username=auth_user or user,
                pin=pin,
                challenge=challenge,
                uri=uri,
                nonce_count=nonce_count,
            )
            lines.append(f"Authorization: {digest}")
        if user_agent:
            lines.append(f"User-Agent: {user_agent}")
        lines += [*extra_headers, "Content-Length: 0"]
        request = "\r\n".join(lines) + "\r\n\r\n"
        response = self._transact(request.encode(), call_id, str(cseq), timeout)
        self._remember_challenge(response)
        return response

    def _remember_challenge(self, response: Response) -> None:
        challenge = response.header("www-authenticate")
        if response.status == 401 and challenge is not None:
            self.last_challenge = parse_challenge(challenge)

    def login(
        self,
        *,
        user: str,
        domain: str,
        pin: str,
        call_id: str,
        cseq: int,
        expires: int | None = 300,
        contact: str | None = None,
        **kw: Any,
    ) -> Response:
        """REGISTER (cseq), then on a 401 REGISTER with the digest (cseq + 1, nonce count 1).

        Returns the second final response, or the first if it was not a 401 with a challenge.
        `kw` goes to both requests (auth_user, user_agent, extra_headers, timeout, ...).
        """
        common: dict[str, Any] = {
            "user": user,
            "domain": domain,
            "call_id": call_id,
            "expires": expires,
        }
        first = self.register(cseq=cseq, contact=contact, **common, **kw)
        if first.status != 401 or first.header("www-authenticate") is None:
            return first
        return self.register(
            cseq=cseq + 1,
            contact=contact,
            pin=pin,
            challenge=self.last_challenge,
            nonce_count=1,
            **common,
            **kw,
        )

    def send_raw(self, text: str | bytes) -> None:
        """Send anything at all (one datagram over UDP); read the answer with `receive`."""
        self._discard_pending()
        self._send(text.encode() if isinstance(text, str) else text)

    def next_message(self, *, timeout: float) -> str | None:
        """The next SIP message of any kind (a request to this phone too), or None."""
        return self._next_message(time.monotonic() + timeout)

    def send_to(self, text: str) -> None:
        """Send one message as it is, without throwing away what has arrived."""
        self._send(text.encode())

    def receive(self, *, call_id: str | None, timeout: float | None = None) -> Response:
        """The next final response with this Call-ID (None: any), skipping 1xx."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            response = self._next_response(call_id, until=deadline)
            if response is None:
                raise TimeoutError(f"no final response for Call-ID {call_id}")
            if response.status >= 200:
                return response

    def _transact(self, request: bytes, call_id: str, cseq: str, timeout: float | None) -> Response:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.send_raw(request)
        interval = T1
        # TCP is reliable: retransmitting is the transport's job (RFC 3261 17.1.2.2).
        next_send = time.monotonic() + interval if self.transport == "udp" else math.inf
        while True:
            response = self._next_response(call_id, until=min(deadline, next_send))
            if response is None:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no final response to CSeq {cseq} of {call_id}")
                self._send(request)
                interval = min(interval * 2, T2)
                next_send = time.monotonic() + interval
            elif response.cseq_number != cseq:
                continue
            elif response.status < 200:
                next_send = math.inf  # the server has the request and is working on it
            else:
                return response

    def _next_response(self, call_id: str | None, *, until: float) -> Response | None:
        """The next response with this Call-ID that arrives before `until`, or None."""
        while (raw := self._next_message(until)) is not None:
            response = parse_response(raw)
            if response is not None and call_id in (None, response.header("call-id")):
                return response
        return None

    def _next_message(self, until: float) -> str | None:
        if self.transport == "udp":
            datagram = self._recv(until)
            return None if datagram is None else datagram.decode(errors="replace")
        while (message := _take_message(self._stream)) is None:
            chunk = self._recv(until)
            if chunk is None:
                return None
            if not chunk:
                raise ConnectionError("the server closed the TCP connection")
            self._stream += chunk
        return message.decode(errors="replace")

    def _recv(self, until: float) -> bytes | None:
        """One read from the socket, or None if nothing came before `until` (past: don't wait)."""
        self._sock.settimeout(max(until - time.monotonic(), 0.0))
        try:
            return self._sock.recv(MAX_DATAGRAM)
        except (TimeoutError, BlockingIOError):
            return None

    def _discard_pending(self) -> None:
        # Anything already here was sent before the next request exists: no answer to it.
        while self._next_message(until=0.0) is not None:
            pass

    def _send(self, data: bytes) -> None:
        # Reads leave the socket non-blocking or nearly so; a send may have to wait.
        self._sock.settimeout(self.timeout)
        if self.transport == "udp":
            self._sock.sendto(data, self.target)
        else:
            self._sock.sendall(data)
