"""The Trusted IPs tab: list, Add IP Range (errors beside the field), confirm before removal."""

import html

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import InstallFactory, TrustedRangeFactory
from tests.trustedips.test_validators import ACCEPTED, REFUSED
from trustedips.forms import TrustedRangeForm
from trustedips.models import TrustedRange

pytestmark = pytest.mark.django_db


def list_url(install):
    return reverse("trustedips:list", kwargs={"install_pk": install.pk})


def delete_url(trusted):
    return reverse("trustedips:delete", kwargs={"install_pk": trusted.install_id, "pk": trusted.pk})


def add(client, install, network, description="London office"):
    return client.post(list_url(install), {"network": network, "description": description})


def test_tab_lists_range_description_who_added_it_and_when(portal_client, install):
    TrustedRangeFactory(
        install=install, network="198.51.100.0/24", description="Leeds office", added_by_label="bob"
    )
    page = portal_client.get(list_url(install)).content.decode()
    assert "<code>198.51.100.0/24</code>" in page
    assert "Leeds office" in page
    assert "<td>bob</td>" in page
    added_on = timezone.localtime(TrustedRange.objects.get().added_at)
    assert added_on.strftime("%Y-%m-%d %H:%M") in page


def test_tab_shows_cidr_help_text_beside_the_ip_range_field(portal_client, install):
    page = portal_client.get(list_url(install)).content.decode()
    help_text = TrustedRangeForm.base_fields["network"].help_text
    assert f'<div id="id_network_helptext" class="form-text">{html.escape(help_text)}</div>' in page
    assert "CIDR" in help_text
    assert "203.0.113.0/24" in help_text


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_adding_a_range_stores_it_canonical_and_records_who_added_it(
    portal_client, portal_admin, install, typed, stored
):
    response = add(portal_client, install, typed)
    assert response.status_code == 302
    trusted = TrustedRange.objects.get(install=install)
    assert trusted.network == stored
    assert trusted.added_by == portal_admin
    assert trusted.added_by_label == portal_admin.username


@pytest.mark.parametrize(("typed", "code", "named"), REFUSED)
def test_refused_range_shows_its_message_beside_the_field_and_saves_nothing(
    portal_client, install, field_error, typed, code, named
):
    response = add(portal_client, install, typed)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.as_data()["network"][0].code == code
    assert field_error(response, "network") == form.errors["network"][0]
    if code != "required":
        assert named in field_error(response, "network")
    assert not TrustedRange.objects.exists()
    assert not AuditEvent.objects.exists()


def test_host_bits_message_beside_the_field_names_the_network(portal_client, install, field_error):
    response = add(portal_client, install, "203.0.113.7/24")
    assert "Did you mean 203.0.113.0/24?" in field_error(response, "network")


def test_duplicate_range_is_refused_beside_the_field(
    portal_client, install, trusted_range, field_error
):
    response = add(portal_client, install, f" {trusted_range.network} ")
    assert trusted_range.network in field_error(response, "network")
    assert "already" in field_error(response, "network")
    assert TrustedRange.objects.filter(install=install).count() == 1


def test_same_range_can_be_trusted_by_another_install_of_the_account(
    portal_client, install, trusted_range
):
    second = InstallFactory(account=install.account)
    assert add(portal_client, second, trusted_range.network).status_code == 302
    assert TrustedRange.objects.filter(network=trusted_range.network).count() == 2


def test_range_inside_a_trusted_range_is_saved_with_a_warning_naming_the_cover(
    portal_client, install, trusted_range
):
    response = add(portal_client, install, "203.0.113.128/25", description="Top half")
    assert TrustedRange.objects.filter(install=install, network="203.0.113.128/25").exists()
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert trusted_range.network in warnings[0]
    shown = portal_client.get(response.url).content.decode()
    assert 'class="alert alert-warning"' in shown


def test_range_not_inside_another_is_saved_without_a_warning(portal_client, install, trusted_range):
    response = add(portal_client, install, "198.51.100.0/24")
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_refused_description_is_shown_beside_its_field(portal_client, install, field_error):
    response = add(portal_client, install, "203.0.113.0/24", description="  ")
    assert field_error(response, "description")
    assert not TrustedRange.objects.exists()


def test_remove_link_asks_to_confirm_and_deletes_nothing(portal_client, install, trusted_range):
    response = portal_client.get(delete_url(trusted_range))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Remove <code>{trusted_range.network}</code>" in page
    assert '<form method="post">' in page
    assert TrustedRange.objects.filter(pk=trusted_range.pk).exists()
    assert not AuditEvent.objects.exists()


def test_confirmed_removal_deletes_the_range(portal_client, install, trusted_range):
    response = portal_client.post(delete_url(trusted_range))
    assert response.status_code == 302
    assert response.url == list_url(install)
    assert not TrustedRange.objects.filter(pk=trusted_range.pk).exists()
