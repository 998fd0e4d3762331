"""sipp as the install's PBX (issue 12): it receives a hot desk's outside call with the
operator's identity asserted (and none the phone claimed), and calling a hot desk nobody is
logged in at from the PBX's address gets 480 (the cue for voicemail)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import run_manage

from .conftest import PUSHED_WITHIN_SECONDS
from .records import eventually
from .seed import OTHER, OTHER_PIN, SEATS
from .sip_calls import Desk
from .sipp_runner import SCENARIOS, Phone

pytestmark = pytest.mark.sip


def set_pbx(env: dict, address: str) -> None:
    done = run_manage(env, "set_install", "--domain", OTHER, "--pbx-address", address)
    assert done.returncode == 0, done.stderr


def test_sipp_as_the_pbx_takes_an_outside_call_with_the_operators_identity(
    hourly_tables_edge, e2e_database, sipp, e2e_workdir
):
    edge, (env, _) = hourly_tables_edge, e2e_database
    seat = SEATS["pbx_callee"]
    port = sipp.free_port()
    messages = e2e_workdir / f"pbx-{port}-messages.log"
    pbx = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(SCENARIOS / "pbx_answers.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "1",
            "-nostdin",
            "-default_behaviors",
            "all,-abortunexp",
            "-timeout",
            "30s",
            "-trace_msg",
            "-message_file",
            str(messages),
        ],
        cwd=e2e_workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    set_pbx(env, f"sip:127.0.0.1:{port}")
    try:
        with Desk(
            edge=(edge.host, edge.port), extension=seat.extension, domain=OTHER, pin=OTHER_PIN
        ) as ann:
            assert ann.log_in() == 200

            def outside_call() -> int:
                call, status = ann.invite(
                    "02079460000",
                    extra_headers=("P-Asserted-Identity: <sip:3999@other.pbx.test>",),
                )
                if status == 200:
                    assert ann.hang_up(call) == 200
                return status

            status = eventually(
                outside_call, until=lambda s: s == 200, timeout=PUSHED_WITHIN_SECONDS + 5
            )
        assert status == 200
        assert pbx.wait(timeout=20) == 0, pbx.stderr.read() if pbx.stderr else ""
    finally:
        if pbx.poll() is None:
            pbx.kill()
            pbx.wait()
        set_pbx(env, "")
    received = messages.read_text(errors="replace")
    invite = received[received.index("INVITE sip:02079460000") :].split("\n\n", 1)[0]
    asserted = [
        line for line in invite.splitlines() if line.lower().startswith("p-asserted-identity")
    ]
    assert asserted == [f"P-Asserted-Identity: <sip:{seat.extension}@{OTHER}>"], invite


def test_sipp_from_the_pbx_address_gets_480_for_an_operator_who_logged_out(
    hourly_tables_edge, e2e_database, sipp
):
    edge, (env, _) = hourly_tables_edge, e2e_database
    seat = SEATS["pbx_nobody"]
    port = sipp.free_port()
    set_pbx(env, f"sip:127.0.0.1:{port}")
    try:
        with Desk(
            edge=(edge.host, edge.port), extension=seat.extension, domain=OTHER, pin=OTHER_PIN
        ) as ann:
            assert ann.log_in() == 200
            assert ann.log_out() == 200

        def call_from_the_pbx():
            return sipp.run(
                "pbx_calls_unavailable.xml",
                target=edge.target,
                phones=[Phone(extension=seat.extension, domain=OTHER, pin="")],
                local_port=port,
                timeout=15,
            )

        run = eventually(
            call_from_the_pbx, until=lambda r: r.returncode == 0, timeout=PUSHED_WITHIN_SECONDS + 10
        )
    finally:
        set_pbx(env, "")
    assert run.returncode == 0, run.describe()
    assert run.finals == ["SIP/2.0 480 Temporarily Unavailable"], run.describe()
