"""Every Import / Export URL names an install: another account's is a 404, whatever the method."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import PbxUserFactory
from users.models import PbxUser

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "name", "kind"),
    [
        ("get", "bulk:index", None),
        ("get", "bulk:export", "users"),
        ("get", "bulk:export", "trusted-ips"),
        ("get", "bulk:import", "users"),
        ("post", "bulk:import", "users"),
        ("post", "bulk:import", "trusted-ips"),
        ("get", "bulk:export", "no-such-kind"),
    ],
)
def test_another_accounts_install_is_not_found(portal_client, other_install, method, name, kind):
    PbxUserFactory(install=other_install, extension="1001", name="Theirs")
    kwargs = {"install_pk": other_install.pk} | ({"kind": kind} if kind else {})
    data = {"file": SimpleUploadedFile("x.csv", b"extension,name,hot_desk_access\n1001,Mine,no\n")}

    response = getattr(portal_client, method)(reverse(name, kwargs=kwargs), data)

    assert response.status_code == 404
    assert b"Theirs" not in response.content
    assert PbxUser.objects.get().name == "Theirs"
