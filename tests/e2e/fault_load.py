"""What runs against the edge while a fault is injected: sipp's steady load and our probes.

- `SippLoad`: sipp places new handset calls at a fixed rate (tests/e2e/sipp/handset_load.xml:
  a login, a refresh with the cached nonce, a log-out) for as long as it runs; the report
  says how many calls ended well, how many failed (a request that got no answer), and the
  response times of each kind of REGISTER.
- `Probes`: threads of our own that each send one kind of request over and over and note
  every answer with when it was sent and how long it took (None: no answer): an OPTIONS
  ping, the refreshes of a handset that stays logged in (as a phone does: the cached nonce,
  and a new login when challenged), new logins (logged out again at once), and one wrong PIN
  a second, each from a user of its own (`Victim`), so each user's count can be checked.
"""

from __future__ import annotations

import csv
import itertools
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .seed import LOAD_EXTENSIONS, PIN, WRONG_PIN, Seat
from .sip_client import Response, SipClient, new_call_id

SCENARIO = Path(__file__).resolve().parent / "sipp" / "handset_load.xml"
# sipp's REGISTER kinds, by the response-time timer the scenario starts for each.
SIPP_TIMERS = {"1": "login", "2": "refresh", "3": "log-out"}


@dataclass(frozen=True)
class Answer:
    kind: str  # options | refresh | login | logout | wrong_pin
    at: float  # when it was sent, seconds on the Probes' clock
    status: int | None  # None: no final answer within the probe's timeout
    seconds: float
    retry_after: str | None = None
    call_id: str = ""
    extension: str = ""


@dataclass
class LoadReport:
    calls: int
    ok: int
    failed: int
    response_ms: dict[str, list[float]]

    def slowest(self, kind: str) -> float:
        return max(self.response_ms.get(kind) or [0.0])

    def p99(self, kind: str) -> float:
        values = self.response_ms.get(kind) or []
        return (
            statistics.quantiles(values, n=100, method="inclusive")[98]
            if len(values) > 1
            else self.slowest(kind)
        )


class SippLoad:
    """sipp placing `rate` handset calls a second over UDP, from `local_port`, until stopped."""

    def __init__(self, workdir: Path, *, target: str, local_port: int, rate: float) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.target, self.local_port, self.rate = target, local_port, rate
        self._process: subprocess.Popen | None = None

    def start(self, domain: str) -> None:
        phones = self.dir / "phones.csv"
        phones.write_text(
            "SEQUENTIAL\n"
            + "".join(
                f"{extension};{domain};[authentication username={extension} password={PIN}]\n"
                for extension in LOAD_EXTENSIONS
            )
        )
        argv = [
            "sipp",
            self.target,
            "-sf",
            str(SCENARIO),
            "-inf",
            str(phones),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.local_port),
            "-t",
            "u1",
            "-r",
            str(self.rate),
            "-l",
            str(len(LOAD_EXTENSIONS) // 2),  # never two calls of one handset at once
            "-nostdin",
            "-default_behaviors",
            "abortunexp",
            "-recv_timeout",
            "8000",
            "-timeout",
            "600s",
            "-trace_stat",
            "-stf",
            str(self.dir / "stat.csv"),
            "-fd",
            "600",
            "-trace_rtt",
            "-rtt_freq",
            "1",
            "-trace_err",
            "-error_file",
            str(self.dir / "errors.log"),
        ]
        self._out = (self.dir / "sipp.out").open("w")
        self._process = subprocess.Popen(argv, cwd=self.dir, stdout=self._out, stderr=self._out)

    def stop(self) -> LoadReport:
        """Place no new calls, let the ones in flight end (SIGUSR1), and read what sipp saw."""
        assert self._process is not None
        self._process.send_signal(signal.SIGUSR1)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._out.close()
        with (self.dir / "stat.csv").open() as handle:
            last = list(csv.DictReader(handle, delimiter=";"))[-1]
        return LoadReport(
            calls=int(last["OutgoingCall(C)"]),
            ok=int(last["SuccessfulCall(C)"]),
            failed=int(last["FailedCall(C)"]),
            response_ms=self._response_times(),
        )

    def _response_times(self) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {kind: [] for kind in SIPP_TIMERS.values()}
        for path in self.dir.glob("*_rtt.csv"):
            with path.open() as handle:
                for row in csv.reader(handle, delimiter=";"):
                    if len(row) >= 3 and row[2].strip() in SIPP_TIMERS:
                        found[SIPP_TIMERS[row[2].strip()]].append(float(row[1]))
        return found


@dataclass
class Probes:
    """Threads sending one kind of request each, every `interval` seconds, until `stop()`."""

    target: tuple[str, int]
    refresher: Seat
    logins: list[Seat]
    victims: Iterator[Seat]
    timeout: float = 6.0
    answers: list[Answer] = field(default_factory=list)
    revoked_at: float | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._started = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._started

    def start(self) -> None:
        for work, interval in (
            (self._options, 0.2),
            (self._refreshes, 0.5),
            (self._logins, 0.5),
            (self._wrong_pins, 1.0),
        ):
            thread = threading.Thread(target=work, args=(interval,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout * 3)

    def of(self, kind: str, *, since: float = float("-inf")) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.kind == kind and a.at >= since]

    def wait_for(self, found: Callable[[list[Answer]], bool], *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if found(list(self.answers)):
                    return True
            time.sleep(0.05)
        return False

    def _note(self, kind: str, call: Callable[[], Response], **about: str) -> Response | None:
        at = self.now()
        started = time.monotonic()
        try:
            response: Response | None = call()
        except (TimeoutError, OSError):
            response = None
        answer = Answer(
            kind=kind,
            at=at,
            status=response.status if response else None,
            seconds=time.monotonic() - started,
            retry_after=response.header("Retry-After") if response else None,
            **about,
        )
        with self._lock:
            self.answers.append(answer)
        return response

    def _every(self, interval: float) -> Iterator[int]:
        for n in itertools.count():
            if self._stop.wait(interval if n else 0):
                return
            yield n

    def _client(self) -> SipClient:
        return SipClient(target=self.target, timeout=self.timeout)

    def _options(self, interval: float) -> None:
        with self._client() as phone:
            for _ in self._every(interval):
                call_id = new_call_id("ping")

                def ping(call_id: str = call_id) -> Response:
                    phone.send_raw(options_request(self.target, phone.local_port, call_id))
                    return phone.receive(call_id=call_id, timeout=self.timeout)

                self._note("options", ping, call_id=call_id)

    def _send(
        self, kind: str, send: Callable[..., Response], seat: Seat, call_id: str, **fields: Any
    ) -> Response | None:
        """`send` (a SipClient method) for `seat`'s handset on `call_id`, noted as `kind`."""
        request = partial(send, user=seat.extension, domain=seat.domain, call_id=call_id, **fields)
        return self._note(kind, request, call_id=call_id, extension=seat.extension)

    def _refreshes(self, interval: float) -> None:
        seat, call_id = self.refresher, new_call_id("refresher")
        cseq, nonce_count = itertools.count(1), itertools.count(2)
        with self._client() as phone:
            login = phone.login(
                user=seat.extension, domain=seat.domain, pin=PIN, call_id=call_id, cseq=next(cseq)
            )
            next(cseq)
            assert login.status == 200, login.raw

            def refresh(nonce_count: int) -> Response | None:
                return self._send(
                    "refresh",
                    phone.register,
                    seat,
                    call_id,
                    pin=PIN,
                    cseq=next(cseq),
                    challenge=phone.last_challenge,
                    nonce_count=nonce_count,
                )

            for _ in self._every(interval):
                # As a handset does: the cached nonce; when challenged, the digest for the new
                # one at once (the same Call-ID, the next CSeq).
                response = refresh(next(nonce_count))
                if response is not None and response.status == 401:
                    nonce_count = itertools.count(2)
                    refresh(1)

    def _logins(self, interval: float) -> None:
        seats = itertools.cycle(self.logins)
        for _ in self._every(interval):
            seat, call_id = next(seats), new_call_id("probelogin")
            with self._client() as phone:
                response = self._send("login", phone.login, seat, call_id, pin=PIN, cseq=1)
                if response is not None and response.status == 200:
                    self._send(
                        "logout",
                        phone.register,
                        seat,
                        call_id,
                        pin=PIN,
                        cseq=3,
                        expires=0,
                        challenge=phone.last_challenge,
                        nonce_count=2,
                    )

    def _wrong_pins(self, interval: float) -> None:
        for _ in self._every(interval):
            seat, call_id = next(self.victims), new_call_id("wrongpin")
            with self._client() as phone:
                self._send("wrong_pin", phone.login, seat, call_id, pin=WRONG_PIN, cseq=1)


def options_request(target: tuple[str, int], local_port: int, call_id: str) -> str:
    host, port = target
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{call_id[:16]};rport\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\n"
        f"To: <sip:{host}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )
