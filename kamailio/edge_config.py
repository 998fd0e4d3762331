"""What a local SIP edge runs with (`manage.py runsip`, e2e tests): settings, credential, argv.

`make_config` checks the addresses a developer gives; `issue_credential` creates or rotates
the edge's API credential (the secret goes only to a 0600 file in a private run directory,
never to argv or a log) and records its JSON-RPC URL, so the portal can log a handset out;
`kamailio_argv` turns it all into defines of the shipped cfg. Running it is `process`'s job.
Only `issue_credential` needs a configured Django.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

KAMAILIO_CFG = Path(__file__).resolve().parent.parent / "deploy" / "kamailio" / "kamailio.cfg"
INSTALL_HINT = "apt-get install kamailio kamailio-utils-modules kamailio-json-modules"
LOCAL_CFG = "hotdesk-local.cfg"
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
    # HOTDESK_NATPING_INTERVAL and HOTDESK_TABLES_INTERVAL, in seconds; None: the cfg's default.
    natping_interval: int | None = None
    tables_interval: int | None = None

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
    natping_interval: int | None = None,
    tables_interval: int | None = None,
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
    if natping_interval is not None and not 0 <= natping_interval <= 3600:
        raise EdgeError(f"--natping-interval {natping_interval}: must be between 0 and 3600.")
    if tables_interval is not None and not 1 <= tables_interval <= 86400:
        raise EdgeError(f"--tables-interval {tables_interval}: must be between 1 and 86400.")
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
        natping_interval=natping_interval,
        tables_interval=tables_interval,
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

    from .credentials import hash_secret, new_secret, rpc_authorization_sha256
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
    if config.natping_interval is not None:
        defines.append(f"HOTDESK_NATPING_INTERVAL={int(config.natping_interval)}")
    if config.tables_interval is not None:
        defines.append(f"HOTDESK_TABLES_INTERVAL={int(config.tables_interval)}")
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
