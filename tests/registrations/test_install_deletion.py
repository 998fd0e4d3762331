"""Deleting an install removes its users' bindings on the SIP edges.

No page or command deletes an install (its account protects it); this covers doing it from
`manage.py shell` or a data migration.
Its sessions are deleted with it, but the SIP edges would keep authenticating those handsets'
refreshes from their cache; the edge here is the JSON-RPC stand-in.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from registrations.models import HotDeskSession, SessionEnd
from tests.factories import HotDeskSessionFactory, InstallFactory, PbxUserFactory

from .helpers import AOR

pytestmark = pytest.mark.django_db


def test_deleting_the_install_removes_the_binding_of_each_live_session(
    install, live, edge, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        install.delete()

    assert not HotDeskSession.objects.exists()
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert AOR not in edge.table


def test_a_session_the_portal_saw_expire_lately_counts_one_that_ended_otherwise_does_not(
    install, edge, django_capture_on_commit_callbacks
):
    now = timezone.now()
    for extension, reason, ended in [
        ("1001", SessionEnd.EXPIRED, now - timedelta(minutes=10)),
        ("1002", SessionEnd.EXPIRED, now - timedelta(days=2)),
        ("1003", SessionEnd.LOGGED_OUT, now - timedelta(minutes=10)),
        ("1004", SessionEnd.FORCED, now - timedelta(minutes=10)),
    ]:
        user = PbxUserFactory(install=install, extension=extension, hot_desk_access=True)
        HotDeskSessionFactory(pbx_user=user, ended_at=ended, end_reason=reason)
    removed = PbxUserFactory(install=install, extension="1005", hot_desk_access=True)
    HotDeskSessionFactory(
        pbx_user=removed, ended_at=now - timedelta(minutes=10), end_reason=SessionEnd.EXPIRED
    )
    removed.delete()  # its binding went when it was removed

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        install.delete()

    assert edge.methods() == [("ul.rm", ["location", "1001@acme.pbx.test"])]


def test_another_installs_sessions_are_left_alone(
    install, live, edge, django_capture_on_commit_callbacks
):
    elsewhere = InstallFactory(sip_domain="other.pbx.test")
    user = PbxUserFactory(install=elsewhere, extension="1001", hot_desk_access=True)
    HotDeskSessionFactory(pbx_user=user)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        install.delete()

    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert HotDeskSession.objects.get().install == elsewhere


def test_a_deletion_that_is_rolled_back_removes_nothing(
    install, live, edge, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        install.delete()
        raise RuntimeError("failed after the delete")

    assert edge.methods() == []
    assert HotDeskSession.objects.filter(pk=live.pk).exists()
