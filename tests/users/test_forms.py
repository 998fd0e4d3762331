"""User Settings form: extension, Hot Desk Access and the write-only Hot Desk PIN."""

import pytest

from tests.factories import InstallFactory, PbxUserFactory
from tests.users.test_validators import EXTENSION, WEAK_PINS
from users.forms import PbxUserForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx_user(install):
    return PbxUserFactory(install=install, extension=EXTENSION, name="Ann Smith")


def edit_form(pbx_user, **data):
    data = {"name": pbx_user.name, **data}
    return PbxUserForm(data, instance=pbx_user, install=pbx_user.install)


def add_form(install, **data):
    return PbxUserForm({"name": "Ann Smith", **data}, install=install)


def codes(form, field):
    return [error.code for error in form.errors.as_data().get(field, [])]


@pytest.mark.parametrize(("pin", "code"), WEAK_PINS)
def test_guessable_pin_is_refused_on_the_pin_field_with_its_code(pbx_user, pin, code):
    assert codes(edit_form(pbx_user, pin=pin), "pin") == [code]


@pytest.mark.parametrize(
    "pin", ["246", "24680", "24a8", "24 8", "\uff12\uff14\uff16\uff18", "\u0662\u0664\u0666\u0668"]
)
def test_pin_that_is_not_four_digits_is_refused_on_the_pin_field(pbx_user, pin):
    assert codes(edit_form(pbx_user, pin=pin), "pin")


def test_own_extension_is_refused_as_pin_when_adding_a_user(install):
    assert codes(add_form(install, extension="1357", pin="1357"), "pin") == ["pin_extension"]


def test_acceptable_pin_is_accepted(pbx_user):
    form = edit_form(pbx_user, pin="2468", hot_desk_access="on")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["pin"] == "2468"


def test_hot_desk_access_without_any_pin_is_refused_on_the_pin_field(pbx_user):
    assert codes(edit_form(pbx_user, hot_desk_access="on"), "pin") == ["pin_needed"]


def test_hot_desk_access_with_the_existing_pin_needs_no_new_one(install):
    pbx_user = PbxUserFactory(install=install, pin="2468")
    assert edit_form(pbx_user, hot_desk_access="on").is_valid()


def test_hot_desk_access_with_generate_a_pin_needs_no_typed_pin(pbx_user):
    assert edit_form(pbx_user, hot_desk_access="on", generate_pin="1").is_valid()


@pytest.mark.parametrize("extension", ["100", "10011", "10a1", "", "\uff11\uff10\uff10\uff11"])
def test_extension_that_is_not_four_digits_is_refused(install, extension):
    assert codes(add_form(install, extension=extension), "extension")


def test_extension_already_in_the_install_is_refused_on_the_extension_field(pbx_user):
    form = add_form(pbx_user.install, extension=pbx_user.extension)
    assert codes(form, "extension") == ["duplicate_extension"]
    assert pbx_user.extension in form.errors["extension"][0]


def test_extension_used_in_another_install_is_accepted(pbx_user):
    assert add_form(InstallFactory(), extension=pbx_user.extension).is_valid()


def test_extension_cannot_be_changed_when_editing(pbx_user):
    form = edit_form(pbx_user, extension="2001")
    assert form.fields["extension"].disabled
    assert form.is_valid(), form.errors
    assert form.cleaned_data["extension"] == EXTENSION


def test_pin_field_is_write_only():
    widget = PbxUserForm.base_fields["pin"].widget
    assert widget.input_type == "password"
    assert widget.render_value is False
