"""`manage.py remove_trusted_ip`: removes exactly the named range, or says why not."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from tests.factories import InstallFactory, TrustedRangeFactory
from trustedips.models import TrustedRange

pytestmark = pytest.mark.django_db


def remove_trusted_ip(domain, cidr):
    out = StringIO()
    call_command("remove_trusted_ip", domain=domain, cidr=cidr, stdout=out)
    return out.getvalue()


def test_command_removes_the_range_and_records_it(install, trusted_range):
    output = remove_trusted_ip(install.sip_domain, trusted_range.network)
    assert not TrustedRange.objects.filter(pk=trusted_range.pk).exists()
    assert trusted_range.network in output
    event = AuditEvent.objects.get()
    assert event.action == Action.RANGE_REMOVED
    assert event.actor_label == "manage.py remove_trusted_ip"
    assert event.install == install


def test_command_accepts_the_range_as_typed_with_spaces(install, trusted_range):
    remove_trusted_ip(install.sip_domain, f"  {trusted_range.network} ")
    assert not TrustedRange.objects.exists()


def test_command_removes_only_from_the_named_install(install, trusted_range):
    elsewhere = TrustedRangeFactory(install=InstallFactory(), network=trusted_range.network)
    remove_trusted_ip(install.sip_domain, trusted_range.network)
    assert list(TrustedRange.objects.all()) == [elsewhere]


@pytest.mark.parametrize("cidr", ["198.51.100.0/24", "203.0.113.0/25"])
def test_unknown_range_is_an_error_and_removes_nothing(install, trusted_range, cidr):
    with pytest.raises(CommandError) as caught:
        remove_trusted_ip(install.sip_domain, cidr)
    assert caught.value.returncode != 0
    assert cidr in str(caught.value)
    assert TrustedRange.objects.filter(pk=trusted_range.pk).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("cidr", ["203.0.113.7/24", "abc", ""])
def test_malformed_range_is_an_error_on_one_line(install, trusted_range, cidr):
    with pytest.raises(CommandError) as caught:
        remove_trusted_ip(install.sip_domain, cidr)
    assert "\n" not in str(caught.value)
    assert TrustedRange.objects.exists()


def test_unknown_domain_is_an_error(trusted_range):
    with pytest.raises(CommandError, match=r"nowhere\.pbx\.test"):
        remove_trusted_ip("nowhere.pbx.test", trusted_range.network)
    assert TrustedRange.objects.exists()


def test_command_line_as_documented(install, trusted_range):
    call_command(
        "remove_trusted_ip", "--domain", "acme.pbx.test", "--cidr", "203.0.113.0/24",
        stdout=StringIO(),
    )  # fmt: skip
    assert not TrustedRange.objects.exists()
