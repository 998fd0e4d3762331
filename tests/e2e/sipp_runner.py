"""Running one sipp scenario from tests/e2e/sipp/ and reading what it saw.

Each scenario expects one final status (chosen by the file) and writes
`FINAL SIP/2.0 <code> <reason>` to its log; sipp exits 0 when every call got exactly the
expected answers. Every run is bounded: sipp's own timeouts plus a subprocess timeout.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "sipp"
# Local ports for sipp in the e2e tests (the bench uses others; see conftest for the override).
_SIP_BASE = int(os.environ.get("HOTDESK_E2E_SIP_PORTS", "5160"))
CLIENT_PORTS = range(_SIP_BASE + 10, _SIP_BASE + 25)


@dataclass(frozen=True)
class Phone:
    """What one handset puts in the injection file: To user, domain, and its digest login."""

    extension: str
    domain: str
    pin: str
    auth_user: str | None = None

    def csv_row(self) -> str:
        user = self.auth_user or self.extension
        return (
            f"{self.extension};{self.domain};[authentication username={user} password={self.pin}]"
        )


@dataclass
class SippRun:
    returncode: int
    finals: list[str]
    log: str
    messages: str
    stderr: str

    @property
    def call_ids(self) -> list[str]:
        return list(dict.fromkeys(re.findall(r"^Call-ID: *(\S+)", self.messages, re.M | re.I)))

    @property
    def call_id(self) -> str:
        (only,) = self.call_ids
        return only

    def sent(self, request_line_start: str, *, cseq: int | None = None) -> int:
        """How many times sipp sent a request (retransmissions included)."""
        count = 0
        for block in self.messages.split("-----------------------------------------------"):
            if " message sent " not in block:
                continue
            text = block.split("\n\n", 1)[-1].lstrip()
            if not text.startswith(request_line_start):
                continue
            if cseq is None or re.search(rf"^CSeq: *{cseq} ", text, re.M | re.I):
                count += 1
        return count

    def describe(self) -> str:
        return (
            f"sipp exit {self.returncode}, finals {self.finals}\n--- log\n{self.log[-2000:]}"
            f"\n--- stderr\n{self.stderr[-2000:]}\n--- messages\n{self.messages[-4000:]}"
        )


class Sipp:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._runs = itertools.count()
        self._ports = itertools.cycle(CLIENT_PORTS)

    def free_port(self, host: str = "127.0.0.1") -> int:
        """The next client port that nothing holds, for UDP and TCP alike."""
        for _ in range(len(CLIENT_PORTS)):
            port = next(self._ports)
            if _bindable(host, port):
                return port
        raise RuntimeError(f"no free sipp client port in {CLIENT_PORTS}")

    def run(
        self,
        scenario: str,
        *,
        target: str,
        phones: list[Phone],
        transport: str = "udp",
        source_ip: str = "127.0.0.1",
        local_port: int | None = None,
        timeout: float = 30,
        call_id: str | None = None,
        base_cseq: int | None = None,
    ) -> SippRun:
        """Run `scenario` once per phone, one call at a time, from source_ip:local_port.

        `call_id` (a fixed Call-ID, no `%`) with a higher `base_cseq` makes this run the
        refresh of a binding an earlier run made, as a handset does after a restart of its
        digest state: the same Call-ID, the next CSeq, a new challenge.
        """
        run = self.workdir / f"run{next(self._runs):03d}-{Path(scenario).stem}"
        run.mkdir(parents=True)
        inf = run / "phones.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(phone.csv_row() + "\n" for phone in phones))
        log, messages = run / "sipp.log", run / "messages.log"
        port = local_port or self.free_port(source_ip)
        argv = [
            "sipp",
            target,
            "-sf",
            str(SCENARIOS / scenario),
            "-inf",
            str(inf),
            "-i",
            source_ip,
            "-p",
            str(port),
            "-t",
            {"udp": "u1", "tcp": "t1"}[transport],
            "-m",
            str(len(phones)),
            "-l",
            "1",
            "-nostdin",
            "-default_behaviors",
            "abortunexp",
            "-recv_timeout",
            "10000",
            "-timeout",
            f"{int(timeout)}s",
            "-trace_logs",
            "-log_file",
            str(log),
            "-trace_msg",
            "-message_file",
            str(messages),
            "-trace_err",
            "-error_file",
            str(run / "errors.log"),
        ]
        if call_id is not None:
            assert "%" not in call_id, call_id
            argv += ["-cid_str", call_id]
        if base_cseq is not None:
            argv += ["-base_cseq", str(base_cseq)]
        done = subprocess.run(
            argv, cwd=run, capture_output=True, text=True, timeout=timeout + 10, check=False
        )
        log_text = log.read_text(errors="replace") if log.exists() else ""
        return SippRun(
            returncode=done.returncode,
            finals=re.findall(r"^FINAL (.*?)\s*$", log_text, re.M),
            log=log_text,
            messages=messages.read_text(errors="replace") if messages.exists() else "",
            stderr=done.stderr + done.stdout,
        )


def _bindable(host: str, port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            # A port whose last connection is in TIME_WAIT is free for sipp, which sets this too.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True
