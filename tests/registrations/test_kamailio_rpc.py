"""The portal's client for Kamailio's JSON-RPC: removing a binding and reading the location table.

Most tests talk to an in-test stand-in that answers in Kamailio 5.6's shape and records what it
received; the last ones run the shipped kamailio.cfg for real (marked `sip`): its JSON-RPC
serves the portal (list and remove bindings) and nothing and nobody else.
"""

import hashlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kamailio import rpc as kamailio_rpc
from kamailio.rpc import EdgeUnreachable, JsonRpcError
from tests.conftest import require_or_skip

from .kamailio_standin import StandInServer, closed_port_url

PROJECT = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = PROJECT / "deploy" / "kamailio" / "kamailio.cfg"


@pytest.fixture
def edge():
    with StandInServer() as standin:
        yield standin


# --- list_bindings ---------------------------------------------------------------------------


def test_bindings_are_read_from_the_location_table_dump(edge):
    edge.add(
        "1001@acme.pbx.test",
        "sip:1001@203.0.113.7:5060;transport=udp",
        expires=300,
        **{
            "User-Agent": "Yealink SIP-T46S 66.86.0.15",
            "Received": "sip:198.51.100.20:40001;transport=udp",
            "Call-ID": "abc@203.0.113.7",
            "Last-Modified": 1714554000,
        },
    )

    before = datetime.now(UTC)
    [binding] = kamailio_rpc.list_bindings(rpc_url=edge.url)

    assert binding.aor == "1001@acme.pbx.test"
    assert binding.contact == "sip:1001@203.0.113.7:5060;transport=udp"
    assert before + timedelta(seconds=299) <= binding.expires_at
    assert binding.expires_at <= datetime.now(UTC) + timedelta(seconds=300)
    assert binding.received == "sip:198.51.100.20:40001;transport=udp"
    assert binding.user_agent == "Yealink SIP-T46S 66.86.0.15"
    assert binding.call_id == "abc@203.0.113.7"
    assert binding.last_modified == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert edge.methods() == [("ul.dump", [])]
    assert edge.calls[0]["jsonrpc"] == "2.0"


def test_an_empty_location_table_has_no_bindings(edge):
    assert kamailio_rpc.list_bindings(rpc_url=edge.url) == []


def test_unset_fields_read_as_empty_and_a_permanent_binding_has_no_expiry(edge):
    edge.add(
        "1002@acme.pbx.test", "sip:1002@192.0.2.10", expires="permanent", **{"Last-Modified": 0}
    )

    [binding] = kamailio_rpc.list_bindings(rpc_url=edge.url)

    assert binding.expires_at is None
    assert binding.received == ""
    assert binding.user_agent == ""
    assert binding.last_modified is None


def test_expired_deleted_and_malformed_contacts_are_left_out_without_hiding_the_others(edge):
    edge.add("1001@acme.pbx.test", "sip:1001@203.0.113.7", expires="expired")
    edge.add("1002@acme.pbx.test", "sip:1002@203.0.113.8", expires="deleted")
    edge.add("1003@acme.pbx.test", "", expires=60)
    edge.add("1004@acme.pbx.test", "sip:1004@203.0.113.9", expires=None)
    edge.add("1005@acme.pbx.test", "sip:1005@203.0.113.10", expires=60)

    bindings = kamailio_rpc.list_bindings(rpc_url=edge.url)

    assert [b.aor for b in bindings] == ["1005@acme.pbx.test"]


def test_an_answer_that_is_not_a_dump_is_an_unusable_edge(edge):
    edge.raw_answer = b'{"jsonrpc": "2.0", "result": {"Stats": 1}, "id": 1}'
    with pytest.raises(EdgeUnreachable, match="Domains"):
        kamailio_rpc.list_bindings(rpc_url=edge.url)


# --- remove_binding --------------------------------------------------------------------------


def test_removing_a_binding_asks_for_ul_rm_of_the_aor_in_the_location_table(edge):
    edge.add("1001@acme.pbx.test", "sip:1001@203.0.113.7:5060")
    edge.add("1002@acme.pbx.test", "sip:1002@203.0.113.8:5060")

    kamailio_rpc.remove_binding(rpc_url=edge.url, aor="1001@acme.pbx.test")

    assert edge.methods() == [("ul.rm", ["location", "1001@acme.pbx.test"])]
    assert list(edge.table) == ["1002@acme.pbx.test"]


def test_removing_a_binding_that_is_not_there_succeeds(edge):
    kamailio_rpc.remove_binding(rpc_url=edge.url, aor="1001@acme.pbx.test")  # 5.6: empty result

    edge.errors["ul.rm"] = (500, "AOR not found in location table")  # later versions
    kamailio_rpc.remove_binding(rpc_url=edge.url, aor="1001@acme.pbx.test")

    assert len(edge.calls) == 2


def test_a_missing_location_table_is_an_error_not_a_removed_binding(edge):
    edge.errors["ul.rm"] = (500, "Domain table not found")
    with pytest.raises(JsonRpcError, match="Domain table not found") as raised:
        kamailio_rpc.remove_binding(rpc_url=edge.url, aor="1001@acme.pbx.test")
    assert isinstance(raised.value, EdgeUnreachable)


# --- failures: every one is EdgeUnreachable, and none takes longer than the timeout ------------


def test_a_refused_connection_is_an_unreachable_edge():
    with pytest.raises(EdgeUnreachable, match="refused"):
        kamailio_rpc.remove_binding(rpc_url=closed_port_url(), aor="1001@acme.pbx.test")


def test_a_slow_edge_is_given_up_on_after_the_timeout(edge):
    edge.delay = 2.0
    started = time.monotonic()
    with pytest.raises(EdgeUnreachable):
        kamailio_rpc.list_bindings(rpc_url=edge.url, timeout=0.3)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda edge: setattr(edge, "http_status", 503), "HTTP 503"),
        (lambda edge: setattr(edge, "raw_answer", b"<html>proxy error</html>"), "not JSON"),
        (
            lambda edge: setattr(edge, "raw_answer", b'{"jsonrpc": "2.0", "id": 1}'),
            "without a result",
        ),
        (lambda edge: edge.errors.update({"ul.rm": (500, "Method Not Found")}), "Method Not Found"),
    ],
    ids=["http-error", "not-json", "no-result", "json-rpc-error"],
)
def test_an_unusable_answer_is_an_unreachable_edge(edge, setup, match):
    setup(edge)
    with pytest.raises(EdgeUnreachable, match=match):
        kamailio_rpc.remove_binding(rpc_url=edge.url, aor="1001@acme.pbx.test")


def test_only_http_urls_are_opened():
    with pytest.raises(EdgeUnreachable, match="not an HTTP URL"):
        kamailio_rpc.list_bindings(rpc_url="file:///etc/passwd")


# --- the real thing ----------------------------------------------------------------------------


def _free_port_pair() -> tuple[int, int]:
    """Two different loopback ports, each free for TCP and UDP alike, chosen by the kernel.

    Binding port 0 asks for any free port, so no fixed range can be busy. Every probe stays
    bound until both ports are chosen, so the two differ.
    """
    held: list[socket.socket] = []
    chosen: list[int] = []
    try:
        for _attempt in range(50):
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(tcp)
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(udp)
            try:
                udp.bind(("127.0.0.1", port))  # SIP listens on both
            except OSError:
                continue
            chosen.append(port)
            if len(chosen) == 2:
                return chosen[0], chosen[1]
    finally:
        for sock in held:
            sock.close()
    raise OSError("the kernel gave no loopback port free for both TCP and UDP in 50 tries")


# A port chosen above can be taken by another process before kamailio binds it; then kamailio
# exits at once, and it is started again on new ports.
_STARTS = 3


# What the portal's edge registry would send (kamailio.credentials.rpc_authorization).
RPC_AUTHORIZATION = "Bearer " + "0123456789abcdef" * 4


def _start_kamailio(binary: str, tmp_path: Path) -> tuple[subprocess.Popen, str] | None:
    """kamailio on fresh ports, once its RPC answers; None if it exited early (a port clash)."""
    sip_port, rpc_port = _free_port_pair()
    # The local defines file, as runsip writes it: only the RPC authorization's digest here.
    digest = hashlib.sha256(RPC_AUTHORIZATION.encode()).hexdigest()
    (tmp_path / "hotdesk-local.cfg").write_text(
        f'#!substdef "!HOTDESK_RPC_AUTH_SHA256!{digest}!"\n'
    )
    argv = [
        binary,
        "-DD",
        "-E",
        "-f",
        str(KAMAILIO_CFG),
        "-P",
        str(tmp_path / "kamailio.pid"),
        "-Y",
        str(tmp_path),
        "-m",
        "64",
        "-M",
        "8",
        "-A",
        f"HOTDESK_LISTEN_UDP=udp:127.0.0.1:{sip_port}",
        "-A",
        f"HOTDESK_LISTEN_TCP=tcp:127.0.0.1:{sip_port}",
        "-A",
        f"HOTDESK_RPC_HTTP_PORT={rpc_port}",
        "-A",
        f'HOTDESK_CTL_SOCKET="unix:{tmp_path}/ctl"',
        "-A",
        "HOTDESK_CHILDREN=1",
    ]
    with (tmp_path / "kamailio.log").open("w") as log:
        # Started in the temporary directory: the hotdesk-local.cfg there is the one read.
        # A session of its own: a core.kill that got through must not signal pytest too.
        process = subprocess.Popen(
            argv, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{rpc_port}/RPC"
    deadline = time.monotonic() + 15
    while True:
        try:
            kamailio_rpc.list_bindings(rpc_url=url, timeout=0.5, authorization=RPC_AUTHORIZATION)
            return process, url
        except EdgeUnreachable:
            if process.poll() is not None:
                return None
            if time.monotonic() > deadline:
                _stop(process)
                pytest.fail("kamailio did not answer:\n" + (tmp_path / "kamailio.log").read_text())
            time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def kamailio(tmp_path):
    """The shipped kamailio.cfg with JSON-RPC over HTTP on loopback; yields the RPC URL.

    Never skipped for want of a port: the ports are the kernel's choice (see `_free_port_pair`).
    Only a missing kamailio skips, and in CI that fails instead (`require_or_skip`).
    """
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    require_or_skip(Path(binary).exists(), "kamailio is not installed (apt-get install kamailio)")
    for _start in range(_STARTS):
        started = _start_kamailio(binary, tmp_path)
        if started is not None:
            break
    else:
        pytest.fail(
            f"kamailio exited at start {_STARTS} times:\n" + (tmp_path / "kamailio.log").read_text()
        )
    process, url = started
    try:
        yield url
    finally:
        _stop(process)


def _kamcmd(ctl: Path, *args: str) -> None:
    """The edge's operator adds bindings over the ctl socket (root/kamailio only, mode 0660)."""
    done = subprocess.run(
        ["kamcmd", "-s", f"unix:{ctl}", *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _post(url: str, body: str, *, authorization: str | None = RPC_AUTHORIZATION) -> int:
    """POST a raw JSON-RPC body; the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, data=body.encode(), headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


# ul.add: table, AoR, contact, expires, q, path, flags, cflags, methods
_UL_ADD_1001: tuple[str, ...]
_UL_ADD_1001 = ("ul.add", "location", "1001@acme.pbx.test", "sip:1001@x", "300", "1.0", ".", "0")
_UL_ADD_1001 += ("0", "0")


@pytest.mark.sip
def test_real_kamailio_lists_and_removes_a_binding(kamailio, tmp_path):
    auth = {"authorization": RPC_AUTHORIZATION}
    assert kamailio_rpc.list_bindings(rpc_url=kamailio, **auth) == []
    # ul.add: table, AoR, contact, expires, q, path, flags, cflags, methods, received
    _kamcmd(
        tmp_path / "ctl",
        "ul.add",
        "location",
        "1001@acme.pbx.test",
        "sip:1001@203.0.113.7:5060;transport=udp",
        "300",
        "1.0",
        ".",
        "0",
        "0",
        "0",
        "sip:198.51.100.20:40001;transport=udp",
    )
    _kamcmd(
        tmp_path / "ctl",
        "ul.add",
        "location",
        "1002@acme.pbx.test",
        "sip:1002@203.0.113.8",
        "600",
        "1.0",
        ".",
        "0",
        "0",
        "0",
    )

    bindings = {b.aor: b for b in kamailio_rpc.list_bindings(rpc_url=kamailio, **auth)}

    assert set(bindings) == {"1001@acme.pbx.test", "1002@acme.pbx.test"}
    first = bindings["1001@acme.pbx.test"]
    assert first.contact == "sip:1001@203.0.113.7:5060;transport=udp"
    assert first.received == "sip:198.51.100.20:40001;transport=udp"
    remaining = first.expires_at - datetime.now(UTC)
    assert timedelta(seconds=290) < remaining <= timedelta(seconds=300)

    kamailio_rpc.remove_binding(rpc_url=kamailio, aor="1001@acme.pbx.test", **auth)
    kamailio_rpc.remove_binding(rpc_url=kamailio, aor="1001@acme.pbx.test", **auth)  # gone: fine

    listed = kamailio_rpc.list_bindings(rpc_url=kamailio, **auth)
    assert [b.aor for b in listed] == ["1002@acme.pbx.test"]


@pytest.mark.sip
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", RPC_AUTHORIZATION.lower().replace("bearer", "Basic")],
    ids=["none", "wrong", "other_scheme"],
)
def test_real_kamailio_refuses_rpc_without_the_portals_authorization(
    kamailio, tmp_path, authorization
):
    _kamcmd(tmp_path / "ctl", *_UL_ADD_1001)
    dump = json.dumps({"jsonrpc": "2.0", "method": "ul.dump", "id": 1})
    remove = json.dumps(
        {"jsonrpc": "2.0", "method": "ul.rm", "id": 2, "params": ["location", "1001@acme.pbx.test"]}
    )

    assert _post(kamailio, dump, authorization=authorization) == 401
    assert _post(kamailio, remove, authorization=authorization) == 401
    with pytest.raises(EdgeUnreachable, match="401"):
        kamailio_rpc.list_bindings(rpc_url=kamailio, authorization=authorization or "")
    # Still there: nothing was removed.
    listed = kamailio_rpc.list_bindings(rpc_url=kamailio, authorization=RPC_AUTHORIZATION)
    assert [b.aor for b in listed] == ["1001@acme.pbx.test"]


@pytest.mark.sip
@pytest.mark.parametrize(
    "body",
    [
        # The cached HA1 of every logged-in user: each cracks to its PIN in milliseconds.
        '{"jsonrpc": "2.0", "method": "htable.dump", "id": 1, "params": ["hdauth"]}',
        '{"jsonrpc": "2.0", "method": "htable.get", "id": 1,'
        ' "params": ["hdauth", "1001@acme.pbx.test"]}',
        # A binding without a PIN.
        '{"jsonrpc": "2.0", "method": "ul.add", "id": 1, "params": ["location",'
        ' "1009@acme.pbx.test", "sip:1009@198.51.100.77", 300, 1.0, ".", 0, 0, 0]}',
        '{"jsonrpc": "2.0", "method": "core.kill", "id": 1}',
        '{"jsonrpc": "2.0", "method": "core.shmmem", "id": 1}',
        # Two readings of one body: a parser that keeps the first "method" and one that keeps
        # the last would disagree about which call this is.
        '{"jsonrpc": "2.0", "method": "core.kill", "method": "ul.dump", "id": 1}',
        '{"jsonrpc": "2.0", "method": "ul.dump", "id": 1, "method": "core.kill"}',
        '{"jsonrpc": "2.0", "method": "ul\\u002edump", "id": 1}',
        '[{"jsonrpc": "2.0", "method": "ul.dump", "id": 1},'
        ' {"jsonrpc": "2.0", "method": "core.kill", "id": 2}]',
        '{"jsonrpc": "2.0", "method": "ul.rm", "id": 1, "params": ["location", "1001@x\\"]}',
    ],
    ids=[
        "htable_dump",
        "htable_get",
        "ul_add",
        "core_kill",
        "core_shmmem",
        "duplicate_method_first",
        "duplicate_method_last",
        "escaped_method",
        "batch",
        "escaped_param",
    ],
)
def test_real_kamailio_serves_only_what_the_portal_needs_even_to_the_portal(
    kamailio, tmp_path, body
):
    assert _post(kamailio, body) == 403
    # Still running, and still serving the portal.
    assert kamailio_rpc.list_bindings(rpc_url=kamailio, authorization=RPC_AUTHORIZATION) == []
