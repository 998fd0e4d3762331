"""Fixtures for the end-to-end tests: the real portal, real Kamailio, real sipp, on loopback.

Started once per session, in this order:

- `e2e_database`: a database of its own (pytest-django's test database lives in this process's
  transaction and no other process can see it): a new PostgreSQL database when DATABASE_URL
  names PostgreSQL, else a temporary SQLite file. `manage.py migrate` and `tests.e2e.seed` run
  in subprocesses; the tests read it back with `records.PortalRecords` (plain SQL).
- `portal`: gunicorn with deploy/gunicorn.conf.py, as deployed, on a free loopback port.
- `edge`: `manage.py runsip` (the shipped kamailio.cfg, the command developers run) on
  127.0.0.1:5160, asking the portal directly.
- `slow_edge`: a second `runsip` on 127.0.0.1:5162 whose portal is `PortalProxy`, which passes
  every request on to the same gunicorn but can delay checks or stop answering.
- `short_cache_edge`: a third `runsip` on SIP_BASE + 4 whose refresh cache entries live
  SHORT_CACHE_SECONDS.

Everything is bounded by timeouts and stopped at the end of the session; Kamailio and gunicorn
also get SIGTERM from the kernel if this process dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devtools.deployment import free_port, fresh_database, gunicorn, stop
from kamailio import rpc as kamailio_rpc
from kamailio.credentials import rpc_authorization
from kamailio.models import SipCredential
from kamailio.process import die_with_parent, sip_options_ok
from tests.conftest import require_or_skip, run_manage

from .portal_proxy import PortalProxy
from .records import PortalRecords
from .seed import PIN, SEATS
from .sipp_runner import Sipp
from .softphone import Softphone, baresip_missing, start_softphone, write_tone

ROOT = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "install them with `apt-get install kamailio kamailio-utils-modules kamailio-json-modules "
    "sip-tester`"
)
# Loopback ports: SIP 5160-5184 and 5190-5192, HTTP 18100-18149 (bench: 5185-5188,
# 18150-18199). Runs that share a host with another run move them with
# HOTDESK_E2E_SIP_PORTS (the first SIP port) and HOTDESK_E2E_HTTP_PORTS (first of 50 HTTP ports).
SIP_BASE = int(os.environ.get("HOTDESK_E2E_SIP_PORTS", "5160"))
HTTP_BASE = int(os.environ.get("HOTDESK_E2E_HTTP_PORTS", "18100"))
# Each edge also takes the next port for its JSON-RPC. test_runsip.py uses SIP_BASE + 6 to + 8,
# the dashboard browser test SIP_BASE + 9, sipp's clients SIP_BASE + 10 to + 24, the fault
# suite (test_faults.py) SIP_BASE + 30 to + 32.
EDGE_PORT, SLOW_EDGE_PORT, SHORT_CACHE_EDGE_PORT = SIP_BASE, SIP_BASE + 2, SIP_BASE + 4
# Long enough that a loaded machine's sipp runs fit well inside it, short enough to wait out.
SHORT_CACHE_SECONDS = 6
PORTAL_PORTS = range(HTTP_BASE, HTTP_BASE + 25)
PROXY_PORTS = range(HTTP_BASE + 25, HTTP_BASE + 50)
START_TIMEOUT = 60.0
E2E_SECRET_KEY = "e2e-only-secret-key-not-for-any-deployment"


# Lines a test module wants printed at the end of the run (the fault suite's table).
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.write_sep("-", "faults under load (tests/e2e/test_faults.py)")
        for line in REPORT:
            terminalreporter.write_line(line)


@dataclass
class Edge:
    """One running Kamailio (through `manage.py runsip`)."""

    host: str
    port: int
    process: subprocess.Popen
    rundir: Path
    log_path: Path
    records: PortalRecords

    @property
    def rpc_authorization(self) -> str:
        """What the portal sends to this edge's JSON-RPC (derived as the portal derives it)."""
        (row,) = self.records.rows(
            "SELECT name, secret_sha256 FROM registrations_sipcredential WHERE name = %s",
            (self.credential_name,),
        )
        return rpc_authorization(
            SipCredential(name=row["name"], secret_sha256=row["secret_sha256"]),
            secret_key=E2E_SECRET_KEY,
        )

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port + 1}/RPC"

    @property
    def credential_name(self) -> str:
        return f"runsip-{self.port}"

    def rpc(self, method: str, *params):
        """The `result` of one JSON-RPC call, made as the portal makes it."""
        return kamailio_rpc.call(
            rpc_url=self.rpc_url,
            method=method,
            params=list(params) if params else None,
            timeout=5,
            authorization=self.rpc_authorization,
        )

    def bindings(self) -> dict[str, list[str]]:
        """Kamailio's location table: AoR -> contact URIs, read over JSON-RPC (`ul.dump`)."""
        result = self.rpc("ul.dump") or {}
        found: dict[str, list[str]] = {}
        for domain in result.get("Domains", []):
            for record in domain.get("Domain", {}).get("AoRs", []):
                info = record.get("Info", {})
                found[info.get("AoR", "")] = [
                    contact.get("Contact", {}).get("Address", "")
                    for contact in info.get("Contacts", [])
                ]
        return found

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def e2e_env() -> dict[str, str]:
    """The environment every subprocess starts from, with kamailio and sipp on PATH."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    for extra in ("/usr/sbin", "/sbin"):
        if extra not in path.split(":"):
            path += ":" + extra
    missing = [tool for tool in ("kamailio", "sipp") if shutil.which(tool, path=path) is None]
    require_or_skip(not missing, f"{' and '.join(missing)} not found; {INSTALL_HINT}")
    module_dirs = glob.glob("/usr/lib/*/kamailio/modules") + glob.glob("/usr/lib*/kamailio/modules")
    modules = [
        module
        for module in ("http_client.so", "json.so", "jsonrpcs.so", "xhttp.so")
        if not any(Path(directory, module).exists() for directory in module_dirs)
    ]
    require_or_skip(not modules, f"Kamailio modules {', '.join(modules)} missing; {INSTALL_HINT}")
    env = {key: os.environ[key] for key in ("HOME", "LANG", "TMPDIR") if key in os.environ}
    if os.environ.get("CACHE_URL"):
        env["CACHE_URL"] = os.environ["CACHE_URL"]
    return {
        **env,
        "PATH": path,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "SECRET_KEY": E2E_SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        # Check entries are written at once, so a test can read them right after the call
        # (deployed, they are batched for up to 0.5 s; see registrations/checklog.py).
        "HOTDESK_CHECK_LOG_MAX_DELAY": "0",
    }


@pytest.fixture(scope="session")
def e2e_workdir() -> Iterator[Path]:
    # Short paths: Kamailio's ctl socket path must fit in a unix socket address (108 bytes).
    path = Path(tempfile.mkdtemp(prefix="hotdesk-e2e-"))
    yield path
    if os.environ.get("HOTDESK_E2E_KEEP"):  # logs of Kamailio, gunicorn and sipp, to read
        print(f"\nkept the end-to-end work directory {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def e2e_database(e2e_env, e2e_workdir):
    """(environment with its DATABASE_URL, PortalRecords) for a migrated and seeded database."""
    with fresh_database(prefix="hotdesk_e2e", directory=e2e_workdir) as database_url:
        records = PortalRecords(database_url)
        env = {**e2e_env, "DATABASE_URL": database_url}
        for argv in (["manage.py", "migrate", "--no-input", "-v0"], ["-m", "tests.e2e.seed"]):
            done = subprocess.run(
                [sys.executable, *argv],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            assert done.returncode == 0, f"{argv} failed:\n{done.stderr[-3000:]}"
        yield env, records


@pytest.fixture(scope="session")
def records(e2e_database) -> PortalRecords:
    return e2e_database[1]


@pytest.fixture(scope="session")
def portal(e2e_database, e2e_workdir):
    """The portal under gunicorn (deploy/gunicorn.conf.py), as deployed; yields its base URL."""
    env, _ = e2e_database
    # As the README's production steps do: with DEBUG off, pages need collected static files.
    collected = run_manage(env, "collectstatic", "--no-input", "-v0", timeout=120)
    assert collected.returncode == 0, collected.stderr[-3000:]
    port = free_port(PORTAL_PORTS)
    with gunicorn(env, port=port, log=e2e_workdir / "gunicorn.log", timeout=START_TIMEOUT):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def portal_proxy(portal):
    proxy = PortalProxy(port=free_port(PROXY_PORTS), upstream_port=urlsplit(portal).port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def edge(e2e_database, e2e_workdir, portal):
    yield from start_runsip(e2e_database[0], e2e_workdir, port=EDGE_PORT, portal_url=portal)


@pytest.fixture(scope="session")
def slow_edge(e2e_database, e2e_workdir, portal_proxy):
    yield from start_runsip(
        e2e_database[0], e2e_workdir, port=SLOW_EDGE_PORT, portal_url=portal_proxy.url
    )


@pytest.fixture(scope="session")
def sipp(e2e_workdir) -> Sipp:
    return Sipp(e2e_workdir / "sipp")


@pytest.fixture(scope="session")
def short_cache_edge(e2e_database, e2e_workdir, portal):
    """A third runsip whose refresh cache entries live SHORT_CACHE_SECONDS."""
    yield from start_runsip(
        e2e_database[0],
        e2e_workdir,
        port=SHORT_CACHE_EDGE_PORT,
        portal_url=portal,
        extra=["--refresh-cache-seconds", str(SHORT_CACHE_SECONDS)],
    )


# The portal asks every edge for the PBX table as a change commits; the edge fetches it
# within a second (its timer), and the fetch itself takes milliseconds.
PUSHED_WITHIN_SECONDS = 3


@pytest.fixture(scope="session")
def hourly_tables_edge(e2e_database, e2e_workdir, portal):
    """An edge that fetches the PBX table by itself only once an hour (and once as it starts):
    a PBX address it knows within seconds of a change was pushed to it."""
    yield from start_runsip(
        e2e_database[0],
        e2e_workdir,
        port=SIP_BASE + 26,
        portal_url=portal,
        extra=["--tables-interval", "3600"],
    )


def start_runsip(env: dict, workdir: Path, *, port: int, portal_url: str, extra=()):
    """`manage.py runsip` on 127.0.0.1:`port` asking `portal_url`: yields the `Edge` once it
    answers OPTIONS, and stops it (with any Kamailio it left behind) afterwards."""
    if sip_options_ok("127.0.0.1", port, timeout=0.3):
        # Or this run would take another run's Kamailio (and its database) for its own.
        pytest.fail(
            f"127.0.0.1:{port} already answers SIP: move this run's ports with "
            "HOTDESK_E2E_SIP_PORTS"
        )
    rundir = workdir / f"edge-{port}"
    log_path = workdir / f"edge-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runsip",
                "--listen",
                f"127.0.0.1:{port}",
                "--portal-url",
                portal_url,
                "--rundir",
                str(rundir),
                # sipp and the tests all send from 127.0.0.1: keep pike from dropping them.
                "--flood-density",
                "65535",
                "--children",
                "4",
                # Handsets behind NAT (test_call_paths.py) hear from the edge every second.
                "--natping-interval",
                "1",
                *extra,
            ],
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "INFO"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,
        )
    edge = Edge(
        host="127.0.0.1",
        port=port,
        process=process,
        rundir=rundir,
        log_path=log_path,
        records=PortalRecords(env["DATABASE_URL"]),
    )
    try:
        _wait_until(
            lambda: sip_options_ok("127.0.0.1", port, timeout=0.5),
            process,
            what=f"runsip on 127.0.0.1:{port}",
            log_path=log_path,
        )
        yield edge
    finally:
        kamailio_pid = _read_pid(rundir / "kamailio.pid")
        stop(process, timeout=20)
        if kamailio_pid and _alive(kamailio_pid):
            # runsip did not stop its Kamailio: end it (and its children) by its group id.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(kamailio_pid, signal.SIGKILL)


def _wait_until(ready, process: subprocess.Popen, *, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.1)
    stop(process, timeout=10)
    log = log_path.read_text(errors="replace")[-4000:]
    pytest.fail(f"{what} did not start (exit {process.returncode}):\n{log}")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Real softphones (tests/e2e/softphone.py) ---------------------------------------------------

# Longer than any call here: the phone's WAV source hangs up the call when the file ends.
TONE_SECONDS = 120
StartPhone = Callable[..., Softphone]


@pytest.fixture(scope="session")
def baresip_installed() -> None:
    missing = baresip_missing()
    require_or_skip(not missing, missing)


@pytest.fixture
def softphone(edge: Edge, tmp_path: Path) -> Iterator[StartPhone]:
    """Start baresip for a seat (`softphone("softphone_0")`); every one started is stopped
    afterwards, also when the test failed, and their logs are printed, which pytest shows
    only for a failed test."""
    tone = write_tone(tmp_path / "tone.wav", seconds=TONE_SECONDS)
    started: list[Softphone] = []

    def start(seat_name: str, *, pin: str = PIN) -> Softphone:
        seat = SEATS[seat_name]
        phone = start_softphone(
            tmp_path / seat_name,
            extension=seat.extension,
            domain=seat.domain,
            pin=pin,
            edge=edge.target,
            tone=tone,
        )
        started.append(phone)
        return phone

    try:
        yield start
    finally:
        for phone in started:
            phone.stop()
        print("\n" + "\n".join(phone.tail() for phone in started))
