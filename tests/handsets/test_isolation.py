"""Every Handset Setup URL that names an install or a handset is a 404 for another account."""

import pytest
from django.urls import reverse

from handsets.models import Handset, ProvisioningProfile
from tests.factories import HandsetFactory, ProvisioningProfileFactory

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", "handsets:setup", False),
    ("post", "handsets:setup", False),
    ("get", "handsets:download", False),
    ("get", "handsets:provisioning", False),
    ("post", "handsets:provisioning", False),
    ("get", "handsets:rotate", False),
    ("post", "handsets:rotate", False),
    ("get", "handsets:delete", True),
    ("post", "handsets:delete", True),
]


@pytest.mark.parametrize(("method", "name", "names_handset"), PAGES)
def test_another_accounts_install_is_not_found(
    portal_client, other_install, method, name, names_handset
):
    profile = ProvisioningProfileFactory(install=other_install)
    handset = HandsetFactory(install=other_install)
    kwargs = {"install_pk": other_install.pk} | ({"pk": handset.pk} if names_handset else {})

    data = {"line_key": "2", "label": "X", "mac": "805ec0000001", "desk": "Mine now"}
    response = getattr(portal_client, method)(reverse(name, kwargs=kwargs), data)

    assert response.status_code == 404
    assert ProvisioningProfile.objects.get(pk=profile.pk).token == profile.token
    assert list(Handset.objects.values_list("pk", flat=True)) == [handset.pk]


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_installs_handset_under_my_install_is_not_found(
    portal_client, install, other_install, method
):
    handset = HandsetFactory(install=other_install)
    url = reverse("handsets:delete", kwargs={"install_pk": install.pk, "pk": handset.pk})
    assert getattr(portal_client, method)(url).status_code == 404
    assert Handset.objects.filter(pk=handset.pk).exists()
