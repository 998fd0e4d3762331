"""The Real Time Dashboard shows each operator's call in progress, from the call records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import Result
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from tests.registrations.test_dashboard import live_url, row, text

from .test_call_log import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def desks(install, edge):
    """1001 and 1002 hot-desked now, each with a binding on the edge stand-in."""
    sessions = {}
    for extension in ("1001", "1002", "1003"):
        user = PbxUserFactory(install=install, extension=extension, hot_desk_access=True)
        contact = f"sip:{extension}@203.0.113.7:5060"
        edge.add(f"{extension}@acme.pbx.test", contact, expires=500)
        sessions[extension] = HotDeskSessionFactory(pbx_user=user, contact=contact)
    return sessions


def activity(page: str, session) -> str:
    found = row(page, "live-sessions", session)
    cell = found.split('data-role="activity">', 1)[1].split("</td>", 1)[0]
    return text(cell)


def test_both_sides_of_an_internal_call_and_an_outside_call_show_on_the_dashboard(
    portal_client, install, desks
):
    now = timezone.now()
    talking = record(install, ext="1001", other="1002", result=Result.IN_PROGRESS, started=now)
    talking.answered_at = now + timedelta(seconds=1)
    talking.save()
    record(
        install,
        ext="1003",
        other="02079460000",
        direction="out",
        result=Result.IN_PROGRESS,
        started=now,
    )

    page = portal_client.get(live_url(install)).content.decode()

    assert activity(page, desks["1001"]).startswith("On a call with 1002 (internal) since ")
    assert activity(page, desks["1002"]).startswith("On a call with 1001 (internal) since ")
    assert activity(page, desks["1003"]).startswith("Calling 02079460000 (out) since ")


def test_an_ended_call_and_another_installs_call_do_not_show(
    portal_client, install, other_install, desks
):
    record(install, ext="1001", other="1002", started=timezone.now() - timedelta(minutes=5))
    record(
        other_install, ext="1002", other="1003", result=Result.IN_PROGRESS, started=timezone.now()
    )

    page = portal_client.get(live_url(install)).content.decode()

    assert [activity(page, session) for session in desks.values()] == ["", "", ""]


def test_an_incoming_call_from_the_pbx_shows_who_calls(portal_client, install, desks):
    record(
        install,
        ext="1002",
        other="02079460000",
        direction="in",
        result=Result.IN_PROGRESS,
        started=timezone.now(),
    )

    page = portal_client.get(live_url(install)).content.decode()

    assert activity(page, desks["1002"]).startswith("02079460000 is calling (in) since ")
