"""What the database itself enforces for PBX users, whatever code writes the rows."""

import pytest
from django.db import DataError, IntegrityError, transaction

from tests.factories import InstallFactory, PbxUserFactory
from users.models import PbxUser

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_user_with_the_same_extension_in_an_install(install):
    PbxUserFactory(install=install, extension="1001")
    with pytest.raises(IntegrityError), transaction.atomic():
        PbxUser.objects.create(install=install, extension="1001")
    assert PbxUser.objects.filter(install=install).count() == 1


def test_database_allows_the_same_extension_in_two_installs(install):
    PbxUserFactory(install=install, extension="1001")
    PbxUser.objects.create(install=InstallFactory(), extension="1001")
    assert PbxUser.objects.filter(extension="1001").count() == 2


@pytest.mark.parametrize("extension", ["100", "10011", "10a1", ""])
def test_database_refuses_an_extension_that_is_not_four_digits(install, extension):
    # PostgreSQL refuses a fifth character as too long for the column before any check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        PbxUser.objects.create(install=install, extension=extension)


@pytest.mark.parametrize("pin_ha1", ["2468", "Z" * 32, "0123456789ABCDEF0123456789ABCDEF"])
def test_database_refuses_a_pin_digest_that_is_not_32_hex_digits(install, pin_ha1):
    with pytest.raises(IntegrityError), transaction.atomic():
        PbxUser.objects.create(install=install, extension="1001", pin_ha1=pin_ha1)


def test_new_user_has_no_hot_desk_access_and_no_pin(install):
    pbx_user = PbxUser.objects.create(install=install, extension="1001")
    assert not pbx_user.hot_desk_access
    assert not pbx_user.has_pin
    assert pbx_user.pin_set_at is None
