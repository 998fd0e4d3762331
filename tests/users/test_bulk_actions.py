"""Bulk actions on the Users tab: grant, revoke and new PINs, through the single-user services."""

import base64
import csv
import hashlib
import io
import logging
import re

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from audit.trail import Actor
from registrations.models import HotDeskSession, SessionEnd
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from users import batch, pin_sheets, services
from users.models import PbxUser
from users.signals import access_revoked, pin_changed
from users.validators import validate_pin

pytestmark = pytest.mark.django_db


def list_url(install, query: str = "") -> str:
    url = reverse("users:list", kwargs={"install_pk": install.pk})
    return f"{url}?{query}" if query else url


def act(client, install, action: str, users, *, query: str = ""):
    data = {"action": action, "users": [str(getattr(u, "pk", u)) for u in users]}
    return client.post(list_url(install, query), data)


def ha1(user, pin: str) -> str:
    """Worked out here rather than by the code under test."""
    return hashlib.md5(f"{user.extension}:{user.install.sip_domain}:{pin}".encode()).hexdigest()


@pytest.fixture
def signals_sent():
    """The `access_revoked` and `pin_changed` signals sent during the test, by extension."""
    sent = {"access_revoked": [], "pin_changed": []}

    def revoked(sender, user, actor, **kwargs):
        sent["access_revoked"].append(user.extension)

    def changed(sender, user, actor, **kwargs):
        sent["pin_changed"].append(user.extension)

    access_revoked.connect(revoked, dispatch_uid="test.revoked")
    pin_changed.connect(changed, dispatch_uid="test.changed")
    yield sent
    access_revoked.disconnect(dispatch_uid="test.revoked")
    pin_changed.disconnect(dispatch_uid="test.changed")


@pytest.fixture
def team(install):
    """1001 and 1002 with access and a PIN (1001 logged in), 1003 with a PIN, 1004 with none."""
    ann = PbxUserFactory(
        install=install, extension="1001", name="Ann", hot_desk_access=True, pin="2468"
    )
    bob = PbxUserFactory(
        install=install, extension="1002", name="Bob", hot_desk_access=True, pin="1357"
    )
    cy = PbxUserFactory(install=install, extension="1003", name="=Cy", pin="3691")
    dee = PbxUserFactory(install=install, extension="1004", name="Dee")
    HotDeskSessionFactory(pbx_user=ann)
    return [ann, bob, cy, dee]


# --- Grant and revoke -------------------------------------------------------------------------


def test_grant_gives_access_to_users_with_a_pin_and_names_those_without(
    portal_client, install, team
):
    response = act(portal_client, install, "grant", team[2:])

    assert response.status_code == 302
    assert set(
        PbxUser.objects.filter(hot_desk_access=True).values_list("extension", flat=True)
    ) == {
        "1001",
        "1002",
        "1003",
    }
    event = AuditEvent.objects.get(action=Action.USER_CHANGED)
    assert event.object_repr == "1003 =Cy"
    assert event.changes == {"hot_desk_access": [False, True]}
    page = portal_client.get(response["Location"]).content.decode()
    assert "Gave Hot Desk Access to 1 user." in page
    assert "Not given access, for want of a PIN: 1004." in page


def test_revoke_goes_through_the_single_revoke_and_logs_each_user_out(
    portal_client, install, team, signals_sent
):
    response = act(portal_client, install, "revoke", team)

    assert response.status_code == 302
    assert not PbxUser.objects.filter(hot_desk_access=True).exists()
    # One audited change and one `access_revoked` per user that had access, as User Settings.
    events = AuditEvent.objects.filter(action=Action.USER_CHANGED).order_by("object_repr")
    assert [(e.object_repr, e.changes) for e in events] == [
        ("1001 Ann", {"hot_desk_access": [True, False]}),
        ("1002 Bob", {"hot_desk_access": [True, False]}),
    ]
    assert sorted(signals_sent["access_revoked"]) == ["1001", "1002"]
    # registrations' receiver ended Ann's session there and then.
    session = HotDeskSession.objects.get(pbx_user=team[0])
    assert session.ended_at is not None and session.end_reason == SessionEnd.FORCED
    assert AuditEvent.objects.filter(action=Action.SESSION_LOGGED_OUT).count() == 1
    page = portal_client.get(response["Location"]).content.decode()
    assert "Revoked Hot Desk Access of 2 users" in page
    assert "Unchanged: 1003, 1004 had no Hot Desk Access." in page


def test_revoke_uses_the_same_service_as_user_settings(install, team, monkeypatch):
    calls = []
    real = services.save_user

    def spy(**kwargs):
        calls.append(kwargs["user"].extension)
        real(**kwargs)

    monkeypatch.setattr(services, "save_user", spy)
    batch.set_access(users=team, allowed=False, actor=Actor.system("test"))
    assert calls == ["1001", "1002"]


def test_a_bulk_action_returns_to_the_same_page_filters_and_sort(portal_client, install, team):
    query = "access=yes&sort=-name&per_page=25"
    response = act(portal_client, install, "revoke", team[:1], query=query)
    assert response["Location"] == list_url(install, query)


def test_ticking_users_of_another_install_is_a_404_and_changes_nothing(
    portal_client, install, team, other_install
):
    stranger = PbxUserFactory(
        install=other_install, extension="1001", hot_desk_access=True, pin="2468"
    )

    response = act(portal_client, install, "revoke", [team[0], stranger])

    assert response.status_code == 404
    assert PbxUser.objects.filter(hot_desk_access=True).count() == 3
    assert not AuditEvent.objects.exists()


def test_a_bulk_action_on_another_accounts_install_is_a_404(portal_client, other_install):
    stranger = PbxUserFactory(install=other_install, hot_desk_access=True, pin="2468")
    assert act(portal_client, other_install, "revoke", [stranger]).status_code == 404
    stranger.refresh_from_db()
    assert stranger.hot_desk_access


# --- Bad input is an error beside the action, never a 500 ---------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"action": "revoke"}, "users", "Select at least one user"),
        ({"action": "", "users": ["1"]}, "action", "Choose what to do"),
        ({"action": "delete_all", "users": ["1"]}, "action", "Select a valid choice"),
        ({"action": "grant", "users": ["1x"]}, "users", "The selection was not understood"),
        ({"action": "grant", "users": ["9" * 40]}, "users", "The selection was not understood"),
    ],
)
def test_a_bad_bulk_request_is_an_error_beside_the_action(
    portal_client, install, team, field_error, data, field, message
):
    response = portal_client.post(list_url(install), data)

    assert response.status_code == 200
    assert message in field_error(response, field)
    assert PbxUser.objects.filter(hot_desk_access=True).count() == 2
    assert not AuditEvent.objects.exists()


def test_more_than_500_users_at_once_is_refused_with_a_clear_error(
    portal_client, install, field_error
):
    PbxUser.objects.bulk_create(
        PbxUser(install=install, extension=f"{2000 + n}", hot_desk_access=True) for n in range(501)
    )
    ids = list(PbxUser.objects.values_list("pk", flat=True))

    response = act(portal_client, install, "revoke", ids)

    assert "At most 500 users at a time: you selected 501." in field_error(response, "users")
    assert PbxUser.objects.filter(hot_desk_access=True).count() == 501


def test_rows_ticked_before_a_refused_action_stay_ticked(portal_client, install, team):
    response = portal_client.post(list_url(install), {"action": "", "users": [str(team[1].pk)]})
    page = response.content.decode()
    assert re.search(rf'value="{team[1].pk}" form="bulk-form"[^>]*checked', page)
    assert not re.search(rf'value="{team[0].pk}" form="bulk-form"[^>]*checked', page)


# --- New PINs ---------------------------------------------------------------------------------


def shown_pins(response) -> dict[str, str]:
    page = response.content.decode()
    rows = re.findall(
        r'<tr data-extension="(\d{4})">.*?data-testid="new-pin">(\d{4})</td>', page, re.S
    )
    return dict(rows)


def download(client, install, response, **override):
    form = response.context["sheet_form"]
    data = {"sheet": form.initial["sheet"], "key": form.initial["key"], **override}
    return client.post(reverse("users:pin_sheet", kwargs={"install_pk": install.pk}), data)


def test_new_pins_are_saved_as_a_single_generate_saves_them_and_shown_once(
    portal_client, install, team, signals_sent
):
    response = act(portal_client, install, "new_pins", team[1:3])

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    pins = shown_pins(response)
    assert set(pins) == {"1002", "1003"}
    for user in team[1:3]:
        user.refresh_from_db()
        validate_pin(pins[user.extension], extension=user.extension)
        assert user.pin_ha1 == ha1(user, pins[user.extension])
    assert AuditEvent.objects.filter(action=Action.PIN_CHANGED).count() == 2
    assert sorted(signals_sent["pin_changed"]) == ["1002", "1003"]
    # Kept for the one download only sealed: neither the session's sheet nor anything else in
    # the session holds a PIN in clear.
    stored = portal_client.session[pin_sheets.SESSION_KEY]
    assert set(stored) == {"sheet", "install", "sealed", "at"}
    sealed = base64.urlsafe_b64decode(stored["sealed"])
    for user in team[1:3]:
        line = f"{user.extension},{user.name},{pins[user.extension]}"
        assert line.encode() not in sealed
        assert line not in str(dict(portal_client.session))
    # Shown once: the list has no PIN column, and no page shows them again.
    assert 'data-testid="new-pin"' not in portal_client.get(list_url(install)).content.decode()


def test_new_pins_log_the_users_out_as_a_single_new_pin_does(portal_client, install, team):
    act(portal_client, install, "new_pins", team[:1])
    assert HotDeskSession.objects.get(pbx_user=team[0]).end_reason == SessionEnd.FORCED


def test_the_pins_download_once_as_csv_and_then_are_gone(portal_client, install, team):
    response = act(portal_client, install, "new_pins", team[1:3])
    pins = shown_pins(response)

    first = download(portal_client, install, response)

    assert first.status_code == 200
    assert first["Content-Type"] == "text/csv; charset=utf-8"
    assert first["Content-Disposition"] == 'attachment; filename="acme.pbx.test-new-pins.csv"'
    assert first["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(first.content.decode())))
    # A name a spreadsheet would run as a formula is written inert.
    assert rows == [
        ["extension", "name", "pin"],
        ["1002", "Bob", pins["1002"]],
        ["1003", "'=Cy", pins["1003"]],
    ]
    assert pin_sheets.SESSION_KEY not in portal_client.session

    second = download(portal_client, install, response)

    assert second.status_code == 410
    assert "can no longer be downloaded" in second.content.decode()
    assert not any(pin in second.content.decode() for pin in pins.values())


def test_leaving_the_page_discards_the_download(portal_client, install, team):
    response = act(portal_client, install, "new_pins", team[:1])
    portal_client.get(list_url(install))
    assert download(portal_client, install, response).status_code == 410


def test_a_wrong_key_gets_nothing_and_spends_the_download(portal_client, install, team):
    response = act(portal_client, install, "new_pins", team[:1])
    wrong = download(portal_client, install, response, key="A" * 43 + "=")
    assert wrong.status_code == 410
    assert download(portal_client, install, response).status_code == 410


@pytest.mark.parametrize("override", [{"sheet": ""}, {"key": "x" * 500}])
def test_a_malformed_download_request_is_the_gone_page_not_an_error(
    portal_client, install, team, override
):
    response = act(portal_client, install, "new_pins", team[:1])
    assert download(portal_client, install, response, **override).status_code == 410


def test_the_download_of_another_accounts_install_is_a_404(
    portal_client, install, team, other_install
):
    response = act(portal_client, install, "new_pins", team[:1])
    url = reverse("users:pin_sheet", kwargs={"install_pk": other_install.pk})
    form = response.context["sheet_form"]
    assert portal_client.post(url, form.initial).status_code == 404
    assert portal_client.get(url).status_code == 404


def test_new_pins_never_reach_the_logs_or_the_audit_trail(
    portal_client, install, team, caplog, monkeypatch
):
    # Fixed PINs, so that a number that happens to be in a log line cannot make this flaky.
    fixed = iter(["8264", "7391", "6185", "9427"])
    monkeypatch.setattr(batch, "generate_pin", lambda *, extension: next(fixed))
    caplog.set_level(logging.DEBUG)
    response = act(portal_client, install, "new_pins", team)
    sheet = download(portal_client, install, response)
    download(portal_client, install, response)

    pins = shown_pins(response)
    assert sorted(pins.values()) == ["6185", "7391", "8264", "9427"]
    assert sheet.status_code == 200
    for pin in pins.values():
        assert pin not in caplog.text
        assert not [r for r in caplog.records if pin in str(r.args)]
    # "PIN changed" per user, with no value.
    events = AuditEvent.objects.filter(action=Action.PIN_CHANGED)
    assert sorted(e.object_repr for e in events) == sorted(str(u) for u in team)
    assert all(e.changes == {} for e in events)


def test_new_pins_are_all_or_nothing(install, team, monkeypatch):
    before = {u.pk: u.pin_ha1 for u in team}
    real = services.set_pin

    def failing_on_the_third(*, user, pin, actor):
        if user.extension == "1003":
            raise RuntimeError("database went away")
        real(user=user, pin=pin, actor=actor)

    monkeypatch.setattr(services, "set_pin", failing_on_the_third)
    with pytest.raises(RuntimeError):
        batch.issue_new_pins(users=team, actor=Actor.system("test"))
    assert {u.pk: u.pin_ha1 for u in PbxUser.objects.all()} == before
