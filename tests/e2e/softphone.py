"""A real softphone for the end-to-end tests: baresip (Debian's `baresip-core`), headless.

Each `Softphone` is one `baresip -f DIR` process with a config directory of its own: one
account (the seat's extension and PIN, the edge as its outbound proxy, answering calls by
itself), G.711 only, a WAV file as microphone, and no terminal (the `stdio` module needs one).
The test dials and hangs up over `ctrl_tcp` (netstrings of JSON) and learns what happened from
baresip's own output, which it writes to a log file line by line as things happen.

What baresip 1.0.0 needs beyond the obvious:

- `module_path`: without it, modules are looked up in the current directory.
- Its SIP/TLS transport takes the `sip_listen` port + 1 (TCP): ctrl_tcp must not be there.
- `net_interface 127.0.0.1`, or baresip takes the host's first interface (eth0) as its address
  (`net_interface lo` fails: "could not get IPv4 address").
- The `aufile` source hangs up the call when its file ends ("menu: audio error (0,end of
  file)"): the WAV lasts longer than any call of a test. In 1.0.0 `aufile` is only a source,
  so there is no `audio_player` (received audio is decoded and dropped).
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import re
import shutil
import socket
import struct
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from devtools.deployment import free_port, stop
from kamailio.process import die_with_parent

INSTALL_HINT = "install it with `apt-get install baresip-core`"
MODULE_DIRS = (
    "/usr/lib/baresip/modules",
    "/usr/lib/*/baresip/modules",
    "/usr/local/lib/baresip/modules",
)
MODULES = ("g711.so", "aufile.so", "account.so", "menu.so", "ctrl_tcp.so")
SAMPLE_RATE = 8000  # G.711's, and aufile refuses a file of another rate
START_TIMEOUT = 10.0
# Colours around warnings, and the call status line the menu module redraws ten times a
# second ("[0:00:01] audio=0/0 (bit/s)"): noise in a log a person reads.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STATUS_LINE = re.compile(r"\[\d+:\d\d:\d\d\] audio=\S+ \(bit/s\) *")


def baresip_missing() -> str:
    """Why baresip cannot run here (what a test skips with), or "" when it can."""
    if shutil.which("baresip") is None:
        return f"baresip not found; {INSTALL_HINT}"
    if module_path() is None:
        return f"baresip modules {', '.join(MODULES)} not found; {INSTALL_HINT}"
    return ""


def module_path() -> Path | None:
    for pattern in MODULE_DIRS:
        for directory in glob.glob(pattern):
            if all(Path(directory, module).exists() for module in MODULES):
                return Path(directory)
    return None


def write_tone(path: Path, *, seconds: int) -> Path:
    """An 8 kHz mono 16-bit WAV of a 440 Hz tone (the `ausine` source only does 48 kHz)."""
    period = b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE)))
        for n in range(SAMPLE_RATE // 40)  # 25 ms: a whole number (11) of 440 Hz cycles
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(period * (40 * seconds))
    return path


def free_port_block() -> int:
    """A loopback port P free for UDP and TCP, with P + 1 and P + 2 free for TCP.

    baresip takes P for SIP (UDP and TCP) and P + 1 for SIP over TLS; P + 2 is for ctrl_tcp.
    Asking the kernel for any free port for ctrl_tcp could hand out P + 1.
    """
    for _ in range(50):
        port = free_port()
        wanted = [(socket.SOCK_DGRAM, port)] + [(socket.SOCK_STREAM, port + n) for n in range(3)]
        with contextlib.ExitStack() as held:
            try:
                for kind, candidate in wanted:
                    sock = held.enter_context(socket.socket(socket.AF_INET, kind))
                    sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return port
    raise RuntimeError("found no three free loopback ports in a row for baresip")


@dataclass(eq=False)  # compared and hashed by identity: a test keys its log marks by phone
class Softphone:
    """One running baresip, logged in (or trying to) as `extension`@`domain`."""

    extension: str
    domain: str
    directory: Path
    ctrl_port: int
    process: subprocess.Popen

    @property
    def aor(self) -> str:
        return f"sip:{self.extension}@{self.domain}"

    @property
    def log_path(self) -> Path:
        return self.directory / "baresip.log"

    def log(self, since: int = 0) -> str:
        """baresip's output from byte `since` on (see `mark`), without colours."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(since)
                return _ANSI.sub("", log.read().decode(errors="replace"))
        except OSError:
            return ""

    def mark(self) -> int:
        """Where the log ends now: what a test waits for next must come after it."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def wait_for(self, text: str, *, since: int = 0, timeout: float = 10.0) -> bool:
        """Whether `text` appears in the log after `since` within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.log(since):
            if time.monotonic() > deadline or self.process.poll() is not None:
                return text in self.log(since)
            time.sleep(0.05)
        return True

    def tail(self, lines: int = 30) -> str:
        kept = [line for line in _STATUS_LINE.sub("", self.log()).splitlines() if line.strip()]
        return f"--- last lines of baresip {self.aor} ---\n" + "\n".join(kept[-lines:])

    def command(self, command: str, params: str = "") -> dict:
        """Send one ctrl_tcp command and return baresip's response to it."""
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as sock:
            sock.sendall(b"%d:%s," % (len(body), body))
            reader = sock.makefile("rb")
            while True:
                message = json.loads(_read_netstring(reader))
                # Events (a call ringing, closing) may come first on the same connection.
                if message.get("response"):
                    return message

    def dial(self, other: Softphone) -> dict:
        return self.command("dial", other.aor)

    def hang_up(self) -> dict:
        return self.command("hangup")

    def active_calls(self) -> int:
        """How many calls baresip has now, by its own count ("--- Active calls (N) ---")."""
        listed = self.command("listcalls")["data"]
        found = re.search(r"Active calls \((\d+)\)", listed)
        if found is None:
            raise ValueError(f"unexpected listcalls answer from baresip: {listed!r}")
        return int(found.group(1))

    def stop(self) -> None:
        # SIGTERM lets it unregister (a log-out at the portal); a hung one is killed.
        stop(self.process, timeout=5)


def _read_netstring(reader: BinaryIO) -> bytes:
    length = b""
    while (byte := reader.read(1)) != b":":
        if not byte.isdigit():
            raise ConnectionError(f"not a netstring from ctrl_tcp: {length + byte!r}")
        length += byte
    payload = reader.read(int(length) + 1)
    if len(payload) != int(length) + 1 or not payload.endswith(b","):
        raise ConnectionError(f"truncated netstring from ctrl_tcp: {payload!r}")
    return payload[:-1]


def start_softphone(
    directory: Path, *, extension: str, domain: str, pin: str, edge: str, tone: Path
) -> Softphone:
    """A baresip in `directory` (new) that logs in through the edge at `edge` ("host:port")."""
    directory.mkdir(parents=True)
    sip_port = free_port_block()
    ctrl_port = sip_port + 2
    (directory / "config").write_text(
        f"module_path {module_path()}\n"
        f"sip_listen 127.0.0.1:{sip_port}\n"
        "net_interface 127.0.0.1\n"
        "module g711.so\n"
        "module aufile.so\n"
        "module_app account.so\n"
        "module_app menu.so\n"
        "module_app ctrl_tcp.so\n"
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n"
        f"audio_source aufile,{tone}\n"
    )
    # regint: refreshes are far apart, so what a test sees is the login, not a refresh.
    (directory / "accounts").write_text(
        f'<sip:{extension}@{domain}>;auth_pass={pin};outbound="sip:{edge}";'
        "answermode=auto;regint=600\n"
    )
    with (directory / "baresip.log").open("wb") as log:
        process = subprocess.Popen(
            ["baresip", "-f", str(directory)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    phone = Softphone(extension, domain, directory, ctrl_port, process)
    if not phone.wait_for("baresip is ready.", timeout=START_TIMEOUT):
        phone.stop()
        raise RuntimeError(f"baresip did not start (exit {process.returncode}):\n{phone.tail()}")
    return phone
