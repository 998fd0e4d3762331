"""Benchmark calls between hot desks through the shipped edge, against a fixed password.

    .venv/bin/python -m bench.calls [--seconds 10] [--rounds 3] [--concurrency 32] [--rate N]
                                    [--pairs 100] [--sip-ports 5195] [--http-ports 18170]
                                    [--children N] [--kamailio-option OPTION ...] [--keep]

In one run, on loopback, started as bench/sip.py starts them (and with its helpers):

- **shipped cfg + portal**: Kamailio with deploy/kamailio/kamailio.cfg by `manage.py runsip`,
  with the portal under gunicorn (deploy/gunicorn.conf.py) on a freshly seeded database
  (PostgreSQL when DATABASE_URL names one, else a temporary SQLite file). Operators log in
  through the portal. Their calls do not ask it: route CALL checks the INVITE's digest
  against the HA1 kept at the login, only from the login's source address. The edge does
  queue each call's start, answer and end for the portal's call records (sent in batches).
- **password in cfg**: Kamailio with bench/kamailio-fixed.cfg: the shipped route CALL's flow
  and parameters with the password in the file: no portal, no call records, no dialog
  tracking (the file says what else it leaves out).

`--pairs` callee operators log in to both edges from one sipp that then answers their calls
(127.0.0.1, the callees' port: each binding points there), and as many caller operators log
in from the callers' sipp, the address their calls come from. Then a warm-up per edge and
`--rounds` measured runs of about `--seconds` per edge, alternating: caller i calls callee i
(round robin), each call INVITE, 407, ACK, INVITE with the digest (Proxy-Authorization, the
caller's PIN), 100, 200 (with Record-Route), ACK, BYE, 200, through the edge. By default a
closed loop with `--concurrency` calls in flight; with `--rate`, that many new calls a second
(open loop), `--concurrency` at most in flight.

Calls/s counts calls that ended well at the caller. Failed calls are the caller's and the
callee's sipp counts (any unexpected or missing message fails a call); the report also lists
what sipp and each edge logged at WARNING or worse. Setup time runs from sending the INVITE
with the digest to its 200 (sipp's timer: whole milliseconds, in steps of a few). CPU per
call is the user + system time of each process tree from the start of a run until the edge
and the portal are idle again (the last call events recorded): Kamailio, the portal
(gunicorn) and both sipps. "By CPU per call" compares the two paths' total CPU per call,
which a busy machine moves far less than it moves the rates. Prints Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench import sip
from bench.api import SECRET
from bench.call_report import CallRun, report
from bench.call_sipp import BUFFERS, Operators, callee, caller_scenario, log_in, sipp_errors
from devtools.deployment import free_port, fresh_database, gunicorn, is_postgres, query
from kamailio.process import die_with_parent

# Loopback ports (the e2e tests use 5160-5184 and 5190-5192, bench.sip 5185-5190): from
# --sip-ports (default 5195) the shipped edge (UDP and TCP, + its JSON-RPC), the fixed-password
# edge, the callees' sipp and the callers' sipp; gunicorn takes the first free of 50 from
# --http-ports (default 18170).


@dataclass(frozen=True)
class Load:
    """How sipp places calls and where from: closed loop unless `rate`."""

    operators: Operators
    concurrency: int
    rate: int | None
    caller_port: int
    callee_port: int


@dataclass(frozen=True)
class Edge:
    """One Kamailio under test: its label, SIP address, the process trees whose CPU counts
    for it (name -> root pid), and its log."""

    name: str
    address: str
    groups: dict[str, int]
    log: Path
    # Its binrpc socket (kamcmd), where it has one: the shipped edge's queues for the portal.
    ctl: Path | None = None


def calls(workdir: Path, *, edge: Edge, round_: int, load: Load, seconds: float) -> CallRun:
    """One run of about `seconds` through `edge`, the callees answering (round 0: warm-up)."""
    run_dir = workdir / f"{edge.name}-{round_ or 'warmup'}"
    target = edge.address
    run_dir.mkdir()
    scenario_file = run_dir / "scenario.xml"
    scenario_file.write_text(caller_scenario())
    argv = (
        sip.sipp_argv(
            target,
            scenario_file=scenario_file,
            users_csv=load.operators.calls,
            sipp_port=load.caller_port,
            run_dir=run_dir,
            seconds=seconds,
            concurrency=load.concurrency,
            **({"rate": load.rate} if load.rate else {}),
        )
        + BUFFERS
    )
    # Both sipps are reaped before the second snapshot, so "sipp" counts them both.
    before = sip.cpu_snapshot(edge.groups)
    log_offset = edge.log.stat().st_size
    with (
        callee(
            run_dir / "callee", target=target, port=load.callee_port, seconds=seconds
        ) as callee_stats,
        (run_dir / "sipp.out").open("w") as out,
    ):
        process = subprocess.Popen(
            argv, cwd=run_dir, stdout=out, stderr=out, preexec_fn=die_with_parent
        )
        try:
            sip.run_for(process, seconds)
        finally:
            # Interrupted (Ctrl-C, an error): no sipp outlives the run.
            if process.poll() is None:
                process.kill()
                process.wait(10)
    after, catch_up = settled(edge)
    stats = sip.SippStats.read(run_dir, process)
    times = sip.response_times(run_dir)
    return CallRun(
        target=edge.name,
        round=round_,
        calls=stats.calls,
        ok=stats.ok,
        failed=stats.failed,
        callee_failed=callee_stats[0].failed,
        seconds=stats.seconds,
        p50_ms=statistics.median(times) if times else float("nan"),
        p99_ms=statistics.quantiles(times, n=100)[98] if len(times) > 1 else float("nan"),
        cpu={key: after[key] - before[key] for key in after},
        errors=sipp_errors(run_dir),
        edge_log=log_problems(edge.log, log_offset),
        catch_up_s=catch_up,
    )


def settled(edge: Edge, *, idle: float = 0.05, timeout: float = 90) -> tuple[dict, float]:
    """CPU seconds so far (`bench.sip.cpu_snapshot`) once the edge and the portal have caught
    up, and the seconds that took: the edge sends its call events in batches, and what the
    portal does for the last calls belongs to this run, not to the next one. Caught up: the
    edge's queues for the portal are empty, then twice under `idle` CPU seconds in half a
    second (CPU alone misleads while other work starves them of it)."""
    started = time.monotonic()
    snapshot = sip.cpu_snapshot(edge.groups)
    quiet = 0
    while quiet < 2 and time.monotonic() < started + timeout:
        time.sleep(0.5)
        previous, snapshot = snapshot, sip.cpu_snapshot(edge.groups)
        busy = sum(snapshot[name] - previous[name] for name in edge.groups) >= idle
        quiet = 0 if busy or _queued(edge.ctl) else quiet + 1
    return snapshot, time.monotonic() - started - 1.0


def _queued(ctl: Path | None) -> int:
    """What the edge still holds for the portal: the sizes of its mqueues (kamcmd)."""
    if ctl is None:
        return 0
    answer = subprocess.run(
        ["kamcmd", "-s", f"unix:{ctl}", "mqueue.get_sizes"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return sum(int(size) for size in re.findall(r"size:\s*(\d+)", answer.stdout))


_PROBLEM = re.compile(r"^\s*\d+\(\d+\) ((?:WARNING|ERROR|CRITICAL|ALERT):.*)$", re.M)


def log_problems(log: Path, offset: int) -> Counter[str]:
    """Kamailio's log lines at WARNING or worse from `offset` on (its process and the
    request's Call-ID left out, numbers and addresses blanked), by kind."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return Counter(
        re.sub(r"0x[0-9a-f]+|\d+", "N", re.sub(r"\{[^}]*\} ", "", found.group(1)))[:160]
        for found in _PROBLEM.finditer(text)
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (sipp -l)")
    parser.add_argument("--rate", type=int, help="new calls per second (open loop; sipp -r)")
    parser.add_argument("--pairs", type=int, default=100, help="caller and callee operators")
    parser.add_argument("--children", type=int, help="Kamailio SIP workers (cfg default: 8)")
    parser.add_argument("--gunicorn", default="", help="extra gunicorn options, e.g. '-w 3'")
    parser.add_argument(
        "--sip-ports", type=int, default=5195, help="first of 5 loopback SIP ports to use"
    )
    parser.add_argument(
        "--http-ports", type=int, default=18170, help="first of 50 loopback ports for gunicorn"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="measured runs of each edge, alternating"
    )
    parser.add_argument("--warmup", type=float, default=6, help="seconds of warm-up per edge")
    parser.add_argument(
        "--kamailio-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="an option for both Kamailios (repeat it: --kamailio-option=-X "
        "--kamailio-option=fm runs them with f_malloc for private memory)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the logs and sipp files (path printed)"
    )
    return parser.parse_args()


def _edges(
    stack: contextlib.ExitStack, env: dict, workdir: Path, args: argparse.Namespace
) -> list[Edge]:
    """Start the portal and both edges (stopped when `stack` closes)."""
    port = free_port(range(args.http_ports, args.http_ports + 50))
    portal_process = stack.enter_context(
        gunicorn(env, port=port, args=args.gunicorn.split(), log=workdir / "gunicorn.log")
    )
    portal = stack.enter_context(
        sip.portal_edge(
            env, workdir, f"http://127.0.0.1:{port}", args.children, port=args.sip_ports
        )
    )
    fixed = stack.enter_context(sip.fixed_edge(workdir, args.children, port=args.sip_ports + 2))
    return [
        Edge("fixed", fixed[0], {"kamailio": fixed[1]}, workdir / "fixed-edge.log"),
        Edge(
            "portal",
            portal[0],
            {"kamailio": portal[1], "portal": portal_process.pid},
            workdir / "portal-edge.log",
            workdir / "portal-edge" / "kamailio_ctl",
        ),
    ]


def main() -> None:
    args = _arguments()
    for tool in ("kamailio", "sipp"):
        if not shutil.which(tool):
            sys.exit(
                f"bench.calls needs {tool}: apt-get install kamailio kamailio-utils-modules "
                "kamailio-json-modules sip-tester (kamailio is in /usr/sbin)"
            )
    load_before = os.getloadavg()
    with (
        (
            contextlib.nullcontext(tempfile.mkdtemp(prefix="hotdesk-bench-calls-"))
            if args.keep
            else tempfile.TemporaryDirectory(prefix="hotdesk-bench-calls-")
        ) as tmp,
        fresh_database(prefix="hotdesk_bench", directory=Path(tmp)) as database_url,
    ):
        workdir = Path(tmp)
        if args.keep:
            print(f"logs and sipp files in {workdir}", file=sys.stderr)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
        }
        # Callers 0000.., callees from --pairs on, all with bench.sip's PIN.
        for argv in (
            ["manage.py", "migrate", "-v0"],
            ["-m", "bench.seed", str(2 * args.pairs), SECRET],
        ):
            subprocess.run([sys.executable, *argv], cwd=sip.ROOT, env=env, check=True)
        load = Load(
            operators=Operators.write(workdir, args.pairs),
            concurrency=args.concurrency,
            rate=args.rate,
            callee_port=args.sip_ports + 3,
            caller_port=args.sip_ports + 4,
        )
        if args.kamailio_option:
            env["PATH"] = os.environ["PATH"] = _kamailio_wrapper(workdir, args.kamailio_option)
        with contextlib.ExitStack() as stack:
            edges = _edges(stack, env, workdir, args)
            runs = _measure(workdir, edges, load, args.rounds, args.seconds, args.warmup)
            records = _call_records(database_url)
    engine = "PostgreSQL" if is_postgres(database_url) else "SQLite"
    report(runs, args=args, engine=engine, load=(load_before, os.getloadavg()), records=records)


def _call_records(database_url: str) -> int | None:
    """How many calls the portal has on record (None: this portal keeps no call records)."""
    try:
        return int(query(database_url, "SELECT COUNT(*) FROM calls_callrecord")[0][0])
    except Exception:  # sqlite3's or psycopg's "no such table"
        return None


def _kamailio_wrapper(workdir: Path, options: list[str]) -> str:
    """A PATH whose `kamailio` is the real one with `options` first: both edges find Kamailio
    on PATH (`manage.py runsip` as well), so both get them."""
    real = shutil.which("kamailio")
    directory = workdir / "bin"
    directory.mkdir()
    wrapper = directory / "kamailio"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(real))} {shlex.join(options)} "$@"\n')
    wrapper.chmod(0o755)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


def _measure(
    workdir: Path, edges: list[Edge], load: Load, rounds: int, seconds: float, warmup: float
) -> list[CallRun]:
    """Log every operator in at both edges, then a warm-up and `rounds` measured runs of each
    edge, alternating (the machine's speed drifts: compare within a round)."""
    for edge in edges:
        for who, logins, port in (
            ("callees", load.operators.callees, load.callee_port),
            ("callers", load.operators.callers, load.caller_port),
        ):
            log_in(
                workdir,
                name=f"login-{edge.name}-{who}",
                target=edge.address,
                logins=logins,
                count=load.operators.count,
                port=port,
            )
    # Until Kamailio's memory holds its steady state: a transaction stays for 5 s after its
    # answer (tm's wait timer), so a shorter warm-up leaves the first run paying for shared
    # memory touched the first time. Returned as round 0.
    warmups = [calls(workdir, edge=edge, round_=0, load=load, seconds=warmup) for edge in edges]
    return warmups + [
        calls(workdir, edge=edge, round_=round_, load=load, seconds=seconds)
        for round_ in range(1, rounds + 1)
        for edge in edges
    ]


if __name__ == "__main__":
    main()
