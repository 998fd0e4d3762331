"""Running Kamailio with the shipped config beside the portal (`manage.py runsip`, e2e tests).

One code path starts every local SIP edge: the command a developer runs to try a softphone,
and the end-to-end tests. With a config from `kamailio.edge_config` it starts `kamailio` in
the foreground with its log on stderr, waits until it answers SIP, and stops it again (its
whole process group, whatever died first). If this process dies without a chance to clean up,
the kernel sends Kamailio SIGTERM (PR_SET_PDEATHSIG), so no registrar is left running against
a portal that is gone.

The process helpers (`sip_options_ok`, `die_with_parent`, ...) are plain Python, so
bench/sip.py can use them for its own Kamailio.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from types import FrameType

from .edge_config import (
    INSTALL_HINT,
    LOCAL_CFG,
    EdgeConfig,
    EdgeError,
    find_kamailio,
    issue_credential,
    kamailio_argv,
    write_local_cfg,
)

logger = logging.getLogger(__name__)

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class KamailioProcess:
    """A running Kamailio; `stop()` ends it (main pid first, then its whole process group)."""

    def __init__(self, popen: subprocess.Popen, config: EdgeConfig) -> None:
        self.popen = popen
        self.config = config

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Return once Kamailio answers a SIP OPTIONS; EdgeError if it exits or stays silent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise EdgeError(
                    f"kamailio exited during start-up with status {self.popen.returncode} "
                    f"(its log is above; modules come from `{INSTALL_HINT}`)."
                )
            if sip_options_ok(self.config.host, self.config.port, timeout=0.3):
                return
        self.stop()
        raise EdgeError(f"kamailio did not answer SIP on {self.config.sip_address} in {timeout}s.")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM to the main process (it ends its children), SIGKILL to the group if stuck."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("kamailio did not stop in %ss; killing it", timeout)
        # Kamailio was started in its own session: its pid is its process group id, and
        # any child left behind by a crash of the main process is still in that group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(5)
        return self.popen.returncode


def ensure_ports_free(config: EdgeConfig) -> None:
    """EdgeError unless the SIP port (UDP and TCP) and the RPC port (TCP) are free.

    Checked before anything is started or rotated: a Kamailio left running on them (its
    children outlive a killed main process) would answer the readiness probe in place of ours.
    """
    sip = (socket.AF_INET6 if ":" in config.host else socket.AF_INET, config.host)
    rpc = (socket.AF_INET, "127.0.0.1")
    wanted = [
        (sip, socket.SOCK_DGRAM, config.port, "SIP (UDP)"),
        (sip, socket.SOCK_STREAM, config.port, "SIP (TCP)"),
        (rpc, socket.SOCK_STREAM, config.rpc_port, "JSON-RPC"),
    ]
    for (family, host), kind, port, what in wanted:
        with socket.socket(family, kind) as probe:
            if kind == socket.SOCK_STREAM:
                # A port whose last connection is in TIME_WAIT is free for Kamailio too.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise EdgeError(
                    f"{what} port {host}:{port} is in use ({error.strerror}): stop whatever "
                    "holds it (a Kamailio left running?) or choose other ports."
                ) from None


def start(config: EdgeConfig, *, stderr=None) -> KamailioProcess:
    """Issue the credential, write the local cfg, start Kamailio and wait until it answers SIP.

    `stderr` receives Kamailio's log (default: this process's stderr).
    """
    kamailio = find_kamailio()
    ensure_ports_free(config)
    config.rundir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(config.rundir, 0o700)
    issued = issue_credential(name=config.credential_name, rpc_url=config.rpc_url)
    write_local_cfg(
        rundir=config.rundir,
        name=config.credential_name,
        secret=issued.secret,
        rpc_auth_sha256=issued.rpc_auth_sha256,
    )
    argv = kamailio_argv(config, kamailio=kamailio)
    logger.info("starting %s", " ".join(argv))
    # argv is built from validated options only; no shell.
    popen = subprocess.Popen(  # noqa: S603
        argv,
        cwd=config.rundir,  # the cfg imports hotdesk-local.cfg from its working directory
        stdin=subprocess.DEVNULL,
        # Its start-up banner ("Listening on ...") goes to stdout: keep all of it on stderr.
        stdout=stderr if stderr is not None else 2,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=die_with_parent,  # one prctl() call, see die_with_parent
    )
    process = KamailioProcess(popen, config)
    try:
        process.wait_ready()
    except BaseException:
        process.stop()
        raise
    logger.info(
        "kamailio %s is ready: SIP on udp+tcp %s, portal %s as %s, JSON-RPC %s",
        popen.pid,
        config.sip_address,
        config.portal_url,
        config.credential_name,
        config.rpc_url,
    )
    return process


def run_foreground(config: EdgeConfig) -> int:
    """Run Kamailio until SIGINT/SIGTERM (returns 0) or until it exits (returns its status)."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("%s received: stopping kamailio", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    process = None
    try:
        process = start(config)
        while not stopping.is_set():
            status = process.poll()
            if status is not None:
                logger.error("kamailio exited by itself with status %s", status)
                return status if status > 0 else 1  # killed by a signal: still a failure
            stopping.wait(0.5)
        process.stop()
        logger.info("kamailio stopped")
        return 0
    finally:
        # Always, even after the main process died by itself: its children may live on, and
        # stop() ends the whole process group.
        if process is not None:
            process.stop()
        with contextlib.suppress(FileNotFoundError):
            (config.rundir / LOCAL_CFG).unlink()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def sip_options_ok(host: str, port: int, *, timeout: float = 1.0) -> bool:
    """Does a SIP server at host:port (UDP) answer an OPTIONS with 200?"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe_host = "127.0.0.1" if host == "0.0.0.0" else ("::1" if host == "::" else host)  # noqa: S104
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((probe_host, port))
            local_host, local_port = sock.getsockname()[:2]
            tag, branch = secrets.token_hex(6), "z9hG4bK" + secrets.token_hex(8)
            target = f"[{probe_host}]" if family == socket.AF_INET6 else probe_host
            here = f"[{local_host}]" if family == socket.AF_INET6 else local_host
            message = (
                f"OPTIONS sip:{target}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {here}:{local_port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@{here}>;tag={tag}\r\n"
                f"To: <sip:{target}:{port}>\r\n"
                f"Call-ID: {secrets.token_hex(12)}@{here}\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "User-Agent: hotdesk-runsip-probe\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            sock.send(message.encode())
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            time.sleep(min(timeout, 0.1))
            return False


_PR_SET_PDEATHSIG = 1
_prctl: Callable[..., int] | None
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def die_with_parent() -> None:
    # Runs in the child between fork and exec: one system call, no Python-level locks.
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
