"""The Add IP Range form: every trusted range rule, plus duplicates within an install."""

import pytest

from tests.factories import InstallFactory, TrustedRangeFactory
from tests.trustedips.test_validators import ACCEPTED, REFUSED
from trustedips.forms import TrustedRangeForm

pytestmark = pytest.mark.django_db


def form_for(install, network, description="London office"):
    return TrustedRangeForm({"network": network, "description": description}, install=install)


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_form_accepts_range_and_cleans_it_to_canonical_form(install, typed, stored):
    form = form_for(install, typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["network"].with_prefixlen == stored


@pytest.mark.parametrize(("typed", "code", "named"), REFUSED)
def test_form_refuses_range_on_the_network_field(install, typed, code, named):
    form = form_for(install, typed)
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["network"]] == [code]
    if code == "required":  # Django's own "required" message comes before parse_network's
        named = str(TrustedRangeForm.base_fields["network"].error_messages["required"])
    assert named in form.errors["network"][0]


@pytest.mark.parametrize("typed", ["203.0.113.0/24", " 203.0.113.0/24 "])
def test_form_refuses_a_range_the_install_already_trusts(install, trusted_range, typed):
    form = form_for(install, typed)
    assert not form.is_valid()
    assert form.errors.as_data()["network"][0].code == "duplicate"
    assert trusted_range.network in form.errors["network"][0]


def test_form_refuses_a_bare_address_already_trusted_as_a_host(install):
    TrustedRangeFactory(install=install, network="203.0.113.7/32")
    assert form_for(install, "203.0.113.7").errors.as_data()["network"][0].code == "duplicate"


def test_form_accepts_a_range_that_another_install_already_trusts(install, trusted_range):
    elsewhere = InstallFactory(account=install.account)
    assert form_for(elsewhere, trusted_range.network).is_valid()


@pytest.mark.parametrize("description", ["", "   "])
def test_form_refuses_a_range_without_a_description(install, description):
    form = form_for(install, "203.0.113.0/24", description=description)
    assert not form.is_valid()
    assert form.errors.as_data()["description"][0].code == "required"


def test_help_text_explains_cidr_with_an_example():
    help_text = TrustedRangeForm.base_fields["network"].help_text
    assert "CIDR" in help_text
    assert "203.0.113.0/24" in help_text
