"""The Users tab and User Settings: list, search, pages, add, edit, remove, and the PIN."""

import hashlib
import logging
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from tests.factories import InstallFactory, PbxUserFactory
from tests.users.test_validators import EXTENSION, WEAK_PINS
from users.models import PbxUser
from users.validators import validate_pin

pytestmark = pytest.mark.django_db

NEW_PIN = "4826"


@pytest.fixture
def pbx_user(install):
    """Extension 1357 without Hot Desk Access or a PIN."""
    return PbxUserFactory(install=install, extension=EXTENSION, name="Ann Smith")


def expected_ha1(pbx_user, pin):
    """HA1 = md5("extension:domain:pin"), worked out here rather than by the code under test."""
    return hashlib.md5(
        f"{pbx_user.extension}:{pbx_user.install.sip_domain}:{pin}".encode()
    ).hexdigest()


def list_url(install):
    return reverse("users:list", kwargs={"install_pk": install.pk})


def edit_url(pbx_user):
    return reverse("users:edit", kwargs={"install_pk": pbx_user.install_id, "pk": pbx_user.pk})


def add_url(install):
    return reverse("users:add", kwargs={"install_pk": install.pk})


def delete_url(pbx_user):
    return reverse("users:delete", kwargs={"install_pk": pbx_user.install_id, "pk": pbx_user.pk})


def save(client, pbx_user, **data):
    """Submit User Settings as the browser does: every field, unticked boxes left out."""
    data = {"name": pbx_user.name, "pin": "", **data}
    return client.post(edit_url(pbx_user), {k: v for k, v in data.items() if v is not None})


def page_without_csrf_tokens(response) -> str:
    # A CSRF token is random text that could hold any four digits by chance.
    return re.sub(r'value="[A-Za-z0-9]{64}"', "", response.content.decode())


def pin_input(response) -> str:
    match = re.search(r'<input[^>]*name="pin"[^>]*>', response.content.decode())
    assert match is not None
    return match.group(0)


def rows(response) -> dict[str, str]:
    """The Users table, extension -> the row's text."""
    found = re.findall(r'<tr data-extension="(\d{4})">(.*?)</tr>', response.content.decode(), re.S)
    return {ext: " ".join(re.sub(r"<[^>]+>", " ", row).split()) for ext, row in found}


# --- User Settings: the PIN ---------------------------------------------------------------


def test_saving_a_pin_stores_its_ha1_and_when_it_was_set(portal_client, pbx_user):
    response = save(portal_client, pbx_user, hot_desk_access="on", pin=NEW_PIN)
    assert response.status_code == 302
    pbx_user.refresh_from_db()
    assert pbx_user.hot_desk_access
    assert pbx_user.pin_ha1 == expected_ha1(pbx_user, NEW_PIN)
    assert pbx_user.pin_set_at is not None


@pytest.mark.parametrize(("pin", "code"), WEAK_PINS)
def test_guessable_pin_is_refused_beside_the_field_and_nothing_changes(
    portal_client, install, field_error, pin, code
):
    pbx_user = PbxUserFactory(install=install, extension=EXTENSION, pin="2468")
    before = PbxUser.objects.values().get(pk=pbx_user.pk)

    response = save(portal_client, pbx_user, hot_desk_access="on", pin=pin)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.as_data()["pin"][0].code == code
    assert field_error(response, "pin") == form.errors["pin"][0]
    assert PbxUser.objects.values().get(pk=pbx_user.pk) == before
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("pin", ["246", "24a8"])
def test_pin_that_is_not_four_digits_is_refused_beside_the_field(
    portal_client, pbx_user, field_error, pin
):
    response = save(portal_client, pbx_user, pin=pin)
    assert "4 digits" in field_error(response, "pin")
    pbx_user.refresh_from_db()
    assert not pbx_user.has_pin


def test_refused_pin_is_kept_in_the_field_of_an_uncached_page(portal_client, pbx_user):
    # The issue "One clear PIN error": what was typed stays, on the refusal only.
    response = save(portal_client, pbx_user, pin="1234")
    assert response.status_code == 200
    assert 'value="1234"' in pin_input(response)
    assert response["Cache-Control"] == "no-store"


def test_good_pin_is_not_rendered_back_when_another_field_is_refused(portal_client, pbx_user):
    response = save(portal_client, pbx_user, name="x" * 121, pin=NEW_PIN)
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert NEW_PIN not in page_without_csrf_tokens(response)


def test_pin_field_of_a_user_with_a_pin_is_empty(portal_client, install):
    pbx_user = PbxUserFactory(install=install, pin=NEW_PIN)
    response = portal_client.get(edit_url(pbx_user))
    assert "value=" not in pin_input(response)
    assert NEW_PIN not in page_without_csrf_tokens(response)


def test_pin_never_appears_in_pages_audit_trail_or_logs(portal_client, pbx_user, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")

    saved = save(portal_client, pbx_user, hot_desk_access="on", pin=NEW_PIN)
    pages = [saved, portal_client.get(saved.url), portal_client.get(edit_url(pbx_user))]

    pbx_user.refresh_from_db()
    assert pbx_user.pin_ha1 == expected_ha1(pbx_user, NEW_PIN)
    for response in pages:
        assert NEW_PIN not in page_without_csrf_tokens(response)
        assert NEW_PIN not in response.get("Location", "")
    assert AuditEvent.objects.exists()
    for event in AuditEvent.objects.values():
        assert NEW_PIN not in str(event)
    assert NEW_PIN not in caplog.text
    assert not [r for r in caplog.records if NEW_PIN in str(r.args)]
    assert NEW_PIN not in str(dict(portal_client.session))


def test_pin_change_is_audited_as_pin_changed_without_the_value(
    portal_client, portal_admin, pbx_user
):
    save(portal_client, pbx_user, pin=NEW_PIN)
    event = AuditEvent.objects.get(action=Action.PIN_CHANGED)
    assert event.actor == portal_admin
    assert event.object_repr == str(pbx_user)
    assert event.changes == {}
    assert event.get_action_display() == "PIN changed"


def test_empty_pin_field_keeps_the_existing_pin(portal_client, install):
    pbx_user = PbxUserFactory(install=install, name="Ann Smith", pin="2468")
    kept = pbx_user.pin_ha1

    response = save(portal_client, pbx_user, name="Ann Jones", hot_desk_access="on", pin="")

    assert response.status_code == 302
    pbx_user.refresh_from_db()
    assert pbx_user.name == "Ann Jones"
    assert pbx_user.pin_ha1 == kept
    assert not AuditEvent.objects.filter(action=Action.PIN_CHANGED).exists()


def test_hot_desk_access_without_any_pin_is_refused_beside_the_pin_field(
    portal_client, pbx_user, field_error
):
    response = save(portal_client, pbx_user, hot_desk_access="on")
    assert response.status_code == 200
    assert "Set a PIN" in field_error(response, "pin")
    pbx_user.refresh_from_db()
    assert not pbx_user.hot_desk_access


# --- Generate a PIN ----------------------------------------------------------------------


def generated_pin(response) -> str:
    match = re.search(r'data-testid="generated-pin">(\d{4})<', response.content.decode())
    assert match is not None
    return match.group(1)


def test_generate_a_pin_shows_an_acceptable_pin_whose_ha1_was_stored(portal_client, pbx_user):
    response = save(portal_client, pbx_user, hot_desk_access="on", generate_pin="1")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    pin = generated_pin(response)
    validate_pin(pin, extension=pbx_user.extension)
    pbx_user.refresh_from_db()
    assert pbx_user.hot_desk_access
    assert pbx_user.pin_ha1 == expected_ha1(pbx_user, pin)
    assert AuditEvent.objects.filter(action=Action.PIN_CHANGED).count() == 1


def test_generated_pin_is_shown_only_once(portal_client, pbx_user):
    pin = generated_pin(save(portal_client, pbx_user, generate_pin="1"))
    for later in (
        portal_client.get(edit_url(pbx_user)),
        portal_client.get(list_url(pbx_user.install)),
    ):
        assert pin not in page_without_csrf_tokens(later)
    assert pin not in str(dict(portal_client.session))


def test_generate_a_pin_when_adding_a_user_stores_its_ha1(portal_client, install):
    response = portal_client.post(
        add_url(install), {"extension": "2001", "name": "Ben", "generate_pin": "1"}
    )
    pin = generated_pin(response)
    created = PbxUser.objects.get(install=install, extension="2001")
    assert created.pin_ha1 == expected_ha1(created, pin)
    assert response["Cache-Control"] == "no-store"


# --- Adding, renumbering and removing users ----------------------------------------------


def test_adding_a_user_creates_it_in_the_install(portal_client, install):
    response = portal_client.post(add_url(install), {"extension": "2001", "name": "Ben Jones"})
    assert response.status_code == 302
    assert PbxUser.objects.filter(install=install, extension="2001", name="Ben Jones").exists()


def test_adding_a_taken_extension_is_refused_beside_the_field(portal_client, pbx_user, field_error):
    response = portal_client.post(
        add_url(pbx_user.install), {"extension": pbx_user.extension, "name": "Twin"}
    )
    assert response.status_code == 200
    assert pbx_user.extension in field_error(response, "extension")
    assert PbxUser.objects.filter(extension=pbx_user.extension).count() == 1


def test_same_extension_can_be_added_to_a_second_install(portal_client, pbx_user):
    second = InstallFactory(account=pbx_user.install.account)
    response = portal_client.post(add_url(second), {"extension": pbx_user.extension})
    assert response.status_code == 302
    assert PbxUser.objects.filter(extension=pbx_user.extension).count() == 2


@pytest.mark.parametrize("extension", ["100", "10011", "abcd"])
def test_adding_a_malformed_extension_is_refused_beside_the_field(
    portal_client, install, field_error, extension
):
    response = portal_client.post(add_url(install), {"extension": extension, "name": "Ben"})
    assert field_error(response, "extension")
    assert not PbxUser.objects.exists()


def test_extension_cannot_be_changed_when_editing(portal_client, install):
    pbx_user = PbxUserFactory(install=install, extension="1001", pin="2468")
    ha1 = pbx_user.pin_ha1
    response = save(portal_client, pbx_user, extension="2002", name="Renamed")
    assert response.status_code == 302
    pbx_user.refresh_from_db()
    assert (pbx_user.extension, pbx_user.name, pbx_user.pin_ha1) == ("1001", "Renamed", ha1)
    assert not PbxUser.objects.filter(extension="2002").exists()


def test_remove_asks_to_confirm_and_removes_nothing(portal_client, pbx_user):
    response = portal_client.get(delete_url(pbx_user))
    assert response.status_code == 200
    assert f"Remove user <strong>{pbx_user}</strong>?" in response.content.decode()
    assert PbxUser.objects.filter(pk=pbx_user.pk).exists()


def test_confirmed_removal_deletes_the_user(portal_client, pbx_user):
    response = portal_client.post(delete_url(pbx_user))
    assert response.status_code == 302
    assert not PbxUser.objects.filter(pk=pbx_user.pk).exists()


# --- The Users tab -------------------------------------------------------------------------


def test_users_tab_shows_access_and_whether_a_pin_is_set(portal_client, install):
    with_pin = PbxUserFactory(
        install=install, extension="1001", name="Ann", hot_desk_access=True, pin="2468"
    )
    PbxUserFactory(install=install, extension="1002", name="Bob")

    shown = rows(portal_client.get(list_url(install)))

    set_on = timezone.localtime(with_pin.pin_set_at).strftime("%Y-%m-%d %H:%M")
    assert shown["1001"] == f"1001 Ann Yes Yes, {set_on} Edit"
    assert shown["1002"] == "1002 Bob No No Edit"


def test_users_tab_lists_only_the_installs_own_users(portal_client, install, other_install):
    PbxUserFactory(install=install, extension="1001")
    PbxUserFactory(install=other_install, extension="1002")
    assert set(rows(portal_client.get(list_url(install)))) == {"1001"}


@pytest.fixture
def directory(install):
    for extension, name in [
        ("1001", "Ann Smith"),
        ("1002", "Bob Jones"),
        ("2001", "Carol Smithers"),
        ("3100", "Dan Brown"),
    ]:
        PbxUserFactory(install=install, extension=extension, name=name)
    return install


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("10", {"1001", "1002"}),  # extension prefix: 3100 contains "10" but does not start so
        ("1001", {"1001"}),
        ("smith", {"1001", "2001"}),  # name, any case, any part
        ("BROWN", {"3100"}),
        ("9", set()),
    ],
)
def test_search_finds_users_by_extension_prefix_or_name(portal_client, directory, query, found):
    response = portal_client.get(list_url(directory), {"q": query})
    assert set(rows(response)) == found


@pytest.fixture
def crowded_install(install):
    PbxUser.objects.bulk_create(
        PbxUser(install=install, extension=f"{2000 + n}", name=f"Operator {n}") for n in range(120)
    )
    return install


@pytest.mark.parametrize(("page", "count"), [(1, 50), (2, 50), (3, 20)])
def test_users_tab_shows_fifty_users_a_page(portal_client, crowded_install, page, count):
    response = portal_client.get(list_url(crowded_install), {"page": page})
    extensions = sorted(PbxUser.objects.values_list("extension", flat=True))
    assert list(rows(response)) == extensions[(page - 1) * 50 :][:count]
    assert len(rows(response)) == count


def test_page_links_keep_the_search(portal_client, crowded_install):
    response = portal_client.get(list_url(crowded_install), {"q": "Operator"})
    assert 'href="?q=Operator&amp;page=2"' in response.content.decode()
