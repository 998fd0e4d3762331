"""What the database itself enforces for installs, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from installs.models import Install
from tests.factories import InstallFactory

pytestmark = pytest.mark.django_db


def test_domain_is_stored_lower_case_by_save(account):
    install = Install.objects.create(account=account, name="HQ", sip_domain=" ACME.PBX.Test ")
    install.refresh_from_db()
    assert install.sip_domain == "acme.pbx.test"


def test_database_refuses_an_upper_case_domain(install):
    with pytest.raises(IntegrityError), transaction.atomic():
        Install.objects.filter(pk=install.pk).update(sip_domain="ACME.pbx.test")


def test_database_refuses_a_second_install_with_the_same_domain(install):
    with pytest.raises(IntegrityError), transaction.atomic():
        InstallFactory(sip_domain=install.sip_domain)


@pytest.mark.parametrize("expiry", [59, 3601, 0])
def test_database_refuses_an_expiry_outside_60_to_3600(install, expiry):
    with pytest.raises(IntegrityError), transaction.atomic():
        Install.objects.filter(pk=install.pk).update(registration_expiry=expiry)


def test_expiry_defaults_to_500_seconds(account):
    assert (
        Install.objects.create(
            account=account, name="HQ", sip_domain="hq.pbx.test"
        ).registration_expiry
        == 500
    )
