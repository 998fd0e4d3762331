"""Removing a trusted range logs out the live sessions it alone trusted, on the SIP edge too.

The shipped Kamailio config authenticates refreshes of a live binding without asking the
portal, so a session from an address that no remaining range covers must lose its binding now
(`ul.rm`), not at a check that will not come. The SIP edge is the JSON-RPC stand-in.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from audit.models import Action, AuditEvent
from audit.trail import Actor
from registrations.models import HotDeskSession, SessionEnd
from tests.factories import (
    HotDeskSessionFactory,
    PbxUserFactory,
    TrustedRangeFactory,
)
from trustedips import services

from .helpers import AOR

pytestmark = pytest.mark.django_db


def remove(trusted, actor_label="alice"):
    with transaction.atomic():
        services.remove_range(trusted=trusted, actor=Actor.for_command(actor_label))


def test_removing_the_range_of_a_live_session_logs_it_out_and_removes_the_binding(
    trusted_range, live, edge, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        remove(trusted_range)

    live.refresh_from_db()
    assert live.ended_at is not None
    assert live.end_reason == SessionEnd.FORCED
    event = AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT)
    assert "trusted range 203.0.113.0/24 removed" in event.object_repr
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert AOR not in edge.table


def test_removing_it_from_the_trusted_ips_page_does_the_same(
    portal_client, install, trusted_range, live, edge, django_capture_on_commit_callbacks
):
    url = reverse("trustedips:delete", kwargs={"install_pk": install.pk, "pk": trusted_range.pk})

    with django_capture_on_commit_callbacks(execute=True):
        response = portal_client.post(url)

    assert response.status_code == 302
    live.refresh_from_db()
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "alice")
    assert edge.methods() == [("ul.rm", ["location", AOR])]


def test_a_session_still_covered_by_another_range_stays(
    install, trusted_range, live, edge, django_capture_on_commit_callbacks
):
    TrustedRangeFactory(install=install, network="203.0.113.0/28", description="Desk row")
    with django_capture_on_commit_callbacks(execute=True):
        remove(trusted_range)

    live.refresh_from_db()
    assert live.ended_at is None
    assert edge.methods() == []
    assert AOR in edge.table


def test_only_sessions_outside_the_remaining_ranges_end(
    install, trusted_range, live, edge, django_capture_on_commit_callbacks
):
    kept_range = TrustedRangeFactory(install=install, network="198.51.100.0/24")
    other_user = PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="2468")
    kept = HotDeskSessionFactory(pbx_user=other_user, source_ip="198.51.100.9")

    with django_capture_on_commit_callbacks(execute=True):
        remove(trusted_range)

    live.refresh_from_db()
    kept.refresh_from_db()
    assert live.ended_at is not None
    assert kept.ended_at is None
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert kept_range.pk


def test_sessions_of_another_install_are_left_alone(
    trusted_range, live, other_install, edge, django_capture_on_commit_callbacks
):
    theirs_user = PbxUserFactory(
        install=other_install, extension="1001", hot_desk_access=True, pin="2468"
    )
    theirs = HotDeskSessionFactory(pbx_user=theirs_user, source_ip="192.0.2.50")

    with django_capture_on_commit_callbacks(execute=True):
        remove(trusted_range)

    theirs.refresh_from_db()
    assert theirs.ended_at is None
    assert edge.methods() == [("ul.rm", ["location", AOR])]


def test_a_removal_that_is_rolled_back_logs_nobody_out(
    trusted_range, live, edge, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        services.remove_range(trusted=trusted_range, actor=Actor.for_command("alice"))
        raise Abort

    assert HotDeskSession.objects.get(pk=live.pk).ended_at is None
    assert edge.methods() == []
