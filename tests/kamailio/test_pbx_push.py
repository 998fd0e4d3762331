"""A changed PBX address reaches every SIP edge at once: each is asked to fetch the PBX table.

The edge is the JSON-RPC stand-in (tests/registrations/kamailio_standin.py); the real edge's
side (route PBX_TABLE fetching within a second of the request) is shown by
tests/e2e/test_calls.py against an edge whose periodic fetch is an hour apart.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from installs.models import Install
from tests.factories import InstallFactory, SipCredentialFactory
from tests.registrations.kamailio_standin import StandInServer, closed_port_url

pytestmark = pytest.mark.django_db

FETCH_NOW = ("htable.seti", ["hdportal", "tables_due", 0])


@pytest.fixture
def edges(db):
    with StandInServer() as one, StandInServer() as two:
        SipCredentialFactory(name="edge-1", rpc_url=one.url)
        SipCredentialFactory(name="edge-2", rpc_url=two.url)
        yield one, two


def test_a_new_pbx_address_from_the_command_asks_every_edge_to_fetch_the_table_once_committed(
    install, edges, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        call_command("set_install", domain=install.sip_domain, pbx_address="sip:10.0.0.5")
    assert [edge.methods() for edge in edges] == [[], []], "asked before the commit"

    for callback in pending:
        callback()

    assert [edge.methods() for edge in edges] == [[FETCH_NOW], [FETCH_NOW]]


def test_a_pbx_address_saved_on_the_settings_tab_reaches_the_edges(
    portal_client, install, edges, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.post(
            reverse("installs:settings", kwargs={"install_pk": install.pk}),
            {"name": install.name, "registration_expiry": "500", "pbx_address": "sip:pbx.test"},
        )

    assert Install.objects.get(pk=install.pk).pbx_address == "sip:pbx.test"
    assert [edge.methods() for edge in edges] == [[FETCH_NOW], [FETCH_NOW]]


def test_removing_the_pbx_address_reaches_the_edges_too(
    install, edges, django_capture_on_commit_callbacks
):
    Install.objects.filter(pk=install.pk).update(pbx_address="sip:10.0.0.5")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("set_install", domain=install.sip_domain, pbx_address="")

    assert [edge.methods() for edge in edges] == [[FETCH_NOW], [FETCH_NOW]]


def test_deleting_an_install_with_a_pbx_reaches_the_edges(
    edges, django_capture_on_commit_callbacks
):
    doomed = InstallFactory(pbx_address="sip:10.0.0.9")
    with django_capture_on_commit_callbacks(execute=True):
        doomed.delete()

    assert [edge.methods() for edge in edges] == [[FETCH_NOW], [FETCH_NOW]]


def test_other_changes_to_an_install_cost_the_edges_nothing(
    install, edges, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("set_install", domain=install.sip_domain, name="Renamed", expiry=600)
        InstallFactory()  # a new install without a PBX

    assert [edge.methods() for edge in edges] == [[], []]


def test_an_edge_that_cannot_be_asked_does_not_stop_the_change_or_the_others(
    install, edges, django_capture_on_commit_callbacks
):
    SipCredentialFactory(name="edge-3", rpc_url=closed_port_url())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("set_install", domain=install.sip_domain, pbx_address="sip:10.0.0.5")

    assert Install.objects.get(pk=install.pk).pbx_address == "sip:10.0.0.5"
    assert [edge.methods() for edge in edges] == [[FETCH_NOW], [FETCH_NOW]]
