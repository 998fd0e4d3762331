"""`manage.py create_install`: creates the install (and its account); refusals write nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from audit.models import Action, AuditEvent
from installs.models import Install
from tests.installs.test_validators import BAD_DOMAINS

pytestmark = pytest.mark.django_db


def create_install(account="Acme Ltd", name="Head Office", domain="acme.pbx.test", **options):
    out = StringIO()
    call_command("create_install", account=account, name=name, domain=domain, stdout=out, **options)
    return out.getvalue()


def refused(**options) -> CommandError:
    with pytest.raises(CommandError) as caught:
        create_install(**options)
    assert caught.value.returncode != 0
    assert "\n" not in str(caught.value)
    return caught.value


def nothing_written(*, accounts_before=0):
    return (
        Account.objects.count() == accounts_before
        and not Install.objects.exists()
        and not AuditEvent.objects.exists()
    )


def test_command_creates_the_account_and_the_install(db):
    output = create_install()
    install = Install.objects.get()
    assert (install.account.name, install.name, install.sip_domain) == (
        "Acme Ltd",
        "Head Office",
        "acme.pbx.test",
    )
    assert install.registration_expiry == 500
    assert "acme.pbx.test" in output


def test_command_adds_to_an_existing_account_whatever_its_case(account):
    create_install(account=account.name.upper())
    assert list(Install.objects.values_list("account", flat=True)) == [account.pk]
    assert Account.objects.count() == 1


def test_command_records_the_creation_with_the_command_as_actor(db):
    create_install()
    event = AuditEvent.objects.get()
    assert event.action == Action.INSTALL_CREATED
    assert event.install == Install.objects.get()
    assert event.actor is None
    assert event.actor_label == "manage.py create_install"


@pytest.mark.parametrize("domain", ["ACME.PBX.TEST", "  Acme.Pbx.Test  "])
def test_domain_is_stored_lower_case_and_trimmed(db, domain):
    create_install(domain=domain)
    assert Install.objects.get().sip_domain == "acme.pbx.test"


@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_malformed_domain_is_refused_and_nothing_is_written(db, domain):
    assert "domain" in str(refused(domain=domain))
    assert nothing_written()


@pytest.mark.parametrize("domain", ["acme.pbx.test", "ACME.pbx.test"])
def test_duplicate_domain_is_refused_and_nothing_is_written(install, domain):
    before = Install.objects.count(), Account.objects.count()
    refused(account="Rival Ltd", domain=domain)
    assert (Install.objects.count(), Account.objects.count()) == before
    assert not Account.objects.filter(name="Rival Ltd").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("expiry", [60, 500, 3600])
def test_expiry_from_60_to_3600_is_accepted(db, expiry):
    create_install(expiry=expiry)
    assert Install.objects.get().registration_expiry == expiry


@pytest.mark.parametrize("expiry", [59, 3601, 0, -1])
def test_expiry_outside_60_to_3600_is_refused_and_nothing_is_written(db, expiry):
    refused(expiry=expiry)
    assert nothing_written()


@pytest.mark.parametrize("missing", ["account", "name"])
def test_blank_account_or_name_is_refused(db, missing):
    refused(**{missing: "  "})
    assert nothing_written()


def test_duplicate_domain_exits_non_zero_with_one_stderr_line_in_a_real_process(manage_py):
    args = ("create_install", "--account", "Twice Ltd", "--name", "HQ", "--domain")
    assert manage_py.run(*args, "twice.pbx.test").returncode == 0

    result = manage_py.run(*args, "TWICE.pbx.test")

    assert result.returncode != 0
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


def test_command_line_as_documented(db):
    call_command(
        "create_install", "--account", "Acme Ltd", "--name", "Head Office",
        "--domain", "acme.pbx.test", "--expiry", "500", stdout=StringIO(),
    )  # fmt: skip
    assert Install.objects.filter(sip_domain="acme.pbx.test", registration_expiry=500).exists()
