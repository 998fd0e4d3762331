"""The results of bench/calls.py (run that; see its docstring), and the Markdown it prints."""

from __future__ import annotations

import argparse
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CallRun:
    target: str
    round: int
    calls: int
    ok: int
    failed: int
    callee_failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # CPU seconds used during the run, by process group (see `bench.sip.cpu_snapshot`).
    cpu: dict[str, float] = field(default_factory=dict)
    # What sipp logged as errors (caller and callee): failed calls, late retransmissions.
    errors: Counter[str] = field(default_factory=Counter)
    # The edge's log lines at WARNING or worse during the run, by kind.
    edge_log: Counter[str] = field(default_factory=Counter)
    # Seconds after the run until the edge and the portal were idle (call events sent and
    # recorded); their CPU until then counts for the run.
    catch_up_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


# os.getloadavg() before and after the runs.
LoadAverages = tuple[tuple[float, float, float], tuple[float, float, float]]

LABELS = {"fixed": "password in cfg", "portal": "shipped cfg + portal"}


def report(
    runs: list[CallRun],
    *,
    args: argparse.Namespace,
    engine: str,
    load: LoadAverages,
    records: int | None,
) -> None:
    """The table of the measured runs, what went wrong, and the ratio of each round.

    `runs` holds the warm-ups too (round 0): they count only for `records`, the calls the
    portal has on record after all runs."""
    _header(args, engine, load)
    measured = [r for r in runs if r.round]
    print(
        "| round | Kamailio | calls | calls/s | failed calls (caller / callee) | setup p50 ms "
        "| setup p99 ms | CPU per call, ms: Kamailio | portal (gunicorn) | sipp (both) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in measured:
        per = {k: 1000 * v / r.ok if r.ok else 0.0 for k, v in r.cpu.items()}
        portal_cpu = f"{per['portal']:.3f}" if "portal" in per else "-"
        print(
            f"| {r.round} | {LABELS[r.target]} | {r.calls} | {r.rate:,.0f} | {r.failed} / "
            f"{r.callee_failed} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {per.get('kamailio', 0):.3f} "
            f"| {portal_cpu} | {per.get('sipp', 0):.3f} |"
        )
    problems(measured)
    ratios = []
    for round_ in sorted({r.round for r in measured}):
        fixed, shipped = (
            next(r for r in measured if r.round == round_ and r.target == name)
            for name in ("fixed", "portal")
        )
        ratios.append(shipped.rate / fixed.rate if fixed.rate else 0.0)
        print(
            f"- round {round_}: shipped cfg + portal / password in cfg = {ratios[-1]:.0%}; by CPU "
            f"per call {_cpu_per_call(fixed) / _cpu_per_call(shipped):.0%} (the shipped edge "
            f"and the portal caught up {shipped.catch_up_s:.1f} s after the run)"
        )
    failed = sum(r.failed + r.callee_failed for r in measured if r.target == "portal")
    verdict = "met" if statistics.median(ratios) >= 0.5 and failed == 0 else "NOT met"
    print(
        f"- median {statistics.median(ratios):.0%}, {failed} failed calls through the shipped "
        f"edge (target >= 50% with zero failed calls: {verdict})"
    )
    if records is not None:
        through = sum(r.ok for r in runs if r.target == "portal")
        print(
            f"- the portal has {records} call records for the {through} calls through the "
            "shipped edge (warm-up included)"
        )


def _cpu_per_call(run: CallRun) -> float:
    """All the CPU a call took (edge, portal, both sipps). Where both paths are bound by the
    cores they share, their rates go inversely as this; and other work on the machine moves
    it far less than it moves the rates."""
    return sum(run.cpu.values()) / run.ok if run.ok else float("inf")


def _header(args: argparse.Namespace, engine: str, load: LoadAverages) -> None:
    pacing = (
        f"{args.rate} new calls/s, at most {args.concurrency} in flight"
        if args.rate
        else f"{args.concurrency} calls in flight"
    )
    print(
        f"\n{engine}, {args.pairs} caller and {args.pairs} callee operators, gunicorn "
        f"deploy/gunicorn.conf.py {args.gunicorn}".rstrip()
        + f"; sipp UDP, {pacing}; Kamailio children {args.children or 'cfg default (8)'}"
        + "".join(f" {option}" for option in args.kamailio_option)
        + f"; {os.cpu_count()} cores; load average {load[0][0]:.2f} before, "
        f"{load[1][0]:.2f} after\n"
    )


def problems(runs: list[CallRun]) -> None:
    """What sipp logged as errors, and what each edge logged at WARNING or worse."""
    errors = sum((r.errors for r in runs), Counter())
    if errors:
        print("\nWhat sipp logged as errors or warnings (caller and callee, all measured runs):\n")
        for kind, count in errors.most_common(8):
            print(f"- {count} x {kind}")
    for target, label in LABELS.items():
        lines = sum((r.edge_log for r in runs if r.target == target), Counter())
        if lines:
            print(f"\n{label}: its log at WARNING or worse during the measured runs:\n")
            for kind, count in lines.most_common(8):
                print(f"- {count} x `{kind}`")
    print()
