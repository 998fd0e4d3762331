"""`manage.py set_install`: changes an install's settings, audited; refusals change nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from installs.models import Install

from .test_validators import BAD_PBX_ADDRESSES

pytestmark = pytest.mark.django_db


def set_install(domain="acme.pbx.test", **options) -> str:
    out = StringIO()
    call_command("set_install", domain=domain, stdout=out, **options)
    return out.getvalue()


def refused(**options) -> str:
    with pytest.raises(CommandError) as caught:
        set_install(**options)
    assert caught.value.returncode != 0
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_sets_name_expiry_and_pbx_address_and_audits_the_change(install):
    output = set_install(name=" Main Office ", expiry=600, pbx_address="sip:10.0.0.5:5060")

    install.refresh_from_db()
    assert (install.name, install.registration_expiry, install.pbx_address) == (
        "Main Office",
        600,
        "sip:10.0.0.5:5060",
    )
    assert "Updated install Main Office (acme.pbx.test)" in output
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label, event.install) == (
        Action.INSTALL_CHANGED,
        "manage.py set_install",
        install,
    )
    assert event.changes == {
        "name": ["Head Office", "Main Office"],
        "registration_expiry": [500, 600],
        "pbx_address": ["", "sip:10.0.0.5:5060"],
    }


def test_a_pbx_address_is_stored_in_one_form(install):
    set_install(pbx_address=" SIP:PBX.Acme.Example:05060;Transport=TCP ")

    install.refresh_from_db()
    assert install.pbx_address == "sip:pbx.acme.example:5060;transport=tcp"


def test_an_empty_pbx_address_removes_it(install):
    Install.objects.filter(pk=install.pk).update(pbx_address="sip:[2001:db8::5]")

    set_install(pbx_address="")

    install.refresh_from_db()
    assert install.pbx_address == ""


def test_the_same_values_again_change_nothing_and_audit_nothing(install):
    output = set_install(name=install.name, expiry=install.registration_expiry)

    assert "No change to install" in output
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("address", BAD_PBX_ADDRESSES)
def test_a_bad_pbx_address_is_refused_and_changes_nothing(install, address):
    message = refused(name="Renamed", pbx_address=address)

    assert message.startswith("pbx_address: ")
    install.refresh_from_db()
    assert (install.name, install.pbx_address) == ("Head Office", "")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("expiry", [59, 3601])
def test_an_expiry_out_of_range_is_refused_and_changes_nothing(install, expiry):
    message = refused(expiry=expiry, pbx_address="sip:10.0.0.5")

    assert message.startswith("registration_expiry: ")
    install.refresh_from_db()
    assert (install.registration_expiry, install.pbx_address) == (500, "")


def test_an_unknown_domain_is_refused(install):
    assert refused(domain="nowhere.pbx.test", name="X") == (
        "No install has the SIP domain 'nowhere.pbx.test'."
    )


def test_nothing_to_change_is_refused(install):
    assert "Nothing to change" in refused()


def test_as_a_process_a_refusal_is_one_line_on_stderr_and_a_non_zero_exit(manage_py):
    created = manage_py.run(
        "create_install", "--account", "Set Ltd", "--name", "HQ", "--domain", "set.pbx.test"
    )
    assert created.returncode == 0, created.stderr

    result = manage_py.run("set_install", "--domain", "set.pbx.test", "--pbx-address", "10.0.0.5")

    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "pbx_address: Enter a SIP URI" in lines[0]


def test_command_line_as_documented(install):
    call_command(
        "set_install",
        "--domain",
        "acme.pbx.test",
        "--name",
        "Head Office",
        "--expiry",
        "500",
        "--pbx-address",
        "sip:10.0.0.5:5060",
        stdout=StringIO(),
    )

    install.refresh_from_db()
    assert install.pbx_address == "sip:10.0.0.5:5060"


def test_sets_the_time_zone_and_when_logins_end_and_audits_it(install):
    set_install(time_zone="America/New_York", max_login_minutes="600", daily_logout="19:00")

    install.refresh_from_db()
    assert (install.time_zone, install.max_login_minutes, str(install.daily_logout_at)) == (
        "America/New_York",
        600,
        "19:00:00",
    )
    event = AuditEvent.objects.filter(action=Action.INSTALL_CHANGED).latest("pk")
    assert set(event.changes) == {"time_zone", "max_login_minutes", "daily_logout_at"}

    set_install(max_login_minutes="", daily_logout="")
    install.refresh_from_db()
    assert (install.max_login_minutes, install.daily_logout_at) == (None, None)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"max_login_minutes": "0"}, "max_login_minutes"),
        ({"max_login_minutes": "ten"}, "max_login_minutes"),
        ({"max_login_minutes": "20000"}, "max_login_minutes"),
        ({"daily_logout": "7pm"}, "daily_logout_at"),
    ],
)
def test_bad_logout_settings_are_refused_and_change_nothing(install, options, field):
    message = refused(**options)

    assert message.startswith(f"{field}: ")
    install.refresh_from_db()
    assert (install.time_zone, install.max_login_minutes, install.daily_logout_at) == (
        "Europe/London",
        None,
        None,
    )
