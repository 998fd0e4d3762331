"""Benchmark hot-desk REGISTERs end to end: sipp -> Kamailio -> portal, against a fixed password.

    .venv/bin/python -m bench.sip [--seconds 10] [--concurrency 32] [--refreshes 9]
                                  [--sip-ports 5185] [--http-ports 18150] [--no-cache-run]

In one run, on loopback:

- **portal**: Kamailio with the shipped deploy/kamailio/kamailio.cfg, started by
  `manage.py runsip` (as a developer or the e2e tests start it), asking the portal under
  gunicorn (deploy/gunicorn.conf.py, as deployed) on a freshly seeded database: PostgreSQL when
  DATABASE_URL names one, else a temporary SQLite file. A refresh of a binding the portal
  validated is authenticated by Kamailio itself (HOTDESK_REFRESH_CACHE_SECONDS, default 1800).
- **portal, no cache** (with `--no-cache-run`): the same with HOTDESK_REFRESH_CACHE_SECONDS=0,
  so every REGISTER with credentials asks the portal (the config before the refresh cache).
- **fixed password**: Kamailio with bench/kamailio-fixed.cfg: the same modules and REGISTER
  flow, with the password in the config and no HTTP at all. The ceiling for the portal path.

Both are driven by the same generated sipp scenarios over UDP, with a fixed number of calls
in flight (closed loop) for about `--seconds` each (then sipp is told to finish the calls in
flight: SIGUSR1), after a 2 s warm-up, in three mixes:

- **login**: every call is a new login: REGISTER, 401, REGISTER with digest, 200, new Call-ID.
  Through the portal each costs a check; its `registered` report (which opens a session)
  reaches the portal in a batch with the others (deploy/kamailio/README.md).
- **refresh, challenged**: each call logs in once, then refreshes the same binding
  `--refreshes` times (same Call-ID, next CSeq), each refresh challenged first (REGISTER, 401,
  REGISTER with digest, 200), as a handset without credential caching does. No portal call
  (one check each without the cache).
- **refresh, cached nonce**: the same, but each refresh re-sends the digest with the cached
  nonce and the next nonce count: one round trip, as most handsets do. No portal call (one
  check each without the cache).

Handsets refresh every 500 s (the Infinity default) and log in once a day or so, so real load is
almost all refreshes, mostly with a cached nonce (the shipped cfg keeps nonces valid longer
than a binding for that reason): the cached-nonce mix is the realistic one, and even it holds
more logins than life (1 in 10 REGISTERs). Logins matter as a morning storm.

REGISTER/s counts REGISTERs that ended in 200 (a login or challenged refresh counts once, with
its 401 round). Latency is from sending the REGISTER with the digest to its 200 (sipp's
timers: whole milliseconds). A second table gives the CPU time each process tree used per
REGISTER, which is what decides the ratio on a small machine. Prints Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.api import SECRET
from devtools.deployment import free_port, fresh_database, gunicorn, is_postgres, stop
from kamailio.process import die_with_parent, sip_options_ok

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

DOMAIN = "bench.pbx.test"
PIN = "2468"
# Loopback ports of this benchmark (the e2e tests use 5160-5184 and 18100-18149): from
# --sip-ports (default 5185) the portal edge (+ its JSON-RPC), the fixed-password edge, sipp,
# and the no-cache edge (+ its JSON-RPC); the portal takes the first free of 50 from
# --http-ports (default 18150).

_HEADERS = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      From: <sip:[field0]@[field1]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: [cseq] REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port];transport=[transport]>"""


def _register(*, auth: bool, rtd: str) -> str:
    credentials = "\n      [field2]" if auth else ""
    return f"""  <send retrans="500" {rtd}>
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
{_HEADERS}{credentials}
      Expires: 3600
      User-Agent: hotdesk bench
      Content-Length: 0

    ]]>
  </send>
"""


def scenario(refreshes: int, *, cached_nonce: bool) -> str:
    """A login, then `refreshes` refreshes of the same binding (same Call-ID, next CSeq).

    With `cached_nonce` a refresh re-sends the digest with the last nonce (next nc), as a
    handset with credential caching does: one round trip. Without, it is challenged first
    (REGISTER, 401, REGISTER with digest, 200), as a handset without caching is. Timer 1 runs
    from the login's REGISTER with digest to its 200, timer 2 the same for each refresh.
    """
    steps = [
        _register(auth=False, rtd=""),
        '  <recv response="401" auth="true" />\n',
        _register(auth=True, rtd='start_rtd="1"'),
        '  <recv response="200" rtd="1" />\n',
    ]
    for _ in range(refreshes):
        if not cached_nonce:
            steps += [_register(auth=False, rtd=""), '  <recv response="401" auth="true" />\n']
        steps += [
            _register(auth=True, rtd='start_rtd="2"'),
            '  <recv response="200" rtd="2" repeat_rtd="true" />\n',
        ]
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
        f'<scenario name="hotdesk bench, login + {refreshes} refreshes">\n'
        + "".join(steps)
        + "</scenario>\n"
    )


@dataclass(frozen=True)
class Mix:
    name: str
    what: str
    xml: str
    registers_per_call: int


def mixes(refreshes: int) -> list[Mix]:
    per_call = refreshes + 1
    return [
        Mix(
            "login",
            "new login every call (check + batched report)",
            scenario(0, cached_nonce=False),
            1,
        ),
        Mix(
            "refresh, challenged",
            f"1 login + {refreshes} refreshes, each with a 401 round (check only)",
            scenario(refreshes, cached_nonce=False),
            per_call,
        ),
        Mix(
            "refresh, cached nonce",
            f"1 login + {refreshes} refreshes re-using the nonce (check only)",
            scenario(refreshes, cached_nonce=True),
            per_call,
        ),
    ]


@dataclass
class Run:
    target: str
    mix: str
    calls: int
    ok: int
    failed: int
    registers: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # CPU seconds used during the run, by process group (see `cpu_snapshot`).
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.registers / self.seconds if self.seconds else 0.0


def sipp(
    workdir: Path,
    *,
    name: str,
    mix: Mix,
    target: str,
    users_csv: Path,
    seconds: float,
    concurrency: int,
    sipp_port: int,
    groups: dict[str, int] | None = None,
) -> Run:
    """One closed-loop sipp run of about `seconds`, then SIGUSR1: sipp places no new calls and
    exits once the calls in flight have ended. Bounded by hard timeouts as well."""
    run_dir = workdir / name
    run_dir.mkdir()
    scenario_file = run_dir / "scenario.xml"
    scenario_file.write_text(mix.xml)
    argv = sipp_argv(
        target,
        scenario_file=scenario_file,
        users_csv=users_csv,
        sipp_port=sipp_port,
        run_dir=run_dir,
        seconds=seconds,
        concurrency=concurrency,
    )
    before = cpu_snapshot(groups or {})
    with (run_dir / "sipp.out").open("w") as out:
        process = subprocess.Popen(argv, cwd=run_dir, stdout=out, stderr=out)
        run_for(process, seconds)
    after = cpu_snapshot(groups or {})
    stats = SippStats.read(run_dir, process)
    rtds = response_times(run_dir)
    return Run(
        target=name.split("-")[0],
        mix=mix.name,
        calls=stats.calls,
        ok=stats.ok,
        failed=stats.failed,
        registers=stats.ok * mix.registers_per_call,
        seconds=stats.seconds,
        p50_ms=statistics.median(rtds) if rtds else float("nan"),
        p99_ms=statistics.quantiles(rtds, n=100)[98] if len(rtds) > 1 else float("nan"),
        cpu={key: after[key] - before[key] for key in after},
    )


def sipp_argv(
    target: str,
    *,
    scenario_file: Path,
    users_csv: Path,
    sipp_port: int,
    run_dir: Path,
    seconds: float,
    concurrency: int,
    rate: int = 100_000,
    calls: int = 100_000_000,
) -> list[str]:
    """sipp as a load generator from 127.0.0.1:`sipp_port`, writing its statistics (stat.csv),
    response times and errors into `run_dir`. With the default `rate` the `concurrency` limit
    is what paces it (a closed loop); it stops after `calls` calls or when told (`run_for`)."""
    return [
        "sipp",
        target,
        "-sf",
        str(scenario_file),
        "-inf",
        str(users_csv),
        "-i",
        "127.0.0.1",
        "-p",
        str(sipp_port),
        "-t",
        "u1",
        "-m",
        str(calls),
        "-l",
        str(concurrency),
        "-r",
        str(rate),
        "-nostdin",
        "-default_behaviors",
        "abortunexp",
        "-recv_timeout",
        "5000",
        "-timeout",
        f"{int(seconds) + 60}s",
        "-trace_stat",
        "-stf",
        str(run_dir / "stat.csv"),
        "-fd",
        "600",
        "-trace_rtt",
        "-rtt_freq",
        "100",
        "-trace_err",
        "-error_file",
        str(run_dir / "errors.log"),
    ]


def run_for(process: subprocess.Popen, seconds: float) -> None:
    """Let sipp run for `seconds`, then SIGUSR1 (no new calls; it exits once the calls in
    flight have ended); killed if it has not within a minute."""
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@dataclass(frozen=True)
class SippStats:
    """The final counters of a finished sipp run (its stat.csv)."""

    calls: int
    ok: int
    failed: int
    seconds: float

    @classmethod
    def read(cls, run_dir: Path, process: subprocess.Popen) -> SippStats:
        if process.returncode not in (0, 1):
            raise RuntimeError(
                f"sipp failed ({process.returncode}): {(run_dir / 'sipp.out').read_text()[-2000:]}"
            )
        with (run_dir / "stat.csv").open() as handle:
            last = list(csv.DictReader(handle, delimiter=";"))[-1]
        # "2026-11-26<TAB>14:12:40.812756<TAB>1795702360.812756": the epoch is the last field.
        started, ended = (float(last[key].split()[-1]) for key in ("StartTime", "CurrentTime"))
        return cls(
            calls=int(last["OutgoingCall(C)"]) + int(last["IncomingCall(C)"]),
            ok=int(last["SuccessfulCall(C)"]),
            failed=int(last["FailedCall(C)"]),
            seconds=ended - started,
        )


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far: each group's root pid with all its descendants, and sipp (the
    finished children of this process)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (ppid, cpu seconds)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry.name)] = (
                    int(fields[1]),
                    (int(fields[11]) + int(fields[12])) / tick,
                )
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    snapshot = {}
    for name, root in groups.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            total += stats.get(pid, (0, 0.0))[1]
            todo += children.get(pid, [])
        snapshot[name] = total
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    snapshot["sipp"] = usage.ru_utime + usage.ru_stime
    return snapshot


def response_times(run_dir: Path) -> list[float]:
    """Every response time sipp recorded (ms), from its -trace_rtt file."""
    values = []
    for path in run_dir.glob("*_rtt.csv"):
        for row in csv.reader(path.open(), delimiter=";"):
            with contextlib.suppress(ValueError, IndexError):
                values.append(float(row[1]))
    return values


@contextlib.contextmanager
def portal_edge(
    env: dict,
    workdir: Path,
    portal_url: str,
    children: int | None,
    *,
    port: int,
    name: str = "portal-edge",
    refresh_cache_seconds: int | None = None,
):
    """Kamailio with the shipped config, started the way developers and the e2e tests do."""
    log = (workdir / f"{name}.log").open("wb")
    argv = [
        PYTHON,
        "manage.py",
        "runsip",
        "--listen",
        f"127.0.0.1:{port}",
        "--portal-url",
        portal_url,
        "--rundir",
        str(workdir / name),
        "--flood-density",
        "65535",
        # As much shared memory as the fixed-password edge below: with cached refreshes this
        # edge runs at Kamailio's own rate, and each transaction holds ~14 KB for 5 s (256 MB
        # ran out at ~3,500 REGISTER/s: "out of mem", 500 to the phone).
        "--shm-mb",
        "3072",
    ]
    if children:
        argv += ["--children", str(children)]
    if refresh_cache_seconds is not None:
        argv += ["--refresh-cache-seconds", str(refresh_cache_seconds)]
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=log, preexec_fn=die_with_parent
    )
    try:
        _wait_sip(process, port, workdir / f"{name}.log")
        yield f"127.0.0.1:{port}", process.pid
    finally:
        stop(process, timeout=20)
        log.close()


@contextlib.contextmanager
def fixed_edge(workdir: Path, children: int | None, *, port: int):
    """Kamailio with bench/kamailio-fixed.cfg: the same flow with the password in the file."""
    rundir = workdir / "fixed-edge"
    rundir.mkdir(mode=0o700)
    log = (workdir / "fixed-edge.log").open("wb")
    argv = [
        shutil.which("kamailio") or "kamailio",
        "-DD",
        "-E",
        "-f",
        str(ROOT / "bench/kamailio-fixed.cfg"),
        "-P",
        str(rundir / "kamailio.pid"),
        "-Y",
        str(rundir),
        # Far more shared memory than the portal path needs: each transaction holds ~14 KB
        # for 5 s, and without HTTP this Kamailio runs over 10,000 REGISTER/s (1 GB was too
        # little: "out of mem", 500 to the phone). Only what is used is touched.
        "-m",
        "3072",
        "-M",
        "8",
        "-A",
        f"BENCH_LISTEN=udp:127.0.0.1:{port}",
    ]
    if children:
        argv += ["-A", f"HOTDESK_CHILDREN={children}"]
    process = subprocess.Popen(
        argv,
        cwd=rundir,
        stdout=log,
        stderr=log,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        _wait_sip(process, port, workdir / "fixed-edge.log")
        yield f"127.0.0.1:{port}", process.pid
    finally:
        stop(process, timeout=20)
        log.close()


def _wait_sip(process, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if sip_options_ok("127.0.0.1", port, timeout=0.3):
            return
        time.sleep(0.1)
    stop(process, timeout=20)
    raise RuntimeError(f"SIP on port {port} did not start:\n{log.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (sipp -l)")
    parser.add_argument(
        "--refreshes", type=int, default=9, help="refreshes per login (refresh mix)"
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--children", type=int, help="Kamailio SIP workers (cfg default: 8)")
    parser.add_argument("--gunicorn", default="", help="extra gunicorn options, e.g. '-w 3'")
    parser.add_argument(
        "--sip-ports", type=int, default=5185, help="first of 6 loopback SIP ports to use"
    )
    parser.add_argument(
        "--http-ports", type=int, default=18150, help="first of 50 loopback ports for gunicorn"
    )
    parser.add_argument(
        "--no-cache-run",
        action="store_true",
        help="also run the shipped cfg with HOTDESK_REFRESH_CACHE_SECONDS=0 (every REGISTER "
        "asks the portal)",
    )
    args = parser.parse_args()
    base = args.sip_ports
    portal_edge_port, fixed_edge_port, sipp_port, nocache_edge_port = (
        base,
        base + 2,
        base + 3,
        base + 4,
    )
    for tool in ("kamailio", "sipp"):
        if not shutil.which(tool):
            sys.exit(
                f"bench.sip needs {tool}: apt-get install kamailio kamailio-utils-modules "
                "kamailio-json-modules sip-tester (kamailio is in /usr/sbin)"
            )

    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    load_before = os.getloadavg()
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="hotdesk-bench-sip-") as tmp,
        fresh_database(prefix="hotdesk_bench", directory=Path(tmp)) as database_url,
    ):
        workdir = Path(tmp)
        env = {**base_env, "DATABASE_URL": database_url}
        engine = "PostgreSQL" if is_postgres(database_url) else "SQLite"
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "-m", "bench.seed", str(args.users), SECRET], cwd=ROOT, env=env, check=True
        )
        users_csv = workdir / "users.csv"
        users_csv.write_text(
            "SEQUENTIAL\n"
            + "".join(
                f"{n:04d};{DOMAIN};[authentication username={n:04d} password={PIN}]\n"
                for n in range(args.users)
            )
        )
        port = free_port(range(args.http_ports, args.http_ports + 50))
        portal_url = f"http://127.0.0.1:{port}"
        with contextlib.ExitStack() as stack:
            portal_process = stack.enter_context(
                gunicorn(env, port=port, args=args.gunicorn.split(), log=workdir / "gunicorn.log")
            )
            portal = stack.enter_context(
                portal_edge(env, workdir, portal_url, args.children, port=portal_edge_port)
            )
            fixed = stack.enter_context(fixed_edge(workdir, args.children, port=fixed_edge_port))
            targets = {
                "fixed": (fixed[0], {"kamailio": fixed[1]}),
                "portal": (portal[0], {"kamailio": portal[1], "portal": portal_process.pid}),
            }
            if args.no_cache_run:
                nocache = stack.enter_context(
                    portal_edge(
                        env,
                        workdir,
                        portal_url,
                        args.children,
                        port=nocache_edge_port,
                        name="nocache-edge",
                        refresh_cache_seconds=0,
                    )
                )
                targets["nocache"] = (
                    nocache[0],
                    {"kamailio": nocache[1], "portal": portal_process.pid},
                )
            for index, mix in enumerate(mixes(args.refreshes)):
                for name, (target, groups) in targets.items():
                    common = {
                        "mix": mix,
                        "target": target,
                        "users_csv": users_csv,
                        "concurrency": args.concurrency,
                        "sipp_port": sipp_port,
                        "groups": groups,
                    }
                    # Warm-up: gunicorn workers, kept-alive connections, the location table.
                    sipp(workdir, name=f"{name}-{index}-warmup", seconds=2, **common)
                    runs.append(
                        sipp(workdir, name=f"{name}-{index}", seconds=args.seconds, **common)
                    )
    load_after = os.getloadavg()
    _report(runs, args=args, engine=engine, load=(load_before, load_after))


LABELS = {
    "fixed": "password in cfg",
    "portal": "shipped cfg + portal",
    "nocache": "shipped cfg + portal, cache off",
}


def _report(runs: list[Run], *, args, engine: str, load) -> None:
    print(
        f"\n{engine}, {args.users} users, gunicorn deploy/gunicorn.conf.py {args.gunicorn}".rstrip()
        + f"; sipp UDP, {args.concurrency} calls in flight; Kamailio children "
        f"{args.children or 'cfg default (8)'}; {os.cpu_count()} cores; load average "
        f"{load[0][0]:.2f} before, {load[1][0]:.2f} after\n"
    )
    print("| mix | Kamailio | calls | REGISTERs | REGISTER/s | failed calls | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        label = LABELS[r.target]
        print(
            f"| {r.mix} | {label} | {r.calls} | {r.registers} | {r.rate:,.0f} | {r.failed} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} |"
        )
    print(
        "\nCPU per REGISTER, in ms (user + system time of each process tree during the run):"
        "\n\n| mix | Kamailio | Kamailio | portal (gunicorn) | sipp |"
        "\n|---|---|---:|---:|---:|"
    )
    for r in runs:
        label = LABELS[r.target]
        per = {k: 1000 * v / r.registers if r.registers else 0.0 for k, v in r.cpu.items()}
        portal_cpu = f"{per['portal']:.3f}" if "portal" in per else "-"
        print(
            f"| {r.mix} | {label} | {per.get('kamailio', 0):.3f} | {portal_cpu} | "
            f"{per.get('sipp', 0):.3f} |"
        )
    print()
    for mix in dict.fromkeys(r.mix for r in runs):
        fixed = next(r for r in runs if r.mix == mix and r.target == "fixed")
        for portal in (r for r in runs if r.mix == mix and r.target != "fixed"):
            ratio = portal.rate / fixed.rate if fixed.rate else 0.0
            verdict = "met" if ratio >= 0.25 and portal.failed == 0 else "NOT met"
            print(
                f"- {mix}: {LABELS[portal.target]} / fixed password = {ratio:.0%} "
                f"(target >= 25% with zero failed calls: {verdict})"
            )


if __name__ == "__main__":
    main()
