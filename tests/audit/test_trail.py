"""The audit trail: every change, from the portal or a command, is one event saying who,
which install, which object and what changed; a PIN change never carries the value."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import Action, AuditEvent
from audit.trail import Actor, diff, record
from tests.factories import PbxUserFactory
from users import services

pytestmark = pytest.mark.django_db

PIN = "4826"


@pytest.fixture
def pbx_user(install):
    return PbxUserFactory(install=install, extension="1001", name="Ann Smith", pin="2468")


def only_event():
    """The single event written (fails if a change wrote none or several)."""
    [event] = AuditEvent.objects.all()
    return event


def edit(client, pbx_user, **data):
    url = reverse("users:edit", kwargs={"install_pk": pbx_user.install_id, "pk": pbx_user.pk})
    return client.post(url, {"name": pbx_user.name, "pin": "", **data})


# --- From the portal -----------------------------------------------------------------------


def test_ticking_hot_desk_access_is_one_event_with_the_field_before_and_after(
    portal_client, portal_admin, pbx_user
):
    edit(portal_client, pbx_user, hot_desk_access="on")
    event = only_event()
    assert event.action == Action.USER_CHANGED
    assert (event.actor, event.actor_label) == (portal_admin, portal_admin.username)
    assert event.install == pbx_user.install
    assert event.object_repr == str(pbx_user)
    assert event.changes == {"hot_desk_access": [False, True]}
    assert event.created_at is not None


def test_unticking_hot_desk_access_is_one_event(portal_client, install):
    pbx_user = PbxUserFactory(install=install, hot_desk_access=True, pin="2468")
    edit(portal_client, pbx_user)
    assert only_event().changes == {"hot_desk_access": [True, False]}


def test_setting_a_pin_is_one_pin_changed_event_without_the_value(
    portal_client, portal_admin, pbx_user
):
    edit(portal_client, pbx_user, pin=PIN)
    event = only_event()
    assert event.action == Action.PIN_CHANGED
    assert event.get_action_display() == "PIN changed"
    assert (event.actor, event.install, event.object_repr) == (
        portal_admin,
        pbx_user.install,
        str(pbx_user),
    )
    assert event.changes == {}
    pbx_user.refresh_from_db()
    assert PIN not in str(AuditEvent.objects.values().get())
    assert pbx_user.pin_ha1 not in str(AuditEvent.objects.values().get())


def test_access_and_pin_in_one_save_are_two_events(portal_client, install):
    pbx_user = PbxUserFactory(install=install)
    edit(portal_client, pbx_user, hot_desk_access="on", pin=PIN)
    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == sorted([Action.USER_CHANGED, Action.PIN_CHANGED])


def test_clearing_a_pin_is_one_pin_cleared_event(pbx_user, portal_admin):
    # No page or command clears a PIN yet; the service that would is audited already.
    services.clear_pin(user=pbx_user, actor=Actor.for_user(portal_admin))
    event = only_event()
    assert event.action == Action.PIN_CLEARED
    assert (event.actor, event.install, event.object_repr) == (
        portal_admin,
        pbx_user.install,
        str(pbx_user),
    )
    pbx_user.refresh_from_db()
    assert not pbx_user.has_pin


def test_adding_a_user_is_one_event_with_its_fields(portal_client, portal_admin, install):
    portal_client.post(
        reverse("users:add", kwargs={"install_pk": install.pk}),
        {"extension": "2001", "name": "Ben Jones"},
    )
    event = only_event()
    assert event.action == Action.USER_ADDED
    assert (event.actor, event.install, event.object_repr) == (
        portal_admin,
        install,
        "2001 Ben Jones",
    )
    assert event.changes == {"name": [None, "Ben Jones"], "hot_desk_access": [None, False]}


def test_removing_a_user_is_one_event_naming_the_user(portal_client, portal_admin, pbx_user):
    named = str(pbx_user)
    portal_client.post(
        reverse("users:delete", kwargs={"install_pk": pbx_user.install_id, "pk": pbx_user.pk})
    )
    event = only_event()
    assert event.action == Action.USER_REMOVED
    assert (event.actor, event.install, event.object_repr) == (
        portal_admin,
        pbx_user.install,
        named,
    )


def test_adding_a_range_is_one_event_naming_the_range(portal_client, portal_admin, install):
    portal_client.post(
        reverse("trustedips:list", kwargs={"install_pk": install.pk}),
        {"network": "198.51.100.0/24", "description": "Leeds office"},
    )
    event = only_event()
    assert event.action == Action.RANGE_ADDED
    assert (event.actor, event.install) == (portal_admin, install)
    assert event.object_repr == "198.51.100.0/24 (Leeds office)"


def test_removing_a_range_is_one_event_naming_the_range(portal_client, portal_admin, trusted_range):
    portal_client.post(
        reverse(
            "trustedips:delete",
            kwargs={"install_pk": trusted_range.install_id, "pk": trusted_range.pk},
        )
    )
    event = only_event()
    assert event.action == Action.RANGE_REMOVED
    assert (event.actor, event.install) == (portal_admin, trusted_range.install)
    assert event.object_repr == str(trusted_range)


def test_changing_install_settings_is_one_event_with_the_changed_fields(
    portal_client, portal_admin, install
):
    portal_client.post(
        reverse("installs:settings", kwargs={"install_pk": install.pk}),
        {"name": install.name, "registration_expiry": "900"},
    )
    event = only_event()
    assert event.action == Action.INSTALL_CHANGED
    assert (event.actor, event.install, event.object_repr) == (portal_admin, install, str(install))
    assert event.changes == {"registration_expiry": [500, 900]}


def test_refused_change_records_nothing(portal_client, pbx_user):
    edit(portal_client, pbx_user, pin="1234", hot_desk_access="on")
    assert not AuditEvent.objects.exists()


def test_audit_log_tab_shows_who_did_what_to_which_object(portal_client, portal_admin, pbx_user):
    edit(portal_client, pbx_user, pin=PIN, hot_desk_access="on")
    page = portal_client.get(
        reverse("installs:audit", kwargs={"install_pk": pbx_user.install_id})
    ).content.decode()
    assert f"<td>{portal_admin.username}</td>" in page
    assert "<td>PIN changed</td>" in page
    assert f"<td>{pbx_user}</td>" in page
    assert "hot_desk_access: False → True" in page


def test_event_keeps_naming_the_actor_after_the_login_is_deleted(
    portal_client, portal_admin, pbx_user
):
    edit(portal_client, pbx_user, hot_desk_access="on")
    portal_admin.delete()
    event = only_event()
    assert (event.actor, event.actor_label) == (None, "alice")


# --- From commands: the command is the actor -----------------------------------------------


def run(command, *args, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(command, *args, stdout=io.StringIO())


@pytest.mark.parametrize(
    ("command", "args", "action"),
    [
        ("set_pbx_user", ["--extension", "2001", "--name", "Ben"], Action.USER_ADDED),
        ("set_pbx_user", ["--extension", "1001", "--name", "Ann Jones"], Action.USER_CHANGED),
        ("set_pbx_user", ["--extension", "1001", "--hot-desk"], Action.USER_CHANGED),
        ("set_pbx_user", ["--extension", "1001", "--pin-stdin"], Action.PIN_CHANGED),
        (
            "add_trusted_ip",
            ["--cidr", "198.51.100.0/24", "--description", "Leeds"],
            Action.RANGE_ADDED,
        ),
        ("remove_trusted_ip", ["--cidr", "203.0.113.0/24"], Action.RANGE_REMOVED),
    ],
    ids=["user-added", "user-renamed", "access-ticked", "pin-set", "range-added", "range-gone"],
)
def test_command_change_is_one_event_with_the_command_as_actor(
    pbx_user, trusted_range, monkeypatch, command, args, action
):
    install = pbx_user.install
    run(command, "--domain", install.sip_domain, *args, stdin=f"{PIN}\n", monkeypatch=monkeypatch)
    event = only_event()
    assert event.action == action
    assert (event.actor, event.actor_label) == (None, f"manage.py {command}")
    assert event.install == install
    assert PIN not in str(AuditEvent.objects.values().get())


def test_create_install_records_the_command_as_actor(db):
    run("create_install", "--account", "Acme Ltd", "--name", "HQ", "--domain", "hq.pbx.test")
    event = only_event()
    assert (event.action, event.actor_label) == (Action.INSTALL_CREATED, "manage.py create_install")


# --- The trail's own helpers ---------------------------------------------------------------


def test_diff_keeps_only_the_fields_that_changed():
    before = {"name": "Ann", "hot_desk_access": False}
    after = {"name": "Ann", "hot_desk_access": True}
    assert diff(before, after) == {"hot_desk_access": (False, True)}


def test_record_stores_values_the_database_can_hold(install):
    event = record(
        actor=Actor.system("nightly"),
        action=Action.INSTALL_CHANGED,
        install=install,
        obj=install,
        changes={"since": (None, date(2030, 1, 2))},
    )
    event.refresh_from_db()
    assert event.changes == {"since": [None, "2030-01-02"]}
    assert event.actor_label == "nightly"


def test_audit_events_can_be_read_but_not_added_or_edited_in_the_django_admin(admin_client):
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
