"""Telephony Settings (the install list), the Settings tab and the Audit log tab."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from installs.models import Install
from tests.factories import AccountFactory, InstallFactory, PortalUserFactory

pytestmark = pytest.mark.django_db


def settings_url(install):
    return reverse("installs:settings", kwargs={"install_pk": install.pk})


def audit_url(install):
    return reverse("installs:audit", kwargs={"install_pk": install.pk})


def test_install_list_shows_only_the_installs_of_my_accounts(portal_client, install, other_install):
    response = portal_client.get(reverse("installs:list"))
    assert list(response.context["installs"]) == [install]
    page = response.content.decode()
    assert install.sip_domain in page
    assert other_install.sip_domain not in page


def test_install_list_shows_installs_of_every_account_i_administer(client, install):
    second = InstallFactory(account=AccountFactory(name="Beta Ltd"))
    admin = PortalUserFactory(account=install.account)
    admin.memberships.create(account=second.account)
    InstallFactory(account=AccountFactory(name="Gamma Ltd"))
    client.force_login(admin)

    shown = client.get(reverse("installs:list")).context["installs"]

    assert set(shown) == {install, second}


def test_install_list_links_to_the_users_tab(portal_client, install):
    page = portal_client.get(reverse("installs:list")).content.decode()
    assert f'href="{reverse("users:list", kwargs={"install_pk": install.pk})}"' in page


def test_saving_settings_changes_name_and_expiry_and_audits_the_change(
    portal_client, portal_admin, install
):
    response = portal_client.post(
        settings_url(install), {"name": "Main Office", "registration_expiry": "600"}
    )
    assert response.status_code == 302
    install.refresh_from_db()
    assert (install.name, install.registration_expiry) == ("Main Office", 600)
    event = AuditEvent.objects.get()
    assert event.action == Action.INSTALL_CHANGED
    assert event.actor == portal_admin
    assert event.install == install
    assert event.changes == {
        "name": ["Head Office", "Main Office"],
        "registration_expiry": [500, 600],
    }


def test_saving_unchanged_settings_records_nothing(portal_client, install):
    portal_client.post(settings_url(install), {"name": install.name, "registration_expiry": "500"})
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("expiry", ["59", "3601"])
def test_expiry_outside_60_to_3600_is_refused_beside_the_field(
    portal_client, install, field_error, expiry
):
    response = portal_client.post(
        settings_url(install), {"name": install.name, "registration_expiry": expiry}
    )
    assert response.status_code == 200
    assert field_error(response, "registration_expiry")
    install.refresh_from_db()
    assert install.registration_expiry == 500


def test_the_pbx_address_is_saved_in_one_form_and_audited(portal_client, install):
    response = portal_client.post(
        settings_url(install),
        {
            "name": install.name,
            "registration_expiry": "500",
            "pbx_address": "SIP:PBX.Acme.Example:5060;transport=TCP",
        },
    )

    assert response.status_code == 302
    install.refresh_from_db()
    assert install.pbx_address == "sip:pbx.acme.example:5060;transport=tcp"
    assert AuditEvent.objects.get().changes == {
        "pbx_address": ["", "sip:pbx.acme.example:5060;transport=tcp"]
    }
    page = portal_client.get(settings_url(install)).content.decode()
    assert 'value="sip:pbx.acme.example:5060;transport=tcp"' in page


@pytest.mark.parametrize("address", ["10.0.0.5", "sip:100@10.0.0.5", "sip:10.0.0.5:70000"])
def test_a_bad_pbx_address_is_refused_beside_the_field(
    portal_client, install, field_error, address
):
    response = portal_client.post(
        settings_url(install),
        {"name": "Renamed", "registration_expiry": "500", "pbx_address": address},
    )

    assert response.status_code == 200
    assert field_error(response, "pbx_address")
    install.refresh_from_db()
    assert (install.name, install.pbx_address) == ("Head Office", "")
    assert not AuditEvent.objects.exists()


def test_domain_cannot_be_changed_from_the_portal(portal_client, install):
    response = portal_client.post(
        settings_url(install),
        {"name": install.name, "registration_expiry": "500", "sip_domain": "evil.pbx.test"},
    )
    assert response.status_code == 302
    assert Install.objects.get(pk=install.pk).sip_domain == "acme.pbx.test"
    page = portal_client.get(settings_url(install)).content.decode()
    assert 'name="sip_domain"' not in page


def event(install, label, minutes_ago):
    created = AuditEvent.objects.create(
        install=install, actor_label="alice", action=Action.USER_ADDED, object_repr=label
    )
    AuditEvent.objects.filter(pk=created.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return created


def test_audit_log_lists_the_installs_events_newest_first(portal_client, install, other_install):
    event(install, "1002 Middle", minutes_ago=5)
    event(install, "1003 Newest", minutes_ago=1)
    event(install, "1001 Oldest", minutes_ago=10)
    event(other_install, "9999 Elsewhere", minutes_ago=3)

    page = portal_client.get(audit_url(install)).content.decode()

    shown = re.findall(r"<td>(\d{4} \w+)</td>", page)
    assert shown == ["1003 Newest", "1002 Middle", "1001 Oldest"]
    assert "Elsewhere" not in page


def test_the_settings_tab_sets_the_time_zone_and_when_logins_end(portal_client, install):
    response = portal_client.post(
        settings_url(install),
        {
            "name": install.name,
            "registration_expiry": "500",
            "time_zone": "Asia/Tokyo",
            "max_login_minutes": "480",
            "daily_logout_at": "18:30",
        },
    )

    assert response.status_code == 302
    install.refresh_from_db()
    assert (install.time_zone, install.max_login_minutes, str(install.daily_logout_at)) == (
        "Asia/Tokyo",
        480,
        "18:30:00",
    )
    page = portal_client.get(settings_url(install)).content.decode()
    assert 'value="18:30"' in page and 'value="Asia/Tokyo"' in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Not/AZone"), ("max_login_minutes", "0"), ("daily_logout_at", "25:00")],
)
def test_bad_logout_settings_are_errors_beside_their_field(
    portal_client, install, field_error, field, value
):
    response = portal_client.post(
        settings_url(install),
        {"name": install.name, "registration_expiry": "500", field: value},
    )

    assert response.status_code == 200
    assert field_error(response, field)
    install.refresh_from_db()
    assert (install.time_zone, install.max_login_minutes) == ("Europe/London", None)
