"""One clear PIN error: beside the field, alone, with what was typed kept (and no more)."""

import re

import pytest
from django.urls import reverse

from tests.factories import PbxUserFactory
from users.forms import PbxUserForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(install):
    """1002, no PIN and no access yet: the case where the two errors used to contradict."""
    return PbxUserFactory(install=install, extension="1002", name="Bob Jones")


def edit_url(user) -> str:
    return reverse("users:edit", kwargs={"install_pk": user.install_id, "pk": user.pk})


def pin_input(response) -> str:
    found = re.search(r'<input[^>]*name="pin"[^>]*>', response.content.decode())
    assert found is not None
    return found.group(0)


def test_a_refused_pin_with_access_ticked_is_one_error_not_two(newcomer):
    form = PbxUserForm(
        {"name": "Bob", "hot_desk_access": "on", "pin": "1234"},
        instance=newcomer,
        install=newcomer.install,
    )
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["pin"]] == ["pin_sequence"]
    assert list(form.errors) == ["pin"]


def test_the_page_shows_the_one_error_beside_the_pin_and_keeps_what_was_typed(
    portal_client, newcomer, field_error
):
    response = portal_client.post(
        edit_url(newcomer), {"name": "Bob Jones", "hot_desk_access": "on", "pin": "1234"}
    )

    assert response.status_code == 200
    assert field_error(response, "pin") == (
        "A straight run of digits (such as 1234 or 9876) is too easy to guess."
    )
    assert "Set a PIN" not in response.content.decode()
    assert 'value="1234"' in pin_input(response)
    assert 'type="password"' in pin_input(response)
    # The typed value is in this page: it must not be kept by the browser or a proxy.
    assert response["Cache-Control"] == "no-store"
    newcomer.refresh_from_db()
    assert not newcomer.hot_desk_access and not newcomer.pin_ha1


def test_access_without_any_pin_still_asks_for_one(portal_client, newcomer, field_error):
    response = portal_client.post(edit_url(newcomer), {"name": "Bob", "hot_desk_access": "on"})
    assert field_error(response, "pin") == "Set a PIN to give this user Hot Desk Access."


def test_an_accepted_pin_is_not_sent_back_when_another_field_is_refused(
    portal_client, newcomer, field_error
):
    response = portal_client.post(edit_url(newcomer), {"name": "x" * 121, "pin": "8264"})

    assert field_error(response, "name")
    assert "value=" not in pin_input(response)
    # ...and the field says so, or saving again would quietly keep the old PIN.
    assert "Type the new PIN again" in response.content.decode()


def test_the_pin_is_never_rendered_on_a_get_or_after_a_save(portal_client, install):
    user = PbxUserFactory(install=install, extension="1003", pin="8264")
    assert "value=" not in pin_input(portal_client.get(edit_url(user)))

    saved = portal_client.post(edit_url(user), {"name": "Cy", "pin": "3917"})

    assert saved.status_code == 302
    assert "value=" not in pin_input(portal_client.get(edit_url(user)))


def test_the_field_is_write_only_until_a_refused_pin():
    assert PbxUserForm.base_fields["pin"].widget.render_value is False
