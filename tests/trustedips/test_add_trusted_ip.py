"""`manage.py add_trusted_ip`: the portal's rules, one clear error line, nothing written."""

import sqlite3
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from tests.factories import InstallFactory
from tests.trustedips.test_validators import ACCEPTED, REFUSED
from trustedips.models import TrustedRange

pytestmark = pytest.mark.django_db


def add_trusted_ip(domain, cidr, description="London office"):
    out = StringIO()
    call_command("add_trusted_ip", domain=domain, cidr=cidr, description=description, stdout=out)
    return out.getvalue()


def refused(domain, cidr, description="London office") -> CommandError:
    with pytest.raises(CommandError) as caught:
        add_trusted_ip(domain, cidr, description)
    return caught.value


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_command_adds_range_in_canonical_form(install, typed, stored):
    output = add_trusted_ip(install.sip_domain, typed)
    trusted = TrustedRange.objects.get(install=install)
    assert trusted.network == stored
    assert trusted.added_by is None
    assert trusted.added_by_label == "manage.py add_trusted_ip"
    assert stored in output


@pytest.mark.parametrize(("typed", "code", "named"), REFUSED)
def test_command_refuses_range_with_one_line_and_writes_nothing(install, typed, code, named):
    error = refused(install.sip_domain, typed)
    assert error.returncode != 0
    message = str(error)
    assert "\n" not in message
    if code != "required":
        assert named in message
    assert not TrustedRange.objects.exists()
    assert not AuditEvent.objects.exists()


def test_command_refuses_host_bits_naming_the_network(install):
    assert "203.0.113.0/24" in str(refused(install.sip_domain, "203.0.113.7/24"))


def test_command_finds_the_install_whatever_the_case_of_the_domain(install):
    add_trusted_ip(install.sip_domain.upper(), "203.0.113.0/24")
    assert TrustedRange.objects.filter(install=install).exists()


def test_command_refuses_unknown_domain(db):
    assert "nowhere.pbx.test" in str(refused("nowhere.pbx.test", "203.0.113.0/24"))
    assert not TrustedRange.objects.exists()


def test_command_refuses_a_duplicate_within_the_install(install, trusted_range):
    error = refused(install.sip_domain, f" {trusted_range.network}")
    assert trusted_range.network in str(error)
    assert TrustedRange.objects.count() == 1


def test_command_adds_a_range_another_install_already_trusts(install, trusted_range):
    elsewhere = InstallFactory()
    add_trusted_ip(elsewhere.sip_domain, trusted_range.network)
    assert TrustedRange.objects.filter(install=elsewhere, network=trusted_range.network).exists()


def test_command_refuses_an_empty_description(install):
    assert "description" in str(refused(install.sip_domain, "203.0.113.0/24", description=" "))
    assert not TrustedRange.objects.exists()


def test_command_saves_a_range_inside_another_and_names_the_cover(install, trusted_range):
    output = add_trusted_ip(install.sip_domain, "203.0.113.128/25", description="Top half")
    assert TrustedRange.objects.filter(install=install, network="203.0.113.128/25").exists()
    warning = [line for line in output.splitlines() if "covered" in line]
    assert len(warning) == 1
    assert trusted_range.network in warning[0]


def test_command_records_the_addition_with_the_command_as_actor(install):
    add_trusted_ip(install.sip_domain, "198.51.100.0/24", description="Leeds office")
    event = AuditEvent.objects.get()
    assert event.action == Action.RANGE_ADDED
    assert event.actor is None
    assert event.actor_label == "manage.py add_trusted_ip"
    assert event.install == install
    assert "198.51.100.0/24" in event.object_repr


def test_refused_cidr_exits_non_zero_with_one_stderr_line_in_a_real_process(manage_py):
    domain = "refused-cidr.pbx.test"
    created = manage_py.run(
        "create_install", "--account", "Refused Ltd", "--name", "HQ", "--domain", domain
    )
    assert created.returncode == 0, created.stderr

    result = manage_py.run(
        "add_trusted_ip", "--domain", domain, "--cidr", "203.0.113.7/24", "--description", "HQ"
    )

    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "203.0.113.0/24" in lines[0]
    assert result.stderr.count("\n") <= 1
    with sqlite3.connect(manage_py.database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM trustedips_trustedrange").fetchone()
    assert count == 0


def test_accepted_cidr_exits_zero_in_a_real_process(manage_py):
    domain = "accepted-cidr.pbx.test"
    manage_py.run("create_install", "--account", "Accepted Ltd", "--name", "HQ", "--domain", domain)

    result = manage_py.run(
        "add_trusted_ip", "--domain", domain, "--cidr", "198.51.100.0/24", "--description", "HQ"
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with sqlite3.connect(manage_py.database) as connection:
        rows = connection.execute("SELECT network FROM trustedips_trustedrange").fetchall()
    assert ("198.51.100.0/24",) in rows


def test_command_line_as_documented(install):
    call_command(
        "add_trusted_ip", "--domain", "acme.pbx.test", "--cidr", "203.0.113.0/24",
        "--description", "London office", stdout=StringIO(),
    )  # fmt: skip
    assert TrustedRange.objects.get().description == "London office"
