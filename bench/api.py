"""Benchmark the REGISTER check endpoint against a constant-JSON Django view, in one run.

    .venv/bin/python -m bench.api [--seconds 10] [--connections 16] [--users 10000]

Both endpoints are served by the same gunicorn (deploy/gunicorn.conf.py, as deployed) from a
freshly seeded database: PostgreSQL when DATABASE_URL names one, else a temporary SQLite file.
Throughput and latency under saturation come from wrk (Debian package `wrk`) with keep-alive
connections; latency at a fixed 300 requests/s from a small open-loop Python client that
measures from each request's scheduled send time (so queueing counts). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.deployment import free_port, fresh_database, gunicorn, is_postgres

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "bench-edge-secret-0123456789abcdefghijklmnop"  # noqa: S105 (a throwaway database)
AUTH = "Basic " + base64.b64encode(f"bench:{SECRET}".encode()).decode()


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    fixed_p50_ms: float = 0.0
    fixed_p99_ms: float = 0.0
    fixed_errors: int = 0


def wrk(
    url: str, *, seconds: int, connections: int, lua: Path | None
) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx/3xx + socket errors) from wrk --latency."""
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: {AUTH}",
    ]
    if lua:
        cmd += ["-s", str(lua)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    rps = float(found.group(1))
    pct = {
        m[0]: _ms(m[1], m[2]) for m in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return rps, pct["50"], pct["99"], errors


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def fixed_rate(port: int, paths: list[str], *, rate: int, seconds: int) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, errors) at a fixed request rate, open loop, 8 keep-alive connections."""
    total = rate * seconds
    start = time.monotonic() + 0.2
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    threads = 8

    def run(offset: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for i in range(offset, total, threads):
            due = start + i / rate
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
            try:
                conn.request("GET", paths[i % len(paths)], headers={"Authorization": AUTH})
                response = conn.getresponse()
                response.read()
                ok = response.status in (200, 403)
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            elapsed = (time.monotonic() - due) * 1000
            with lock:
                latencies.append(elapsed)
                errors += not ok

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    q = statistics.quantiles(latencies, n=100)
    return q[49], q[98], errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per endpoint")
    parser.add_argument(
        "--gunicorn", default="", help="extra gunicorn options, e.g. '-w 4 -k sync'"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.api needs wrk: apt-get install wrk")

    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        # Every allowed check takes a guess permit, and nothing here reports outcomes: keep
        # the users from running out of guesses (and permits from turning into failures), so
        # every check measured is the full allow path, permit included.
        "HOTDESK_LOCKOUT_SHORT_THRESHOLD": "1000000000",
        "HOTDESK_LOCKOUT_HARD_THRESHOLD": "1000000000",
        "HOTDESK_GUESS_PERMIT_SECONDS": "86400",
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(prefix="hotdesk_bench", directory=Path(tmp)) as database_url,
    ):
        env = {**base_env, "DATABASE_URL": database_url}
        engine = "PostgreSQL" if is_postgres(database_url) else "SQLite"
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "-m", "bench.seed", str(args.users), SECRET], cwd=ROOT, env=env, check=True
        )
        check = (
            "/api/sip/v1/register/check?domain=bench.pbx.test&ip=203.0.113.7&port=5060"
            "&proto=udp&expires=500&ua=Yealink%20T46U&callid=bench&user="
        )
        lua = Path(tmp) / "users.lua"
        # Each request is an attempt of its own, as each REGISTER is at the edge.
        lua.write_text(
            "math.randomseed(os.time())\nlocal prefix = math.random(1, 2^30)\nlocal n = 0\n"
            "request = function()\n  n = n + 1\n"
            f'  local user = string.format("%04d", math.random(0, {args.users - 1}))\n'
            f'  return wrk.format(nil, "{check}" .. user .. "&attempt=b" .. prefix .. "-" .. n)\n'
            "end\n"
        )
        port = free_port()
        check_paths = [
            f"{check}{random.randrange(args.users):04d}&attempt=fixed-{n}-{random.getrandbits(32)}"
            for n in range(args.rate * args.seconds)  # one attempt per request
        ]
        targets = [
            (
                "constant JSON view (baseline)",
                f"http://127.0.0.1:{port}/api/sip/bench/constant",
                None,
                ["/api/sip/bench/constant"],
            ),
            (
                "register/check",
                f"http://127.0.0.1:{port}{check}0000&attempt=url",
                lua,
                check_paths,
            ),
        ]
        load_before = os.getloadavg()[0]
        runs: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name, *_ in targets}
        results = []
        with gunicorn(env, port=port, args=args.gunicorn.split()):
            for _name, url, script, _paths in targets:
                wrk(url, seconds=2, connections=args.connections, lua=script)  # warm-up
            # Alternate the two endpoints round by round, so drift in what else the machine
            # is doing hits both alike; each figure is the median of the rounds.
            for _round in range(args.rounds):
                for name, url, script, _paths in targets:
                    runs[name].append(
                        wrk(url, seconds=args.seconds, connections=args.connections, lua=script)
                    )
            for name, _url, _script, paths in targets:
                rps, p50, p99 = (statistics.median(run[i] for run in runs[name]) for i in range(3))
                result = Result(name, rps, p50, p99, sum(run[3] for run in runs[name]))
                result.fixed_p50_ms, result.fixed_p99_ms, result.fixed_errors = fixed_rate(
                    port, paths, rate=args.rate, seconds=args.seconds
                )
                results.append(result)

    gunicorn_args = " ".join(["deploy/gunicorn.conf.py", args.gunicorn]).strip()
    print(
        f"\n{engine}, {args.users} users, gunicorn {gunicorn_args}, "
        f"wrk -t2 -c{args.connections} -d{args.seconds}s, "
        f"median of {args.rounds} alternating rounds; "
        f"fixed rate {args.rate}/s for {args.seconds}s; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    rate = f"@{args.rate}/s"
    print(
        f"| endpoint | req/s (wrk) | p50 ms | p99 ms | errors "
        f"| p50 ms {rate} | p99 ms {rate} | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
            f"{r.fixed_p50_ms:.2f} | {r.fixed_p99_ms:.2f} | {r.fixed_errors} |"
        )
    baseline, check_result = results
    print(
        f"\ncheck / baseline throughput: {check_result.rps / baseline.rps:.0%} (target >= 70%); "
        f"check p99 at {args.rate}/s: {check_result.fixed_p99_ms:.2f} ms (target < 10 ms)"
    )


if __name__ == "__main__":
    main()
