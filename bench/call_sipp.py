"""The sipp side of bench/calls.py (run that; see its docstring): the callers' and callees'
scenarios and injection files, logging operators in, the callees' sipp, its error logs."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.sip import DOMAIN, PIN, SippStats, run_for, scenario, sipp_argv
from kamailio.process import die_with_parent

_VIA = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch{offset}];rport"
_CALLER_HEADERS = (
    "      "
    + _VIA
    + """
      Max-Forwards: 70
      From: <sip:[field0]@[field2]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field1]@[field2]>{to_tag}
      Call-ID: [call_id]"""
)


def _caller_request(
    first_line: str, cseq: str, extra: str = "", *, retrans: bool = False, start_rtd: bool = False
) -> str:
    """One request of the caller. The ACK of the 407 must name the INVITE's branch: sipp's
    [branch-3] is that of the message three steps back (INVITE, 100, 407, ACK)."""
    headers = _CALLER_HEADERS.format(
        offset="-3" if cseq == "1 ACK" else "",
        to_tag="[peer_tag_param]" if cseq.endswith(("ACK", "BYE")) else "",
    )
    # Retransmitted every 0.5 s until answered, as a handset does over UDP.
    attributes = (' retrans="500"' if retrans else "") + (' start_rtd="1"' if start_rtd else "")
    return f"""  <send{attributes}>
    <![CDATA[
      {first_line} SIP/2.0
{headers}
      CSeq: {cseq}{extra}
      Content-Length: 0

    ]]>
  </send>
"""


def caller_scenario() -> str:
    """The caller's side of one call, as a handset does it (tests/e2e/sip_calls.py)."""
    contact = "\n      Contact: <sip:[field0]@[local_ip]:[local_port];transport=[transport]>"
    invite = "INVITE sip:[field1]@[field2]"
    routes = "\n      [routes]"
    steps = [
        _caller_request(invite, "1 INVITE", contact, retrans=True),
        '  <recv response="100" optional="true" />\n',
        '  <recv response="407" auth="true" />\n',
        _caller_request("ACK sip:[field1]@[field2]", "1 ACK"),
        # sipp 3.6.1 does not expand fields inside [authentication ...]: the whole keyword
        # is field 3 of the injection file. The setup time starts here.
        _caller_request(
            invite, "2 INVITE", contact + "\n      [field3]", retrans=True, start_rtd=True
        ),
        '  <recv response="100" optional="true" />\n',
        # rrs: the Record-Route the edge put in becomes the Route of the ACK and the BYE,
        # sent to the callee's Contact ([next_url]) through the edge.
        '  <recv response="200" rrs="true" rtd="1" />\n',
        _caller_request("ACK [next_url]", "2 ACK", routes),
        _caller_request("BYE [next_url]", "3 BYE", routes, retrans=True),
        '  <recv response="200" />\n',
    ]
    return _scenario("hotdesk bench caller", steps)


def callee_scenario() -> str:
    """The callee's side: answer at once (200, retransmitted until the ACK or BYE comes), then
    take the ACK and the BYE in either order.

    The caller sends the BYE right after the ACK, and the edge's worker processes relay them
    in parallel: the BYE overtook the ACK in 2-6% of calls (through either config). A handset
    answers such a BYE; a callee scenario that insisted on the ACK first failed those calls.
    """
    reply = """  <send{retrans}>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]{record_route}
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      [last_CSeq:]{contact}
      Content-Length: 0

    ]]>
  </send>
"""
    bye_ok = reply.format(retrans="", record_route="", tag="", contact="")
    steps = [
        '  <recv request="INVITE" />\n',
        reply.format(
            retrans=' retrans="500"',
            record_route="\n      [last_Record-Route:]",
            tag=";tag=[pid]SIPpTag01[call_number]",
            contact="\n      Contact: <sip:[local_ip]:[local_port];transport=[transport]>",
        ),
        # The ACK first (the usual order): on to label 1. Else the BYE, then the late ACK.
        '  <recv request="ACK" optional="true" next="1" />\n',
        '  <recv request="BYE" />\n',
        bye_ok,
        '  <recv request="ACK" next="2" />\n',
        '  <label id="1" />\n',
        '  <recv request="BYE" />\n',
        bye_ok,
        '  <label id="2" />\n',
    ]
    return _scenario("hotdesk bench callee", steps)


def _scenario(name: str, steps: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
        f'<scenario name="{name}">\n' + "".join(steps) + "</scenario>\n"
    )


@dataclass(frozen=True)
class Operators:
    """Injection files: the callers' and callees' logins, and the calls (caller, callee)."""

    callers: Path
    callees: Path
    calls: Path
    count: int

    @classmethod
    def write(cls, workdir: Path, pairs: int) -> Operators:
        def auth(n: int) -> str:
            return f"[authentication username={n:04d} password={PIN}]"

        def logins(numbers: range) -> str:
            return "SEQUENTIAL\n" + "".join(f"{n:04d};{DOMAIN};{auth(n)}\n" for n in numbers)

        files = cls(workdir / "callers.csv", workdir / "callees.csv", workdir / "calls.csv", pairs)
        files.callers.write_text(logins(range(pairs)))
        files.callees.write_text(logins(range(pairs, 2 * pairs)))
        files.calls.write_text(
            "SEQUENTIAL\n"
            + "".join(f"{n:04d};{n + pairs:04d};{DOMAIN};{auth(n)}\n" for n in range(pairs))
        )
        return files


def log_in(workdir: Path, *, name: str, target: str, logins: Path, count: int, port: int) -> None:
    """Log `count` operators in at `target` from 127.0.0.1:`port` (their binding's address).

    All of them again if any login failed (up to three times): on a busy machine the shipped
    edge answers a login 503 when the portal is slow to check it, as it should."""
    for attempt in range(1, 4):
        run_dir = workdir / f"{name}-{attempt}"
        run_dir.mkdir()
        scenario_file = run_dir / "scenario.xml"
        scenario_file.write_text(scenario(0, cached_nonce=False))
        argv = sipp_argv(
            target,
            scenario_file=scenario_file,
            users_csv=logins,
            sipp_port=port,
            run_dir=run_dir,
            seconds=60,
            concurrency=min(count, 4),
            calls=count,
        )
        with (run_dir / "sipp.out").open("w") as out:
            process = subprocess.Popen(
                argv, cwd=run_dir, stdout=out, stderr=out, preexec_fn=die_with_parent
            )
            try:
                run_for(process, 60)
            finally:
                # Interrupted (Ctrl-C, an error): no sipp outlives the run.
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        if SippStats.read(run_dir, process).ok == count:
            return
    errors = sipp_errors(run_dir).most_common(3)
    raise RuntimeError(f"{name}: not all {count} logins at {target} succeeded: {errors}")


# Socket buffers of 4 MB (net.core.rmem_max here) instead of sipp's 64 KB, which a stall of a
# few tens of milliseconds overflows at 1,000 calls/s; a lost ACK is not retransmitted.
BUFFERS = ["-buff_size", "4194304"]


@contextlib.contextmanager
def callee(run_dir: Path, *, target: str, port: int, seconds: float) -> Iterator[list]:
    """The callees' sipp on 127.0.0.1:`port`, answering every call the edge sends there.

    Yields a list that holds its final counters (`SippStats`) once it has stopped: on
    leaving, it is told to finish (SIGUSR1) and killed if it does not."""
    run_dir.mkdir()
    scenario_file = run_dir / "scenario.xml"
    scenario_file.write_text(callee_scenario())
    argv = ["sipp", target, "-sf", str(scenario_file), "-i", "127.0.0.1", "-p", str(port)]
    argv += ["-t", "u1", "-nostdin", "-recv_timeout", "10000", "-timeout", f"{int(seconds) + 90}s"]
    argv += ["-trace_stat", "-stf", str(run_dir / "stat.csv"), "-fd", "600"]
    argv += ["-trace_err", "-error_file", str(run_dir / "errors.log"), *BUFFERS]
    stats: list[SippStats] = []
    with (run_dir / "sipp.out").open("w") as out:
        process = subprocess.Popen(
            argv, cwd=run_dir, stdout=out, stderr=out, preexec_fn=die_with_parent
        )
        try:
            _wait_bound(port, process)
            yield stats
        except BaseException:
            # Interrupted: the calls it is in will never end, so no waiting for them.
            process.kill()
            process.wait(10)
            raise
        process.send_signal(signal.SIGUSR1)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    stats.append(SippStats.read(run_dir, process))


def _wait_bound(port: int, process: subprocess.Popen) -> None:
    """Until sipp holds its UDP port: the first calls must not be sent to a closed port (tm
    would send them again only after 0.5 s, an outlier in the setup times)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.02)
    raise RuntimeError(f"the callees' sipp did not open UDP port {port}")


# sipp starts each entry with its time, not always on a new line.
_ERROR_START = re.compile(r"\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: ")


def sipp_errors(run_dir: Path) -> Counter[str]:
    """The first line of each error the caller's and the callee's sipp logged, Call-IDs and
    numbers blanked so that errors of a kind count together."""
    kinds: Counter[str] = Counter()
    for path in run_dir.rglob("errors.log"):
        for entry in _ERROR_START.split(path.read_text(errors="replace"))[1:]:
            line = re.sub(r"\S+@\S+", "<call-id>", entry.strip().splitlines()[0])
            kinds[re.sub(r"\d+", "N", line)[:160]] += 1
    return kinds
