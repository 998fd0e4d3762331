"""`manage.py runsip`: starting, securing and stopping the local Kamailio."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamailio import edge_config
from kamailio.edge_config import EdgeError, parse_listen, parse_portal_url
from kamailio.process import sip_options_ok

from .conftest import ROOT, SIP_BASE, _alive, _read_pid

# Clear of the session's edges (SIP_BASE .. SIP_BASE + 5) and sipp's client ports (+10 ..).
RUNSIP_PORT = SIP_BASE + 6  # and + 7 for its JSON-RPC
BUSY_PORT = SIP_BASE + 8


class Runsip:
    """`manage.py runsip` in a subprocess, its output in files (a full pipe would block it)."""

    def __init__(self, env: dict, workdir: Path, *args: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.stdout_path, self.stderr_path = workdir / "stdout", workdir / "stderr"
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runsip", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Wait for the exit (killing it after `timeout`); (status, stdout, stderr)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        return (
            self.process.returncode,
            self.stdout_path.read_text(errors="replace"),
            self.stderr_path.read_text(errors="replace"),
        )


def bare_env(tmp_path: Path, *, path: str) -> dict:
    return {
        "PATH": path,
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/unused.sqlite3",
        "SECRET_KEY": "x",
        "DEBUG": "false",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5070", ("127.0.0.1", 5070)),
        (" 192.0.2.10:5060 ", ("192.0.2.10", 5060)),
        ("[::1]:5070", ("::1", 5070)),
    ],
)
def test_listen_address_is_parsed(text, expected):
    assert parse_listen(text) == expected


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "localhost:5070", "127.0.0.1:0", "127.0.0.1:70000", "300.1.2.3:5070", ""]
)
def test_malformed_listen_address_is_refused(text):
    with pytest.raises(EdgeError, match="--listen"):
        parse_listen(text)


@pytest.mark.parametrize(
    "text",
    [
        "ftp://127.0.0.1",
        "127.0.0.1:8000",
        "http://edge:secret@127.0.0.1:8000",
        "http://127.0.0.1:8000/?next=1",
        'http://127.0.0.1:8000/"x',
        "http://127.0.0.1:8000/a;b",
    ],
)
def test_portal_url_that_the_cfg_cannot_carry_is_refused(text):
    with pytest.raises(EdgeError, match="--portal-url"):
        parse_portal_url(text)


@pytest.mark.parametrize("density", [0, 65536, 1_000_000])
def test_flood_density_pike_cannot_hold_is_refused(tmp_path, density):
    # pike keeps it in 16 bits: 1000000 would silently become 16960 and block a load test.
    with pytest.raises(EdgeError, match="--flood-density"):
        edge_config.make_config(
            listen="127.0.0.1:5070",
            portal_url="http://127.0.0.1:8000",
            rundir=tmp_path,
            flood_density=density,
        )


def test_refresh_cache_seconds_are_passed_as_a_define_and_bounded(tmp_path):
    common = {"listen": "127.0.0.1:5070", "portal_url": "http://127.0.0.1:8000", "rundir": tmp_path}
    default = edge_config.kamailio_argv(
        edge_config.make_config(**common), kamailio="/usr/sbin/kamailio"
    )
    assert not any(arg.startswith("HOTDESK_REFRESH_CACHE_SECONDS") for arg in default)
    off = edge_config.make_config(**common, refresh_cache_seconds=0)
    assert "HOTDESK_REFRESH_CACHE_SECONDS=0" in edge_config.kamailio_argv(
        off, kamailio="/usr/sbin/kamailio"
    )
    for bad in (-1, 86401):
        with pytest.raises(EdgeError, match="--refresh-cache-seconds"):
            edge_config.make_config(**common, refresh_cache_seconds=bad)


@pytest.mark.parametrize(
    ("option", "define", "good", "bad"),
    [
        ("natping_interval", "HOTDESK_NATPING_INTERVAL", 0, (-1, 3601)),
        ("tables_interval", "HOTDESK_TABLES_INTERVAL", 3600, (0, 86401)),
    ],
)
def test_nat_ping_and_table_intervals_are_passed_as_defines_and_bounded(
    tmp_path, option, define, good, bad
):
    common = {"listen": "127.0.0.1:5070", "portal_url": "http://127.0.0.1:8000", "rundir": tmp_path}
    default = edge_config.kamailio_argv(
        edge_config.make_config(**common), kamailio="/usr/sbin/kamailio"
    )
    assert not any(arg.startswith(define) for arg in default)
    chosen = edge_config.make_config(**common, **{option: good})
    assert f"{define}={good}" in edge_config.kamailio_argv(chosen, kamailio="/usr/sbin/kamailio")
    for value in bad:
        with pytest.raises(EdgeError, match="--" + option.replace("_", "-")):
            edge_config.make_config(**common, **{option: value})


def test_portal_url_loses_its_trailing_slash():
    assert parse_portal_url("https://portal.example.com/hotdesk/") == (
        "https://portal.example.com/hotdesk"
    )


def test_kamailio_argv_carries_no_secret_and_every_setting_as_a_define(tmp_path):
    config = edge_config.make_config(
        listen="127.0.0.1:5070", portal_url="http://127.0.0.1:8000", rundir=tmp_path
    )
    argv = edge_config.kamailio_argv(config, kamailio="/usr/sbin/kamailio")
    assert "HOTDESK_LISTEN_UDP=udp:127.0.0.1:5070" in argv
    assert "HOTDESK_LISTEN_TCP=tcp:127.0.0.1:5070" in argv
    assert 'HOTDESK_PORTAL_URL="http://127.0.0.1:8000"' in argv
    assert "HOTDESK_RPC_HTTP_PORT=5071" in argv
    assert config.rpc_url == "http://127.0.0.1:5071/RPC"
    assert not any("CREDENTIAL" in arg for arg in argv)


def test_local_cfg_is_private_to_the_owner(tmp_path):
    path = edge_config.write_local_cfg(rundir=tmp_path, name="runsip-5070", secret="abc-DEF_123")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == '#!substdef "!HOTDESK_PORTAL_CREDENTIAL!runsip-5070:abc-DEF_123!"\n'


def test_runsip_without_kamailio_fails_with_one_clear_line(tmp_path):
    env = bare_env(tmp_path, path=str(Path(sys.executable).parent))
    runsip = Runsip(
        env, tmp_path / "out", "--listen", "127.0.0.1:5070", "--portal-url", "http://127.0.0.1:8000"
    )
    status, stdout, stderr = runsip.finish(60)

    assert status == 1
    assert stderr.strip().splitlines() == [
        "CommandError: kamailio is not installed (or /usr/sbin is not on PATH); install it with "
        "`apt-get install kamailio kamailio-utils-modules kamailio-json-modules`."
    ]
    assert stdout == ""


@pytest.mark.parametrize("listen", ["127.0.0.1", "localhost:5070", "127.0.0.1:99999"])
def test_runsip_with_a_malformed_listen_address_fails_with_one_clear_line(tmp_path, listen):
    runsip = Runsip(
        bare_env(tmp_path, path=os.environ["PATH"]),
        tmp_path / "out",
        "--listen",
        listen,
        "--portal-url",
        "http://127.0.0.1:8000",
    )
    status, _, stderr = runsip.finish(60)

    assert status == 1
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"CommandError: --listen '{listen}': ")


@pytest.mark.sip
def test_runsip_rotates_its_credential_serves_sip_and_stops_kamailio_on_signals(
    e2e_database, e2e_workdir
):
    env, records = e2e_database
    env = {**env, "LOG_LEVEL": "INFO"}
    rundir = e2e_workdir / "runsip-signals"
    hashes = []
    for stop_with in (signal.SIGTERM, signal.SIGINT):
        runsip = Runsip(
            env,
            e2e_workdir / f"runsip-{stop_with.name}",
            "--listen",
            f"127.0.0.1:{RUNSIP_PORT}",
            "--portal-url",
            "http://127.0.0.1:18099",
            "--rundir",
            str(rundir),
        )
        try:
            _wait_for_sip(runsip, RUNSIP_PORT)
            kamailio_pid = _read_pid(rundir / "kamailio.pid")
            assert kamailio_pid and _alive(kamailio_pid)
            local_cfg = rundir / "hotdesk-local.cfg"
            assert local_cfg.stat().st_mode & 0o777 == 0o600
            assert rundir.stat().st_mode & 0o777 == 0o700
            secret = local_cfg.read_text().split(f"runsip-{RUNSIP_PORT}:")[1].split("!")[0]
            (credential,) = records.rows(
                "SELECT * FROM registrations_sipcredential WHERE name = %s",
                (f"runsip-{RUNSIP_PORT}",),
            )
            assert credential["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
            assert credential["rpc_url"] == f"http://127.0.0.1:{RUNSIP_PORT + 1}/RPC"
            hashes.append(credential["secret_sha256"])
            assert secret not in Path(f"/proc/{kamailio_pid}/cmdline").read_text()

        finally:
            if runsip.process.poll() is None:
                runsip.process.send_signal(stop_with)
            status, stdout, stderr = runsip.finish(20)

        assert status == 0, stderr[-3000:]
        assert secret not in stdout + stderr
        assert stdout == ""
        assert "kamailio stopped" in stderr
        assert not _alive(kamailio_pid)
        assert not sip_options_ok("127.0.0.1", RUNSIP_PORT, timeout=0.3)
        assert not local_cfg.exists()

    assert hashes[0] != hashes[1], "the credential was not rotated"


@pytest.mark.sip
def test_kamailio_stops_when_runsip_is_killed(e2e_database, e2e_workdir):
    env, _ = e2e_database
    rundir = e2e_workdir / "runsip-killed"
    runsip = Runsip(
        env,
        e2e_workdir / "runsip-killed-out",
        "--listen",
        f"127.0.0.1:{RUNSIP_PORT}",
        "--portal-url",
        "http://127.0.0.1:18099",
        "--rundir",
        str(rundir),
    )
    try:
        _wait_for_sip(runsip, RUNSIP_PORT)
        kamailio_pid = _read_pid(rundir / "kamailio.pid")
        assert kamailio_pid and _alive(kamailio_pid)
    finally:
        runsip.process.kill()
        runsip.finish(10)

    deadline = time.monotonic() + 10
    while _alive(kamailio_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kamailio_pid)


@pytest.mark.sip
@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
def test_runsip_refuses_a_busy_port_before_touching_anything(
    e2e_database, e2e_workdir, records, kind
):
    # A Kamailio left behind on the port would answer the readiness probe in place of ours.
    env, _ = e2e_database
    name = f"runsip-{BUSY_PORT}"
    before = records.rows("SELECT * FROM registrations_sipcredential WHERE name = %s", (name,))
    with socket.socket(socket.AF_INET, kind) as busy:
        busy.bind(("127.0.0.1", BUSY_PORT))
        if kind == socket.SOCK_STREAM:
            busy.listen()
        runsip = Runsip(
            env,
            e2e_workdir / f"runsip-busy-out-{kind.name}",
            "--listen",
            f"127.0.0.1:{BUSY_PORT}",
            "--portal-url",
            "http://127.0.0.1:18099",
            "--rpc-port",
            str(BUSY_PORT + 1),
            "--rundir",
            str(e2e_workdir / f"runsip-busy-{kind.name}"),
        )
        status, _, stderr = runsip.finish(30)

    assert status == 1
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"CommandError: SIP ({'UDP' if kind == socket.SOCK_DGRAM else 'TCP'})")
    assert f"127.0.0.1:{BUSY_PORT} is in use" in line
    # Nothing rotated: a running edge of that name would keep its credential.
    after = records.rows("SELECT * FROM registrations_sipcredential WHERE name = %s", (name,))
    assert after == before


@pytest.mark.sip
def test_runsip_ends_every_kamailio_process_when_the_main_one_dies(e2e_database, e2e_workdir):
    env, _ = e2e_database
    env = {**env, "LOG_LEVEL": "INFO"}
    rundir = e2e_workdir / "runsip-main-killed"
    runsip = Runsip(
        env,
        e2e_workdir / "runsip-main-killed-out",
        "--listen",
        f"127.0.0.1:{RUNSIP_PORT}",
        "--portal-url",
        "http://127.0.0.1:18099",
        "--rundir",
        str(rundir),
    )
    try:
        _wait_for_sip(runsip, RUNSIP_PORT)
        _wait_for_line(runsip, "is ready")  # runsip is watching it now, not starting it
        kamailio_pid = _read_pid(rundir / "kamailio.pid")
        assert kamailio_pid and _group_alive(kamailio_pid)
        os.kill(kamailio_pid, signal.SIGKILL)  # the main process only: its workers live on
        status, _, stderr = runsip.finish(30)
    finally:
        if runsip.process.poll() is None:
            runsip.process.kill()

    assert status != 0
    assert "kamailio exited by itself" in stderr
    assert not _group_alive(kamailio_pid)
    assert not sip_options_ok("127.0.0.1", RUNSIP_PORT, timeout=0.3)


def _wait_for_line(runsip: Runsip, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in runsip.stderr_path.read_text(errors="replace"):
        if runsip.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"runsip never said {text!r}:\n{runsip.finish()[2][-3000:]}")
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """Whether a live process (not a zombie waiting to be reaped) is in the process group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            return True
    return False


def _wait_for_sip(runsip: Runsip, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if runsip.process.poll() is not None:
            pytest.fail(f"runsip exited early:\n{runsip.finish()[2][-3000:]}")
        if sip_options_ok("127.0.0.1", port, timeout=0.3):
            return
        time.sleep(0.1)
    pytest.fail(f"runsip did not answer SIP on port {port}")
