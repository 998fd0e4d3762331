"""The dashboard's "Log out and end the call": the operator's answered calls end with the session.

A plain Log out stops new calls and lets a call in progress finish; the second button also
asks every SIP edge (the JSON-RPC stand-in here, real Kamailio in
tests/e2e/test_calls.py) to end the operator's answered calls, as caller or as callee.
"""

from __future__ import annotations

import pytest

from audit.models import Action, AuditEvent
from registrations.models import SessionEnd
from tests.factories import (
    HotDeskSessionFactory,
    InstallFactory,
    PbxUserFactory,
    SipCredentialFactory,
)

from .helpers import AOR
from .kamailio_standin import closed_port_url
from .test_dashboard import dashboard_url, logout_url, messages_of, row

pytestmark = pytest.mark.django_db

OTHER_OPERATOR = "1002@acme.pbx.test"


def end_the_call(portal_client, install, session):
    return portal_client.post(logout_url(install, session), {"end_calls": "1"}, follow=True)


def test_the_dashboard_offers_both_kinds_of_log_out(portal_client, install, live):
    page = portal_client.get(dashboard_url(install)).content.decode()

    buttons = row(page, "live-sessions", live)
    assert ">Log out</button>" in buttons
    assert 'name="end_calls" value="1"' in buttons
    assert ">Log out and end the call</button>" in buttons


def test_log_out_and_end_the_call_ends_the_operators_answered_calls_and_the_session(
    portal_client, install, live, edge
):
    as_caller = edge.add_call(AOR, OTHER_OPERATOR)
    as_callee = edge.add_call("2000@acme.pbx.test", AOR)
    ringing = edge.add_call(AOR, OTHER_OPERATOR, answered=False)
    someone_elses = edge.add_call(OTHER_OPERATOR, "2000@acme.pbx.test")

    response = end_the_call(portal_client, install, live)

    assert messages_of(response) == [
        "Logged out 1001 Ann Smith: the handset's registration was removed at once. Ended 2 calls."
    ]
    assert edge.dialogs == [ringing, someone_elses]
    ended = [params for method, params in edge.methods() if method == "dlg.end_dlg"]
    assert ended == [
        [as_caller["h_entry"], as_caller["h_id"]],
        [as_callee["h_entry"], as_callee["h_id"]],
    ]
    live.refresh_from_db()
    assert live.end_reason == SessionEnd.FORCED
    assert AOR not in edge.table
    event = AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT)
    assert event.object_repr.endswith("(Log out and end the call)")


def test_a_plain_log_out_lets_the_call_finish(portal_client, install, live, edge):
    call = edge.add_call(AOR, OTHER_OPERATOR)

    response = portal_client.post(logout_url(install, live), follow=True)

    assert messages_of(response) == [
        "Logged out 1001 Ann Smith: the handset's registration was removed at once."
    ]
    assert edge.dialogs == [call]
    assert [method for method, _ in edge.methods() if method.startswith("dlg.")] == []


def test_without_a_call_in_progress_the_page_says_so(portal_client, install, live, edge):
    response = end_the_call(portal_client, install, live)

    [message] = messages_of(response)
    assert message.endswith("No call was in progress.")
    assert ("dlg.profile_list", ["hotdesk", AOR]) in edge.methods()


def test_calls_on_an_edge_that_cannot_be_reached_are_named(portal_client, install, live, edge):
    SipCredentialFactory(name="edge-2", rpc_url=closed_port_url())
    edge.add_call(AOR, OTHER_OPERATOR)

    response = end_the_call(portal_client, install, live)

    [message] = messages_of(response)
    assert message.endswith(
        "Ended 1 call. But the SIP edge edge-2 could not be reached: calls there go on."
    )
    assert edge.dialogs == []


def test_a_session_already_over_ends_no_call(portal_client, install, live, edge):
    call = edge.add_call(AOR, OTHER_OPERATOR)
    portal_client.post(logout_url(install, live), follow=True)  # shows its own message

    response = end_the_call(portal_client, install, live)

    assert messages_of(response) == ["1001 Ann Smith was no longer logged in on that handset."]
    assert edge.dialogs == [call]


def test_another_accounts_session_and_calls_are_out_of_reach(portal_client, install, live, edge):
    theirs = HotDeskSessionFactory(pbx_user=PbxUserFactory(install=InstallFactory()))
    call = edge.add_call(AOR, OTHER_OPERATOR)

    assert end_the_call(portal_client, theirs.install, theirs).status_code == 404
    assert portal_client.post(logout_url(install, theirs), {"end_calls": "1"}).status_code == 404
    assert edge.dialogs == [call]
