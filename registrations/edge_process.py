"""Running Kamailio with the shipped config beside the portal (`manage.py runsip`, e2e tests).

One code path starts every local SIP edge: the command a developer runs to try a softphone,
and the end-to-end tests. It gives the edge its own API credential (created or rotated, the
secret written only to a 0600 file in a private run directory, never to argv or a log),
records the edge's JSON-RPC URL on that credential so the portal can log a handset out, starts
`kamailio` in the foreground with its log on stderr, waits until it answers SIP, and stops it
again. If this process dies without a chance to clean up, the kernel sends Kamailio SIGTERM
(PR_SET_PDEATHSIG), so no registrar is left running against a portal that is gone.

Only `issue_credential` needs a configured Django; the process helpers (`sip_options_ok`,
`die_with_parent`, ...) are plain Python, so bench/sip.py can use them for its own Kamailio.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

KAMAILIO_CFG = Path(__file__).resolve().parent.parent / "deploy" / "kamailio" / "kamailio.cfg"
INSTALL_HINT = "apt-get install kamailio kamailio-utils-modules kamailio-json-modules"
LOCAL_CFG = "hotdesk-local.cfg"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# The cfg's #!subst rule and the httpcon string cannot carry these (see deploy/kamailio/README.md).
_FORBIDDEN_IN_URL = set('@;!&\\" \t\r\n')


class EdgeError(Exception):
    """The SIP edge cannot be started as asked; the message says what to change."""


@dataclass(frozen=True)
class EdgeConfig:
    """Where one local Kamailio listens, which portal it asks, and where its files live."""

    host: str
    port: int
    portal_url: str
    rpc_port: int
    rundir: Path
    # Requests per 2 s from one address before pike drops them; None keeps the cfg's default.
    # Load tests from 127.0.0.1 need a large value.
    flood_density: int | None = None
    children: int | None = None
    shm_mb: int = 256
    # HOTDESK_REFRESH_CACHE_SECONDS (0: every REGISTER asks the portal); None: the cfg's default.
    refresh_cache_seconds: int | None = None

    @property
    def credential_name(self) -> str:
        return f"runsip-{self.port}"

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}/RPC"

    @property
    def sip_address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:5070` or `[::1]:5070` as (address, port); EdgeError says what is wrong."""
    found = re.fullmatch(r"\[([^\]]+)\]:(\d{1,5})|([^:\[\]]+):(\d{1,5})", text.strip())
    if found is None:
        raise EdgeError(
            f"--listen {text!r}: expected ADDRESS:PORT, e.g. 127.0.0.1:5070 or [::1]:5070."
        )
    host = found.group(1) or found.group(3)
    port = int(found.group(2) or found.group(4))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise EdgeError(f"--listen {text!r}: {host!r} is not an IP address.") from None
    if not 1 <= port <= 65535:
        raise EdgeError(f"--listen {text!r}: the port must be between 1 and 65535.")
    return str(address), port


def parse_portal_url(text: str) -> str:
    """The portal base URL as the cfg needs it: http(s)://host[:port][/path], no credential."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise EdgeError(
            f"--portal-url {text!r}: expected http://HOST:PORT, e.g. http://127.0.0.1:8000."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EdgeError(
            f"--portal-url {text!r}: give the base URL only, without a credential, query or "
            "fragment; runsip supplies the API credential itself."
        )
    if _FORBIDDEN_IN_URL & set(url):
        raise EdgeError(f"--portal-url {text!r}: must not contain spaces, quotes or @ ; ! & \\.")
    return url


def find_kamailio() -> str:
    path = shutil.which("kamailio")
    if path is None:
        raise EdgeError(
            f"kamailio is not installed (or /usr/sbin is not on PATH); install it with "
            f"`{INSTALL_HINT}`."
        )
    return path


def make_config(
    *,
    listen: str,
    portal_url: str,
    rpc_port: int | None = None,
    rundir: Path,
    flood_density: int | None = None,
    children: int | None = None,
    shm_mb: int = 256,
    refresh_cache_seconds: int | None = None,
) -> EdgeConfig:
    """Check every option before anything is created or started."""
    host, port = parse_listen(listen)
    rpc_port = port + 1 if rpc_port is None else rpc_port
    if not 1 <= rpc_port <= 65535:
        raise EdgeError(f"--rpc-port {rpc_port}: must be between 1 and 65535.")
    if rpc_port == port:
        raise EdgeError(f"--rpc-port {rpc_port}: must differ from the SIP port.")
    if flood_density is not None and not 1 <= flood_density <= 65535:
        # pike keeps the limit in 16 bits: 1000000 would silently become 16960.
        raise EdgeError(f"--flood-density {flood_density}: must be between 1 and 65535.")
    if children is not None and not 1 <= children <= 64:
        raise EdgeError(f"--children {children}: must be between 1 and 64.")
    if not 64 <= shm_mb <= 8192:
        raise EdgeError(f"--shm-mb {shm_mb}: must be between 64 and 8192.")
    if refresh_cache_seconds is not None and not 0 <= refresh_cache_seconds <= 86400:
        raise EdgeError(
            f"--refresh-cache-seconds {refresh_cache_seconds}: must be between 0 and 86400."
        )
    if '"' in str(rundir) or any(c.isspace() for c in str(rundir)):
        raise EdgeError(f"--rundir {rundir}: must not contain quotes or spaces.")
    return EdgeConfig(
        host=host,
        port=port,
        portal_url=parse_portal_url(portal_url),
        rpc_port=rpc_port,
        rundir=Path(rundir).absolute(),
        flood_density=flood_density,
        children=children,
        shm_mb=shm_mb,
        refresh_cache_seconds=refresh_cache_seconds,
    )


@dataclass(frozen=True)
class IssuedCredential:
    secret: str  # the API secret, for the edge's httpcon
    rpc_auth_sha256: str  # what the edge's JSON-RPC checks the portal's Authorization against


def issue_credential(*, name: str, rpc_url: str) -> IssuedCredential:
    """Create or rotate the API credential `name` and point it at `rpc_url`.

    Rotating on every start means a secret left behind in an old run directory is worthless,
    and so is the RPC authorization derived from it.
    """
    # Imported here so that the process helpers below work without a configured Django
    # (bench/sip.py uses them for its fixed-password Kamailio).
    from django.db import transaction

    from .edge_auth import hash_secret, new_secret, rpc_authorization_sha256
    from .models import SipCredential

    secret = new_secret()
    with transaction.atomic():
        credential, _ = SipCredential.objects.update_or_create(
            name=name,
            defaults={
                "secret_sha256": hash_secret(secret),
                "rpc_url": rpc_url,
                "is_active": True,
            },
        )
    return IssuedCredential(secret=secret, rpc_auth_sha256=rpc_authorization_sha256(credential))


def write_local_cfg(
    *, rundir: Path, name: str, secret: str, rpc_auth_sha256: str | None = None
) -> Path:
    """Write the cfg's local defines file (mode 0600) holding `name:secret`, and the SHA-256 of
    the Authorization header its JSON-RPC accepts (without it the HTTP RPC refuses every call).
    """
    if not re.fullmatch(r"[-A-Za-z0-9_]+", name) or not re.fullmatch(r"[-A-Za-z0-9_]+", secret):
        # The cfg's substdef and http_client's URL parsing break on anything else.
        raise EdgeError("the credential name and secret must be URL-safe tokens.")
    if rpc_auth_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", rpc_auth_sha256):
        raise EdgeError("the RPC authorization digest must be 64 lower-case hex digits.")
    path = rundir / LOCAL_CFG
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f'#!substdef "!HOTDESK_PORTAL_CREDENTIAL!{name}:{secret}!"\n')
        if rpc_auth_sha256 is not None:
            handle.write(f'#!substdef "!HOTDESK_RPC_AUTH_SHA256!{rpc_auth_sha256}!"\n')
    return path


def kamailio_argv(config: EdgeConfig, *, kamailio: str) -> list[str]:
    """The command line: every setting is a define of the shipped cfg, no secret among them."""
    listen = config.sip_address
    defines = [
        f"HOTDESK_LISTEN_UDP=udp:{listen}",
        f"HOTDESK_LISTEN_TCP=tcp:{listen}",
        f'HOTDESK_PORTAL_URL="{config.portal_url}"',
        f'HOTDESK_CTL_SOCKET="unix:{config.rundir / "kamailio_ctl"}"',
        f"HOTDESK_RPC_HTTP_PORT={config.rpc_port}",
    ]
    if config.flood_density is not None:
        defines.append(f"HOTDESK_FLOOD_DENSITY={int(config.flood_density)}")
    if config.children is not None:
        defines.append(f"HOTDESK_CHILDREN={int(config.children)}")
    if config.refresh_cache_seconds is not None:
        defines.append(f"HOTDESK_REFRESH_CACHE_SECONDS={int(config.refresh_cache_seconds)}")
    argv = [
        kamailio,
        "-DD",
        "-E",
        "-f",
        str(KAMAILIO_CFG),
        "-P",
        str(config.rundir / "kamailio.pid"),
        "-Y",
        str(config.rundir),
        "-m",
        str(config.shm_mb),
        "-M",
        "8",
    ]
    for define in defines:
        argv += ["-A", define]
    return argv


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

    def request_stop(signum, frame):
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
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def die_with_parent() -> None:
    # Runs in the child between fork and exec: one system call, no Python-level locks.
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
