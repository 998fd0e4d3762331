"""The Import / Export tab shows one upload form per kind: each with ids of its own."""

import re
from collections import Counter

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_each_upload_form_has_its_own_ids_and_labels(portal_client, install):
    page = portal_client.get(reverse("bulk:index", kwargs={"install_pk": install.pk}))
    html = page.content.decode()

    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    for kind in ("users", "trusted-ips"):
        assert f'for="id_{kind}_file"' in html and f'id="id_{kind}_file"' in html


def test_a_refused_upload_keeps_the_ids_of_its_kind(portal_client, install, field_error):
    url = reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": "trusted-ips"})
    response = portal_client.post(url, {})
    assert response.status_code == 400
    assert "This field is required" in field_error(response, "trusted-ips_file")
