"""Roles: an account member is an administrator or a viewer, who sees everything and changes
nothing. Tested like tenancy (tests/installs/test_scoping.py): every portal URL of an install,
every method that could change something, for a viewer of that very account."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Membership, Role
from tests.factories import PortalUserFactory
from tests.installs.test_scoping import (
    INSTALL_URLS,
    OTHER_TABS,
    POST_ONLY,
    READ_ONLY,
    URLS,
    database_state,
    filled_kwargs,
    furnish,
    url,
)

pytestmark = pytest.mark.django_db

# The POSTs that only read (Explain asks, it changes nothing): a viewer may send them.
READS_BY_POST = {"registrations:explain"}


@pytest.fixture
def mine(install):
    return furnish(install)


@pytest.fixture
def viewer_client(client, account):
    viewer = PortalUserFactory(username="vera")
    Membership.objects.create(account=account, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    return client


@pytest.mark.parametrize("name", sorted(set(URLS) - READS_BY_POST))
def test_a_viewer_changes_nothing_anywhere(viewer_client, mine, name):
    before = database_state()

    response = viewer_client.post(url(name, mine), URLS[name][1])

    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("name", OTHER_TABS)
def test_a_viewer_changes_nothing_on_the_other_tabs_either(viewer_client, mine, name):
    before = database_state()
    address = reverse(name, kwargs=filled_kwargs(INSTALL_URLS[name], mine.install.pk))

    response = viewer_client.post(address, {})

    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("name", sorted(READ_ONLY - POST_ONLY))
def test_a_viewer_sees_the_dashboards_and_logs(viewer_client, mine, name):
    response = viewer_client.get(url(name, mine))

    assert response.status_code == 200
    assert response.context["can_change"] is False


def test_a_viewer_may_ask_explain(viewer_client, mine):
    response = viewer_client.post(
        url("registrations:explain", mine), URLS["registrations:explain"][1]
    )

    assert response.status_code == 200
    assert response.context["decision"] is not None


def test_a_viewer_of_one_account_is_a_stranger_to_another(viewer_client, mine, other_install):
    theirs = furnish(other_install)

    assert viewer_client.get(url("users:list", theirs)).status_code == 404


def test_an_administrator_is_told_they_may_change(portal_client, mine):
    assert portal_client.get(url("users:list", mine)).context["can_change"] is True


def add(account, role: str, monkeypatch) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO("violet-harbour-tandem-87\n"))
    out = io.StringIO()
    call_command(
        "add_portal_admin",
        account=account.name,
        username="vera",
        password_stdin=True,
        role=role,
        stdout=out,
    )
    return out.getvalue()


def test_the_command_adds_a_viewer_and_can_make_them_an_administrator(account, monkeypatch):
    assert "vera views" in add(account, "viewer", monkeypatch)
    assert Membership.objects.get(user__username="vera").role == Role.VIEWER

    assert "vera administers" in add(account, "administrator", monkeypatch)
    assert Membership.objects.get(user__username="vera").role == Role.ADMINISTRATOR


def test_the_command_refuses_an_unknown_role(account, manage_py):
    done = manage_py.run(
        "add_portal_admin",
        "--account",
        "Nobody Ltd",
        "--username",
        "vera",
        "--password-stdin",
        "--role",
        "owner",
        stdin="violet-harbour-tandem-87\n",
    )

    assert done.returncode != 0
    assert "invalid choice: 'owner'" in done.stderr


def test_a_viewer_is_told_and_offered_no_log_out_or_save(viewer_client, portal_admin, mine, edge):
    # The session is live on the edge, so the dashboard keeps it.
    edge.add("1001@acme.pbx.test", mine.session.contact, expires=500)
    dashboard = viewer_client.get(url("registrations:dashboard", mine)).content.decode()
    settings_page = viewer_client.get(url("installs:settings", mine)).content.decode()
    viewer_client.force_login(portal_admin)
    admins_dashboard = viewer_client.get(url("registrations:dashboard", mine)).content.decode()

    assert 'id="viewer-note"' in dashboard and 'id="viewer-note"' not in admins_dashboard
    assert f'data-session="{mine.session.pk}"' in dashboard
    session_log_out = 'name="end_calls"'  # the dashboard's Log out buttons for a session
    assert session_log_out not in dashboard and session_log_out in admins_dashboard
    assert ">Save</button>" not in settings_page


def test_a_viewer_gets_no_bulk_actions_or_add_button_on_the_users_list(viewer_client, mine):
    page = viewer_client.get(url("users:list", mine)).content.decode()

    assert 'id="bulk-form"' not in page and 'class="form-check-input me-2 select-user"' not in page
    assert ">Add user</a>" not in page
    assert "1001" in page
