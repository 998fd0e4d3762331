"""Real softphones through the shipped edge: baresip logs in as a hot desk and makes calls.

The Python handsets of test_calls.py choose every field of every message; these are an
unmodified SIP phone (baresip, tests/e2e/softphone.py) doing what phones do by themselves:
the login challenge, the INVITE's proxy challenge, ACKs, BYEs along the Record-Route, and RTP
straight between the phones. What a test knows comes from the phones' own logs, the edge's
location table and the sessions the portal records.
"""

from __future__ import annotations

import pytest

from .conftest import Edge, StartPhone
from .records import PortalRecords, eventually
from .seed import WRONG_PIN
from .softphone import Softphone

# The baresip check first: no edge is started only to skip.
pytestmark = [pytest.mark.sip, pytest.mark.usefixtures("baresip_installed")]


def logs(*phones: Softphone) -> str:
    """The phones' last log lines, for a failure message."""
    return "\n" + "\n".join(phone.tail() for phone in phones)


def logged_in(edge: Edge, records: PortalRecords, phone: Softphone) -> None:
    """Wait for the phone's login: its own 200, the edge's binding, the portal's session."""
    assert phone.wait_for(f"{phone.extension}@{phone.domain}: {{0/UDP/v4}} 200 OK"), (
        f"{phone.aor} was not logged in" + logs(phone)
    )
    assert f"{phone.extension}@{phone.domain}" in edge.bindings(), logs(phone)
    sessions = eventually(lambda: records.open_sessions(phone.extension, phone.domain), until=bool)
    assert len(sessions) == 1, f"portal sessions: {sessions}" + logs(phone)


def call_and_hang_up(caller: Softphone, callee: Softphone, *, hangs_up: Softphone) -> None:
    """`caller` dials `callee`, which answers by itself; both must see the call up and the
    other's audio arrive. Then `hangs_up` hangs up, the other phone must receive the BYE
    through the edge, and neither may have a call left."""
    since = {caller: caller.mark(), callee: callee.mark()}
    assert caller.dial(callee)["ok"], logs(caller, callee)
    for phone, other in ((caller, callee), (callee, caller)):
        for event in (f"Call established: {other.aor}", "incoming rtp for 'audio' established"):
            assert phone.wait_for(event, since=since[phone]), (
                f"{phone.aor} never logged {event!r}" + logs(caller, callee)
            )

    hung_up_on = callee if hangs_up is caller else caller
    assert hangs_up.hang_up()["ok"], logs(caller, callee)
    assert hangs_up.wait_for("call: terminate call '", since=since[hangs_up]), logs(caller, callee)
    # How baresip words a BYE from the other side (ECONNRESET from its SIP session).
    closed = f"{hangs_up.aor}: session closed: Connection reset by peer"
    assert hung_up_on.wait_for(closed, since=since[hung_up_on]), (
        f"the BYE of {hangs_up.aor} never reached {hung_up_on.aor}" + logs(caller, callee)
    )
    # baresip logs "Call with ... terminated (duration: N secs)" only for calls of a second
    # or more: the phones' own list of calls says whether the call is over.
    for phone in (caller, callee):
        calls = eventually(phone.active_calls, until=lambda count: count == 0)
        assert calls == 0, f"{phone.aor} still has {calls} call(s)" + logs(caller, callee)
        # The WAV source ends a call by itself when it runs out: not what is tested here.
        assert "audio error" not in phone.log(since[phone]), logs(caller, callee)


def test_two_softphones_log_in_and_call_each_other_and_each_side_hangs_up(
    edge: Edge, records: PortalRecords, softphone: StartPhone
) -> None:
    ann, bob = softphone("softphone_0"), softphone("softphone_1")
    logged_in(edge, records, ann)
    logged_in(edge, records, bob)

    # Ann calls Bob and hangs up: her BYE goes out along the route her INVITE made.
    call_and_hang_up(ann, bob, hangs_up=ann)
    # Bob calls back and Ann, now the callee, hangs up: her BYE takes the route backwards.
    call_and_hang_up(bob, ann, hangs_up=ann)
    # And Bob hangs up a call of his own: each phone, each side.
    call_and_hang_up(bob, ann, hangs_up=bob)

    # After two calls both are still logged in, once each.
    for phone in (ann, bob):
        assert len(records.open_sessions(phone.extension, phone.domain)) == 1, logs(ann, bob)


def test_a_softphone_with_a_wrong_pin_is_refused_and_not_logged_in(
    edge: Edge, records: PortalRecords, softphone: StartPhone
) -> None:
    phone = softphone("softphone_4", pin=WRONG_PIN)

    assert phone.wait_for(f"reg: {phone.aor}: 403 Forbidden"), (
        "baresip reported no refused login" + logs(phone)
    )
    assert f"{phone.extension}@{phone.domain}" not in edge.bindings(), logs(phone)
    assert records.open_sessions(phone.extension, phone.domain) == [], logs(phone)
    failures = eventually(
        lambda: records.failures(phone.extension, phone.domain), until=lambda count: count >= 1
    )
    assert failures >= 1, "the portal counted no wrong PIN" + logs(phone)


def test_a_softphone_that_quits_logs_out_of_its_hot_desk(
    edge: Edge, records: PortalRecords, softphone: StartPhone
) -> None:
    phone = softphone("softphone_2")
    logged_in(edge, records, phone)

    # On SIGTERM baresip unregisters (Expires: 0) before it exits.
    phone.stop()

    assert phone.process.returncode == 0, logs(phone)
    aor = f"{phone.extension}@{phone.domain}"
    assert eventually(edge.bindings, until=lambda found: aor not in found).get(aor) is None, (
        "the edge kept the binding" + logs(phone)
    )
    sessions = eventually(
        lambda: records.open_sessions(phone.extension, phone.domain), until=lambda open: not open
    )
    assert sessions == [], f"the portal kept the session open: {sessions}" + logs(phone)
