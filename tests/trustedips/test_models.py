"""What the database itself enforces for trusted ranges, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from tests.factories import InstallFactory
from trustedips.models import TrustedRange

pytestmark = pytest.mark.django_db


def test_database_refuses_the_same_range_twice_in_an_install(trusted_range):
    with pytest.raises(IntegrityError), transaction.atomic():
        TrustedRange.objects.create(
            install=trusted_range.install, network=trusted_range.network, description="Again"
        )
    assert TrustedRange.objects.count() == 1


def test_database_allows_the_same_range_in_two_installs(trusted_range):
    TrustedRange.objects.create(
        install=InstallFactory(), network=trusted_range.network, description="Elsewhere"
    )
    assert TrustedRange.objects.filter(network=trusted_range.network).count() == 2


def test_database_refuses_a_range_without_a_description(install):
    with pytest.raises(IntegrityError), transaction.atomic():
        TrustedRange.objects.create(install=install, network="203.0.113.0/24", description="")


def test_stored_range_reads_back_as_a_network(trusted_range):
    assert trusted_range.ip_network.with_prefixlen == "203.0.113.0/24"
