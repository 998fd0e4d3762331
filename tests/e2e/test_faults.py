"""One fault at a time under a steady load: what the edge answers, what the portal counts.

The stack is the deployed one, on PostgreSQL and Redis: gunicorn (deploy/gunicorn.conf.py)
whose database and cache connections go through `TcpProxy`s the tests can slow, blackhole or
cut, and `manage.py runsip` asking it. While sipp keeps handsets logging in, refreshing and
logging out (`SippLoad`), our probes (`Probes`) note every answer to an OPTIONS ping, the
refreshes of a handset that stays logged in, new logins, and one wrong PIN a second, each from
a user of its own. Then one fault is injected for a few seconds and lifted, the handset that
kept refreshing has its Hot Desk Access revoked, and the load stops. For every fault:

- every request got an answer within its budget: OPTIONS and the refreshes the edge
  authenticates itself in 0.5 s, a login, log-out or wrong PIN in 2 s (a 503 has a
  Retry-After);
- each wrong PIN answered 403 counted exactly once, each answered 503 not at all;
- the revoked handset's next refresh is refused;
- the portal's open sessions are exactly the edge's bindings once the reports are in.

Each test adds a row to the table printed at the end of the run (docs/reliability.md has one).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from devtools.deployment import free_port, gunicorn, is_postgres
from tests.conftest import require_or_skip, run_manage

from .conftest import HTTP_BASE, REPORT, SIP_BASE, START_TIMEOUT, Edge, start_runsip
from .fault_load import Answer, LoadReport, Probes, SippLoad
from .records import PortalRecords, eventually
from .seed import FAULTS, SEATS
from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.sip

FAULT_EDGE_PORT = SIP_BASE + 30
LOAD_PORT = SIP_BASE + 32
PORTS = range(HTTP_BASE, HTTP_BASE + 50)
LOAD_RATE = float(os.environ.get("HOTDESK_FAULT_LOAD_RATE", "20"))  # sipp calls a second
# What the edge promises (docs/reliability.md), with room for a loaded two-core CI machine.
BUDGET = {"options": 0.5, "refresh": 0.5, "login": 2.0, "logout": 2.0, "wrong_pin": 2.0}
LOGIN_SEATS = [SEATS[f"fault_login_{n}"] for n in range(10)]
_refreshers = (SEATS[f"fault_refresher_{n}"] for n in range(10))
_victims = (SEATS[f"fault_victim_{n:03d}"] for n in range(200))


@dataclass
class Stack:
    env: dict[str, str]  # the portal's: database and cache through the proxies
    direct_env: dict[str, str]  # the same, straight to PostgreSQL and Redis
    records: PortalRecords
    database: TcpProxy
    cache: TcpProxy
    gunicorn: subprocess.Popen
    portal_url: str
    workdir: Path
    edge: Edge
    _edge_context: contextlib.AbstractContextManager

    def restart_edge(self) -> None:
        self._edge_context.__exit__(None, None, None)
        self._edge_context = _edge(self)
        self.edge = self._edge_context.__enter__()


def _edge(stack: Stack) -> contextlib.AbstractContextManager[Edge]:
    return contextlib.contextmanager(start_runsip)(
        stack.direct_env, stack.workdir, port=FAULT_EDGE_PORT, portal_url=stack.portal_url
    )


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    address = f"127.0.0.1:{port}"
    return urlunsplit(
        parts._replace(netloc=f"{netloc[0]}@{address}" if len(netloc) > 1 else address)
    )


@pytest.fixture(scope="module")
def stack(e2e_database, e2e_workdir) -> Iterator[Stack]:
    env, records = e2e_database
    cache_url = os.environ.get("CACHE_URL", "")
    require_or_skip(
        is_postgres(env["DATABASE_URL"]) and cache_url.startswith("redis://"),
        "the fault suite runs on PostgreSQL and Redis, as deployed: set "
        "DATABASE_URL=postgres://... and CACHE_URL=redis://... (.ci/run does)",
    )
    database_url = urlsplit(env["DATABASE_URL"])
    cache = urlsplit(cache_url)
    proxies = []
    for host, port in (
        (database_url.hostname, database_url.port or 5432),
        (cache.hostname, cache.port or 6379),
    ):
        proxies.append(TcpProxy(port=free_port(PORTS), upstream=(host, port)))
        proxies[-1].start()  # before the next free_port, which would pick the same port
    db_proxy, cache_proxy = proxies
    # As deployed: the check log is written in batches (no HOTDESK_CHECK_LOG_MAX_DELAY).
    direct = {k: v for k, v in env.items() if k != "HOTDESK_CHECK_LOG_MAX_DELAY"}
    direct["CACHE_URL"] = cache_url
    proxied = {
        **direct,
        "DATABASE_URL": _through(env["DATABASE_URL"], db_proxy.port),
        "CACHE_URL": _through(cache_url, cache_proxy.port),
    }
    workdir = e2e_workdir / "faults"
    workdir.mkdir()
    port = free_port(PORTS)
    try:
        with gunicorn(
            proxied, port=port, log=workdir / "gunicorn.log", timeout=START_TIMEOUT
        ) as master:
            stack = Stack(
                env=proxied,
                direct_env=direct,
                records=records,
                database=db_proxy,
                cache=cache_proxy,
                gunicorn=master,
                portal_url=f"http://127.0.0.1:{port}",
                workdir=workdir,
                edge=None,  # type: ignore[arg-type]  # set just below
                _edge_context=contextlib.nullcontext(),
            )
            stack.restart_edge()
            try:
                yield stack
            finally:
                stack._edge_context.__exit__(None, None, None)
    finally:
        for proxy in (db_proxy, cache_proxy):
            proxy.stop()


@dataclass
class Outcome:
    fault: str
    held: float
    lifted: float  # when the fault was lifted, on the probes' clock
    answers: list[Answer]
    load: LoadReport
    recovered_after: float | None
    revocation: subprocess.CompletedProcess
    revoked_at: float
    accounted: dict[str, int]  # victim extension -> wrong PINs counted (+ still in flight)
    sessions: set[tuple[str, str]]
    bindings: set[tuple[str, str]]

    def late(self, *, since: float = float("-inf")) -> list[Answer]:
        return [
            a
            for a in self.answers
            if a.at >= since and (a.status is None or a.seconds > BUDGET[a.kind])
        ]

    def row(self) -> str:
        wrong = [a for a in self.answers if a.kind == "wrong_pin"]
        forbidden = [a for a in wrong if a.status == 403]
        return (
            f"| {self.fault} | {self.held:.0f} s | {len(self.answers)} "
            f"| {len(self.answers) - len(self.late())} "
            f"| {sum(a.status is None for a in self.answers)} "
            f"| {sum(a.status == 503 for a in self.answers)} "
            f"| {len(forbidden)} / {sum(a.status == 503 for a in wrong)} "
            f"/ {sum(a.status is None for a in wrong)} "
            f"| {sum(self.accounted[a.extension] for a in forbidden)} "
            f"| {self.load.ok} / {self.load.failed} "
            f"| {self.load.p99('login'):.0f} / {self.load.slowest('login'):.0f} "
            f"| {self.load.p99('refresh'):.0f} / {self.load.slowest('refresh'):.0f} "
            f"| {'-' if self.recovered_after is None else f'{self.recovered_after:.1f} s'} |"
        )


HEADER = (
    "| fault | held | probe requests | answered in budget | no answer | 503 "
    "| wrong PINs 403 / 503 / none | counted | sipp calls ok / failed "
    "| sipp login p99 / max ms | sipp refresh p99 / max ms | first login after |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def exercise(
    stack: Stack,
    *,
    fault: str,
    inject: Callable[[], contextlib.AbstractContextManager],
    hold: float,
    revoke_during: bool = False,
) -> Outcome:
    """Load, probes, the fault for `hold` seconds, recovery, a revocation, then the records."""
    refresher = next(_refreshers)
    victims: list[str] = []

    def next_victim():
        seat = next(_victims)
        victims.append(seat.extension)
        return seat

    probes = Probes(
        target=(stack.edge.host, stack.edge.port),
        refresher=refresher,
        logins=LOGIN_SEATS,
        victims=iter(next_victim, None),
    )
    load = SippLoad(
        stack.workdir / fault.replace(" ", "-"),
        target=stack.edge.target,
        local_port=LOAD_PORT,
        rate=LOAD_RATE,
    )
    load.start(FAULTS)
    probes.start()
    try:
        # A baseline under load first: every kind of probe answered at least twice.
        assert probes.wait_for(
            lambda answers: all(
                sum(a.kind == kind and a.status is not None for a in answers) >= 2
                for kind in ("options", "refresh", "login", "wrong_pin")
            ),
            timeout=30,
        ), "the probes got no answers before the fault"
        began = probes.now()
        revocation = None
        with inject():
            # The fault's length is what is being tested: a fixed time, not an event.
            time.sleep(hold / 2)
            if revoke_during:
                revocation = revoke(stack, refresher.extension)
                revoked_at = probes.now()  # done: every refresh from now on must be refused
            time.sleep(max(began + hold - probes.now(), 0))
        lifted = probes.now()
        recovered = probes.wait_for(
            lambda answers: any(
                a.kind == "login" and a.status == 200 and a.at >= lifted for a in answers
            ),
            timeout=30,
        )
        recovered_after = (
            min(a.at + a.seconds for a in probes.of("login", since=lifted) if a.status == 200)
            - lifted
            if recovered
            else None
        )
        if revocation is None:
            revocation = revoke(stack, refresher.extension)
            revoked_at = probes.now()
        probes.wait_for(
            lambda answers: any(a.kind == "refresh" and a.at > revoked_at for a in answers),
            timeout=10,
        )
    finally:
        probes.stop()
        report = load.stop()
    accounted = wrong_pins_accounted(stack.records, victims)
    sessions, bindings = eventually(
        lambda: (open_sessions(stack.records), edge_bindings(stack.edge)),
        until=lambda found: found[0] == found[1],
        timeout=20,
    )
    return Outcome(
        fault=fault,
        held=lifted - began,
        lifted=lifted,
        answers=list(probes.answers),
        load=report,
        recovered_after=recovered_after,
        revocation=revocation,
        revoked_at=revoked_at,
        accounted=accounted,
        sessions=sessions,
        bindings=bindings,
    )


def revoke(stack: Stack, extension: str) -> subprocess.CompletedProcess:
    return run_manage(
        stack.direct_env,
        "set_pbx_user",
        "--domain",
        FAULTS,
        "--extension",
        extension,
        "--no-hot-desk",
    )


def wrong_pins_accounted(records: PortalRecords, extensions: list[str]) -> dict[str, int]:
    """Per victim: wrong PINs counted, plus guesses still in flight, once reports are in.

    Every answered attempt's outcome reaches the portal (sent again while it fails), so the
    permits drain; one whose edge died with it queued counts when its permit runs out.
    """

    def read() -> tuple[dict[str, int], int]:
        rows = records.rows(
            "SELECT u.extension, COALESCE(l.consecutive_failures, 0) AS failures,"
            " (SELECT count(*) FROM registrations_guesspermit p WHERE p.pbx_user_id = u.id)"
            " AS in_flight"
            " FROM users_pbxuser u JOIN installs_install i ON i.id = u.install_id"
            " LEFT JOIN registrations_lockout l ON l.pbx_user_id = u.id"
            " WHERE i.sip_domain = %s AND u.extension = ANY(%s)",
            (FAULTS, extensions),
        )
        return (
            {row["extension"]: row["failures"] + row["in_flight"] for row in rows},
            sum(row["in_flight"] for row in rows),
        )

    counted, _ = eventually(read, until=lambda found: found[1] == 0, timeout=20)
    return counted


def open_sessions(records: PortalRecords) -> set[tuple[str, str]]:
    return {
        (f"{row['extension']}@{FAULTS}", row["contact"])
        for row in records.rows(
            "SELECT u.extension, s.contact FROM registrations_hotdesksession s"
            " JOIN users_pbxuser u ON u.id = s.pbx_user_id"
            " JOIN installs_install i ON i.id = s.install_id"
            " WHERE i.sip_domain = %s AND s.ended_at IS NULL",
            (FAULTS,),
        )
    }


def edge_bindings(edge: Edge) -> set[tuple[str, str]]:
    return {
        (aor, contact)
        for aor, contacts in edge.bindings().items()
        if aor.endswith("@" + FAULTS)
        for contact in contacts
    }


def assert_held(outcome: Outcome, *, answered_from: float = float("-inf")) -> None:
    """What must hold for every fault (see the module docstring)."""
    late = outcome.late(since=answered_from)
    assert not late, f"{len(late)} answers missing or over budget: {late[:10]}"
    unavailable = [a for a in outcome.answers if a.status == 503]
    assert all(a.retry_after for a in unavailable), "a 503 without Retry-After"
    assert {a.status for a in outcome.answers if a.kind in ("options",) and a.status} <= {200}
    for answer in outcome.answers:
        if answer.kind == "wrong_pin":
            # Answered 403: a digest was checked, one guess. 503: none. No answer (the edge
            # died): either, but never two.
            expected = {403: {1}, 503: {0}, None: {0, 1}}[answer.status]
            assert outcome.accounted[answer.extension] in expected, answer
    assert outcome.revocation.returncode == 0, outcome.revocation.stderr
    after = [a for a in outcome.answers if a.kind == "refresh" and a.at > outcome.revoked_at]
    assert after, "no refresh after the revocation"
    assert after[0].status != 200 and all(a.status != 200 for a in after), after
    assert outcome.sessions == outcome.bindings
    if not REPORT:
        REPORT.append(HEADER)
    REPORT.append(outcome.row())


# --- The faults ---------------------------------------------------------------------------------


def test_gunicorn_workers_stopped_for_5_seconds(stack):
    def stopped_workers():
        workers = _children(stack.gunicorn.pid)
        assert workers, "gunicorn has no workers to stop"

        @contextlib.contextmanager
        def stopped():
            for pid in workers:
                os.kill(pid, signal.SIGSTOP)
            try:
                yield
            finally:
                for pid in workers:
                    os.kill(pid, signal.SIGCONT)

        return stopped()

    outcome = exercise(
        stack, fault="gunicorn workers stopped", inject=stopped_workers, hold=5, revoke_during=True
    )

    assert_held(outcome)
    assert any(a.status == 503 for a in outcome.answers if a.kind == "login"), (
        "no login met the stall"
    )


def test_database_three_seconds_slower(stack):
    outcome = exercise(
        stack, fault="database 3 s slower", inject=lambda: stack.database.delaying(1.5), hold=8
    )

    assert_held(outcome)


def test_database_unreachable(stack):
    outcome = exercise(
        stack, fault="database unreachable", inject=stack.database.blackholed, hold=8
    )

    assert_held(outcome)
    assert any(a.status == 503 for a in outcome.answers if a.kind == "login")


def test_redis_unreachable(stack):
    outcome = exercise(
        stack, fault="Redis unreachable", inject=stack.cache.blackholed, hold=8, revoke_during=True
    )

    assert_held(outcome)
    # Nothing on the login path needs the cache: logins went on through the outage.
    assert {a.status for a in outcome.answers if a.kind == "login"} == {200}


def test_log_inserts_failing(stack):
    @contextlib.contextmanager
    def refusing_inserts():
        stack.records.rows(
            "CREATE OR REPLACE FUNCTION hotdesk_fault_refuse() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'fault injected: insert refused';"
            " END $$"
        )
        stack.records.rows(
            "CREATE TRIGGER hotdesk_fault_refuse BEFORE INSERT ON"
            " registrations_registrationlogentry FOR EACH ROW"
            " EXECUTE FUNCTION hotdesk_fault_refuse()"
        )
        try:
            yield
        finally:
            stack.records.rows(
                "DROP TRIGGER hotdesk_fault_refuse ON registrations_registrationlogentry"
            )

    outcome = exercise(
        stack, fault="log inserts failing", inject=refusing_inserts, hold=8, revoke_during=True
    )

    assert_held(outcome)
    refused = [a for a in outcome.answers if a.kind == "wrong_pin" and a.status == 403]
    assert refused, "no wrong PIN met the fault"


def test_kamailio_main_process_killed(stack):
    @contextlib.contextmanager
    def killed():
        runsip, rundir = stack.edge.process, stack.edge.rundir
        os.kill(int((rundir / "kamailio.pid").read_text()), signal.SIGKILL)
        # runsip notices, ends the whole group and exits non-zero: nothing left behind.
        assert runsip.wait(15) != 0
        assert not _kamailio_processes(rundir)
        yield
        stack.restart_edge()

    outcome = exercise(stack, fault="Kamailio killed", inject=killed, hold=1)

    # While it was down nothing answered; from the restart on, everything did.
    assert_held(outcome, answered_from=outcome.lifted)
    assert any(a.status is None for a in outcome.answers), "nothing met the dead edge"
    refreshes = [a for a in outcome.answers if a.kind == "refresh" and a.at > outcome.lifted]
    assert 200 in {a.status for a in refreshes if a.at < outcome.revoked_at}, "no re-login"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _kamailio_processes(rundir: Path) -> list[int]:
    """Processes still running Kamailio with this edge's config (orphans included)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            argv = cmdline.read_bytes().split(b"\0")
            if b"kamailio" in argv[0] and any(str(rundir).encode() in arg for arg in argv):
                found.append(int(cmdline.parent.name))
    return found
