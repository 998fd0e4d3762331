"""Real Time Dashboard: who is hot-desking now, how sessions ended, and logging a handset out.

The SIP edge is an in-test stand-in for Kamailio's JSON-RPC (see `kamailio_standin`): the tests
assert on what it received and what its location table holds afterwards.
"""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.trail import Actor
from registrations import sessions
from registrations.models import EventKind, HotDeskSession, RegistrationLogEntry, SessionEnd
from tests.factories import HotDeskSessionFactory, PbxUserFactory, SipCredentialFactory
from users import services

from .helpers import AOR, DESK_PHONE
from .kamailio_standin import StandInServer, closed_port_url

pytestmark = pytest.mark.django_db


def dashboard_url(install) -> str:
    return reverse("registrations:dashboard", kwargs={"install_pk": install.pk})


def live_url(install) -> str:
    return reverse("registrations:dashboard_live", kwargs={"install_pk": install.pk})


def logout_url(install, session) -> str:
    return reverse(
        "registrations:force_logout", kwargs={"install_pk": install.pk, "pk": session.pk}
    )


def table(page: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"no table {table_id}"
    return found.group(1)


def row(page: str, table_id: str, session) -> str:
    found = re.search(
        rf'<tr[^>]*data-session="{session.pk}">(.*?)</tr>', table(page, table_id), re.S
    )
    assert found, f"session {session.pk} is not in {table_id}"
    return found.group(1)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who is hot-desking now ---------------------------------------------------------------------


def test_dashboard_lists_the_installs_live_sessions_with_where_and_since_when(
    portal_client, install, live
):
    page = portal_client.get(dashboard_url(install)).content.decode()

    cells = text(row(page, "live-sessions", live))
    assert "1001" in cells and "Ann Smith" in cells
    assert DESK_PHONE in cells
    assert "203.0.113.7:5060 UDP" in cells
    assert "Yealink SIP-T46S 66.86.0.15" in cells
    assert timezone.localtime(live.logged_in_at).strftime("%Y-%m-%d %H:%M:%S") in cells
    assert "Log out" in cells
    assert f'class="nav-link active" href="{dashboard_url(install)}"' in page


def test_dashboard_shows_neither_live_sessions_nor_history_of_another_install(
    portal_client, install, live, other_install
):
    stranger = PbxUserFactory(install=other_install, extension="1001", name="Zed Other")
    HotDeskSessionFactory(pbx_user=stranger, contact="sip:1001@198.51.100.9:5060")
    HotDeskSessionFactory(
        pbx_user=PbxUserFactory(install=other_install, extension="1002", name="Yan Other"),
        contact="sip:1002@198.51.100.10:5060",
        ended_at=timezone.now(),
        end_reason=SessionEnd.LOGGED_OUT,
    )

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert "Ann Smith" in page
    assert "Other" not in page
    assert "198.51.100." not in page


def test_history_says_how_each_session_ended_and_who_forced_one(
    portal_client, install, hot_desk_user
):
    now = timezone.now()
    ended = {}
    for minutes, reason, by in [
        (40, SessionEnd.LOGGED_OUT, ""),
        (30, SessionEnd.EXPIRED, ""),
        (20, SessionEnd.MOVED, ""),
        (10, SessionEnd.FORCED, "alice"),
    ]:
        ended[reason] = HotDeskSessionFactory(
            pbx_user=hot_desk_user,
            logged_in_at=now - timedelta(minutes=minutes + 5),
            ended_at=now - timedelta(minutes=minutes),
            end_reason=reason,
            ended_by=by,
        )

    page = portal_client.get(dashboard_url(install)).content.decode()

    history = table(page, "session-history")
    assert text(row(page, "session-history", ended["logged_out"])).endswith("Logged out")
    assert text(row(page, "session-history", ended["expired"])).endswith("Expired")
    assert text(row(page, "session-history", ended["moved"])).endswith("Moved to another handset")
    assert text(row(page, "session-history", ended["forced"])).endswith("Forced logout by alice")
    # Most recently ended first.
    order = [int(pk) for pk in re.findall(r'data-session="(\d+)"', history)]
    assert order == [ended[r].pk for r in ["forced", "moved", "expired", "logged_out"]]
    assert "Nobody is hot-desking now." in page


def test_history_is_paginated(portal_client, install, hot_desk_user):
    now = timezone.now()
    for minutes in range(55):
        HotDeskSessionFactory(
            pbx_user=hot_desk_user,
            ended_at=now - timedelta(minutes=minutes),
            end_reason=SessionEnd.LOGGED_OUT,
        )

    first = portal_client.get(dashboard_url(install)).content.decode()
    second = portal_client.get(dashboard_url(install) + "?page=2").content.decode()

    assert len(re.findall(r"data-session=", table(first, "session-history"))) == 50
    assert len(re.findall(r"data-session=", table(second, "session-history"))) == 5
    assert "Page 1 of 2" in first


def test_the_live_part_is_served_alone_and_never_cached(portal_client, install, live):
    response = portal_client.get(live_url(install))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert "<html" not in page and "nav-tabs" not in page
    assert "Ann Smith" in text(row(page, "live-sessions", live))
    assert 'name="csrfmiddlewaretoken"' in page  # its Log out forms still work


def test_dashboard_page_loads_its_refresh_script_from_static_files(portal_client, install):
    page = portal_client.get(dashboard_url(install)).content.decode()

    assert re.search(r'<script src="/static/hotdesk/dashboard\.js"', page)
    assert f'data-refresh-url="{live_url(install)}"' in page


# --- Expiry: Kamailio reports none, and a refresh of a known binding is not reported either -----


def test_a_session_past_its_expiry_without_a_refresh_is_shown_as_expired(
    portal_client, install, hot_desk_user
):
    gone = HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        logged_in_at=timezone.now() - timedelta(minutes=20),
        expires_at=timezone.now() - timedelta(minutes=5),
    )

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert f'data-session="{gone.pk}"' not in table(page, "live-sessions")
    assert text(row(page, "session-history", gone)).endswith("Expired")
    gone.refresh_from_db()
    assert (gone.end_reason, gone.ended_at) == (SessionEnd.EXPIRED, gone.expires_at)


def test_a_binding_in_the_location_table_keeps_a_refreshed_session_live(
    portal_client, install, hot_desk_user, edge
):
    refreshed = timezone.now().replace(microsecond=0) - timedelta(seconds=30)
    session = HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        contact=DESK_PHONE,
        logged_in_at=timezone.now() - timedelta(minutes=20),
        expires_at=timezone.now() - timedelta(minutes=5),
    )
    edge.add(AOR, DESK_PHONE, expires=470, **{"Last-Modified": int(refreshed.timestamp())})

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert "Ann Smith" in text(row(page, "live-sessions", session))
    session.refresh_from_db()
    assert session.ended_at is None
    assert session.refreshed_at == refreshed
    assert timedelta(seconds=465) < session.expires_at - timezone.now() <= timedelta(seconds=470)


def test_a_binding_of_another_handset_does_not_keep_a_session_live(
    portal_client, install, hot_desk_user, edge
):
    session = HotDeskSessionFactory(
        pbx_user=hot_desk_user, contact=DESK_PHONE, expires_at=timezone.now() - timedelta(seconds=1)
    )
    edge.add(AOR, "sip:1001@203.0.113.99:5060", expires=470)

    portal_client.get(dashboard_url(install))

    session.refresh_from_db()
    assert session.end_reason == SessionEnd.EXPIRED


def test_without_a_readable_location_table_a_refresh_in_the_registration_log_counts(
    portal_client, install, hot_desk_user
):
    session = HotDeskSessionFactory(
        pbx_user=hot_desk_user,
        logged_in_at=timezone.now() - timedelta(minutes=20),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    checked = timezone.now() - timedelta(minutes=3)
    RegistrationLogEntry.objects.create(
        created_at=checked,
        install=install,
        kind=EventKind.CHECK,
        allowed=True,
        reason="ok",
        domain="acme.pbx.test",
        extension="1001",
        source_ip="203.0.113.7",
        expires=500,
        call_id=session.call_id,
    )

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert "Ann Smith" in text(row(page, "live-sessions", session))
    session.refresh_from_db()
    assert (session.refreshed_at, session.expires_at) == (checked, checked + timedelta(seconds=500))


def test_an_unreadable_location_table_is_said_on_the_page(portal_client, install, live):
    SipCredentialFactory(name="edge-2", rpc_url=closed_port_url())

    page = text(portal_client.get(dashboard_url(install)).content.decode())

    assert "The location table of the SIP edge edge-2 could not be read" in page


def test_a_registration_on_the_edge_without_a_portal_session_is_shown_apart(
    portal_client, install, live, edge
):
    # 1002's login report never reached the portal; 3001 belongs to another install's domain.
    edge.add(
        "1002@acme.pbx.test", "sip:1002@203.0.113.8:5060", **{"Received": "sip:198.51.100.20:40001"}
    )
    edge.add("3001@other.pbx.test", "sip:3001@198.51.100.9:5060")

    page = portal_client.get(dashboard_url(install)).content.decode()

    found = re.search(r'id="untracked-bindings">(.*?)</div>', page, re.S)
    assert found, "no untracked bindings shown"
    untracked = text(found.group(1))
    assert "1002@acme.pbx.test sip:1002@203.0.113.8:5060 sip:198.51.100.20:40001" in untracked
    assert "1001@acme.pbx.test" not in untracked  # Ann's binding is her live session
    assert "other.pbx.test" not in page


def test_no_untracked_section_when_every_binding_has_its_session(portal_client, install, live):
    assert (
        'id="untracked-bindings"' not in portal_client.get(dashboard_url(install)).content.decode()
    )


# --- Log out ------------------------------------------------------------------------------------


def test_log_out_closes_the_session_audits_it_and_removes_the_binding_on_the_edge(
    portal_client, install, live, portal_admin, edge
):
    response = portal_client.post(logout_url(install, live), follow=True)

    assert response.redirect_chain == [(dashboard_url(install), 302)]
    assert messages_of(response) == [
        "Logged out 1001 Ann Smith: the handset's registration was removed at once."
    ]
    page = response.content.decode()
    assert f'data-session="{live.pk}"' not in table(page, "live-sessions")
    assert text(row(page, "session-history", live)).endswith("Forced logout by alice")
    live.refresh_from_db()
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "alice")
    assert live.ended_at is not None
    event = AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT)
    assert (event.install, event.actor, event.actor_label) == (install, portal_admin, "alice")
    assert DESK_PHONE in event.object_repr
    # The binding went first; the dashboard shown next read the table again, without it.
    assert edge.methods() == [("ul.rm", ["location", AOR]), ("ul.dump", [])]
    assert AOR not in edge.table


def test_log_out_removes_the_binding_on_every_edge_and_names_the_one_not_reached(
    portal_client, install, live, edge
):
    SipCredentialFactory(name="edge-2", rpc_url=closed_port_url())
    SipCredentialFactory(name="edge-3", rpc_url="")  # no RPC: not tried

    response = portal_client.post(logout_url(install, live), follow=True)

    [message] = messages_of(response)
    assert "Logged out 1001 Ann Smith here, but the SIP edge edge-2 could not be reached" in message
    assert "until its next refresh" in message
    assert "could not be reached" in text(response.content.decode())
    assert ("ul.rm", ["location", AOR]) in edge.methods()
    live.refresh_from_db()
    assert live.end_reason == SessionEnd.FORCED


def test_log_out_with_only_an_unreachable_edge_still_closes_the_session(
    portal_client, install, hot_desk_user
):
    SipCredentialFactory(name="edge-9", rpc_url=closed_port_url())
    session = HotDeskSessionFactory(pbx_user=hot_desk_user)

    response = portal_client.post(logout_url(install, session), follow=True)

    assert "the SIP edge edge-9 could not be reached" in messages_of(response)[0]
    session.refresh_from_db()
    assert (session.end_reason, session.ended_by) == (SessionEnd.FORCED, "alice")
    assert AuditEvent.objects.filter(action=Action.SESSION_LOGGED_OUT).count() == 1


def test_log_out_without_any_edge_rpc_says_the_handset_stays_registered_until_its_refresh(
    portal_client, install, hot_desk_user
):
    session = HotDeskSessionFactory(pbx_user=hot_desk_user)

    response = portal_client.post(logout_url(install, session), follow=True)

    assert "no SIP edge has an RPC URL" in messages_of(response)[0]
    session.refresh_from_db()
    assert session.end_reason == SessionEnd.FORCED


def test_log_out_of_a_session_that_has_already_ended_changes_nothing(
    portal_client, install, hot_desk_user, edge
):
    moved = HotDeskSessionFactory(
        pbx_user=hot_desk_user, ended_at=timezone.now(), end_reason=SessionEnd.MOVED
    )
    # The user's binding now belongs to the next handset: it must stay.
    edge.add(AOR, "sip:1001@203.0.113.8:5060")

    response = portal_client.post(logout_url(install, moved), follow=True)

    assert messages_of(response) == ["1001 Ann Smith was no longer logged in on that handset."]
    moved.refresh_from_db()
    assert moved.end_reason == SessionEnd.MOVED
    assert not AuditEvent.objects.filter(action=Action.SESSION_LOGGED_OUT).exists()
    assert ("ul.rm", ["location", AOR]) not in edge.methods()
    assert AOR in edge.table


def test_log_out_must_be_posted(portal_client, install, live, edge):
    assert portal_client.get(logout_url(install, live)).status_code == 405
    live.refresh_from_db()
    assert live.ended_at is None


def test_log_out_needs_the_csrf_token(client, portal_admin, install, live, edge):
    client.handler.enforce_csrf_checks = True
    client.force_login(portal_admin)

    assert client.post(logout_url(install, live)).status_code == 403
    live.refresh_from_db()
    assert live.ended_at is None


# --- Another account ----------------------------------------------------------------------------


@pytest.fixture
def theirs(other_install, edge):
    """A live session in another customer's install, registered on the shared edge."""
    user = PbxUserFactory(install=other_install, extension="2001", name="Zed Other")
    edge.add("2001@other.pbx.test", "sip:2001@198.51.100.9:5060")
    return HotDeskSessionFactory(pbx_user=user, contact="sip:2001@198.51.100.9:5060")


@pytest.mark.parametrize("page", ["dashboard", "dashboard_live"])
def test_another_accounts_dashboard_is_404(portal_client, theirs, edge, page):
    address = reverse(f"registrations:{page}", kwargs={"install_pk": theirs.install_id})

    assert portal_client.get(address).status_code == 404
    assert edge.calls == []  # not even the location table was read


@pytest.mark.parametrize("under", ["their install", "my install"])
def test_another_accounts_session_cannot_be_logged_out(portal_client, install, theirs, edge, under):
    where = theirs.install if under == "their install" else install

    response = portal_client.post(logout_url(where, theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.ended_at is None
    assert not AuditEvent.objects.exists()
    assert edge.calls == []
    assert "2001@other.pbx.test" in edge.table


# --- Revoked access, removed user, new PIN: take effect at once ---------------------------------


def test_revoking_hot_desk_access_logs_the_user_out_and_removes_the_binding(
    portal_client, install, live, edge, django_capture_on_commit_callbacks
):
    edit = reverse("users:edit", kwargs={"install_pk": install.pk, "pk": live.pbx_user_id})

    with django_capture_on_commit_callbacks(execute=True):
        response = portal_client.post(edit, {"name": "Ann Smith"})  # access box unticked

    assert response.status_code == 302
    live.refresh_from_db()
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "alice")
    event = AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT)
    assert "access revoked" in event.object_repr
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert AOR not in edge.table


def test_removing_the_user_removes_the_binding(
    portal_client, install, live, edge, django_capture_on_commit_callbacks
):
    delete = reverse("users:delete", kwargs={"install_pk": install.pk, "pk": live.pbx_user_id})

    with django_capture_on_commit_callbacks(execute=True):
        assert portal_client.post(delete).status_code == 302

    assert HotDeskSession.objects.get().pbx_user is None  # ended, and kept for the history
    assert AuditEvent.objects.filter(action=Action.SESSION_LOGGED_OUT, install=install).exists()
    assert edge.methods() == [("ul.rm", ["location", AOR])]


def test_a_new_pin_logs_the_user_out_and_removes_the_binding(
    install, live, edge, portal_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.set_pin(user=live.pbx_user, pin="8642", actor=Actor.for_user(portal_admin))

    live.refresh_from_db()
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "alice")
    assert "new PIN" in AuditEvent.objects.get(action=Action.SESSION_LOGGED_OUT).object_repr
    assert edge.methods() == [("ul.rm", ["location", AOR])]


def test_clearing_the_pin_logs_the_user_out_and_removes_the_binding(
    install, live, edge, portal_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.clear_pin(user=live.pbx_user, actor=Actor.for_user(portal_admin))

    live.refresh_from_db()
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "alice")
    assert edge.methods() == [("ul.rm", ["location", AOR])]


def test_the_binding_is_removed_only_after_the_change_is_committed(
    install, live, edge, portal_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.set_pin(user=live.pbx_user, pin="8642", actor=Actor.for_user(portal_admin))
        assert edge.calls == []  # nothing on the network inside the transaction
    for callback in callbacks:  # the commit
        callback()
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    edge.calls.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.set_pin(user=live.pbx_user, pin="9753", actor=Actor.for_user(portal_admin))
        raise RuntimeError("rolled back")
    assert edge.calls == []


def test_a_new_user_with_a_pin_costs_no_call_to_the_edge(
    install, edge, portal_admin, django_capture_on_commit_callbacks
):
    user = PbxUserFactory.build(install=install, extension="1009", hot_desk_access=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.save_user(user=user, pin="8642", actor=Actor.for_user(portal_admin))

    assert edge.calls == []


def test_revoking_access_when_the_edge_is_down_still_ends_the_session(
    install, hot_desk_user, portal_admin, django_capture_on_commit_callbacks
):
    SipCredentialFactory(name="edge-9", rpc_url=closed_port_url())
    session = HotDeskSessionFactory(pbx_user=hot_desk_user)
    before = services.snapshot(hot_desk_user)
    hot_desk_user.hot_desk_access = False

    with django_capture_on_commit_callbacks(execute=True):
        services.save_user(
            user=hot_desk_user, pin=None, actor=Actor.for_user(portal_admin), before=before
        )

    session.refresh_from_db()
    assert session.end_reason == SessionEnd.FORCED


# --- The history outlives a removed user ------------------------------------------------------


def test_removing_a_user_on_the_users_tab_keeps_their_sessions_in_the_history(
    portal_client, install, live, edge, django_capture_on_commit_callbacks
):
    earlier = HotDeskSessionFactory(
        pbx_user=live.pbx_user,
        logged_in_at=timezone.now() - timedelta(hours=3),
        ended_at=timezone.now() - timedelta(hours=2),
        end_reason=SessionEnd.LOGGED_OUT,
    )
    remove = reverse("users:delete", kwargs={"install_pk": install.pk, "pk": live.pbx_user.pk})

    with django_capture_on_commit_callbacks(execute=True):
        assert portal_client.post(remove).status_code == 302

    assert edge.methods() == [("ul.rm", ["location", AOR])]
    assert HotDeskSession.objects.filter(pbx_user__isnull=True).count() == 2
    page = portal_client.get(dashboard_url(install)).content.decode()
    assert text(row(page, "session-history", earlier)).startswith("1001 Ann Smith (removed)")
    assert text(row(page, "session-history", live)).startswith("1001 Ann Smith (removed)")
    assert text(row(page, "session-history", live)).endswith("Forced logout by alice")


def test_a_user_removed_any_other_way_is_logged_out_and_their_history_kept(
    portal_client, install, live, edge, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.pbx_user.delete()  # as from `manage.py shell`

    live.refresh_from_db()
    assert (live.pbx_user, live.removed_extension, live.removed_name) == (None, "1001", "Ann Smith")
    assert (live.end_reason, live.ended_by) == (SessionEnd.FORCED, "user removed")
    assert edge.methods() == [("ul.rm", ["location", AOR])]
    page = portal_client.get(dashboard_url(install)).content.decode()
    assert "Nobody is hot-desking now." in page
    assert text(row(page, "session-history", live)).startswith("1001 Ann Smith (removed)")


def test_a_new_user_on_the_same_extension_is_told_apart_from_the_removed_one(
    portal_client, install, hot_desk_user
):
    old = HotDeskSessionFactory(
        pbx_user=hot_desk_user, ended_at=timezone.now(), end_reason=SessionEnd.LOGGED_OUT
    )
    services.delete_user(user=hot_desk_user, actor=Actor.for_command("test"))
    successor = PbxUserFactory(install=install, extension="1001", name="Bob Jones")
    new = HotDeskSessionFactory(
        pbx_user=successor, ended_at=timezone.now(), end_reason=SessionEnd.LOGGED_OUT
    )

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert text(row(page, "session-history", old)).startswith("1001 Ann Smith (removed)")
    assert text(row(page, "session-history", new)).startswith("1001 Bob Jones")


def test_log_out_of_a_removed_users_session_from_a_stale_page_says_so_without_a_500(
    portal_client, install, live, edge, django_capture_on_commit_callbacks
):
    # The page still shows the Log out button; meanwhile the user was removed.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.pbx_user.delete()

    response = portal_client.post(logout_url(install, live), follow=True)

    assert response.status_code == 200
    assert "1001 Ann Smith (removed) was no longer logged in" in response.content.decode()


# --- Sessions reconciled with the edges' location tables ----------------------------------------


def test_a_session_no_edge_holds_a_binding_for_ends_as_no_binding(
    portal_client, install, hot_desk_user, edge
):
    # Its edge died and lost the binding without a word (no `started`, no log-out report).
    lost = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)

    page = portal_client.get(dashboard_url(install)).content.decode()

    assert f'data-session="{lost.pk}"' not in table(page, "live-sessions")
    assert text(row(page, "session-history", lost)).endswith("No binding on any SIP edge")
    lost.refresh_from_db()
    assert lost.end_reason == SessionEnd.NO_BINDING


def test_a_binding_on_any_edge_keeps_its_session(portal_client, install, hot_desk_user, edge):
    with StandInServer() as other:
        SipCredentialFactory(name="edge-2", rpc_url=other.url)
        other.add(AOR, DESK_PHONE, expires=400)
        held = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)

        portal_client.get(dashboard_url(install))

    held.refresh_from_db()
    assert held.ended_at is None


def test_no_session_is_ended_for_want_of_a_binding_while_an_edge_cannot_be_read(
    portal_client, install, hot_desk_user, edge
):
    SipCredentialFactory(name="edge-2", rpc_url=closed_port_url())
    maybe_there = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)

    portal_client.get(dashboard_url(install))

    maybe_there.refresh_from_db()
    assert maybe_there.ended_at is None


def test_a_session_younger_than_the_grace_is_not_taken_for_one_without_a_binding(
    portal_client, install, hot_desk_user, edge
):
    # Its binding may be newer than the location table the dashboard read.
    just_now = timezone.now() - sessions.NO_BINDING_GRACE + timedelta(seconds=5)
    young = HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE, logged_in_at=just_now)

    portal_client.get(dashboard_url(install))

    young.refresh_from_db()
    assert young.ended_at is None


def test_the_history_rows_have_as_many_cells_as_their_header(portal_client, install, live):
    portal_client.post(logout_url(install, live))

    page = portal_client.get(live_url(install)).content.decode()

    history = table(page, "session-history")
    header = re.search(r"<thead>(.*?)</thead>", history, re.S).group(1)
    assert row(page, "session-history", live).count("<td") == header.count("<th")
