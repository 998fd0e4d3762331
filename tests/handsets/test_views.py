"""The Handset Setup tab: key settings, the lines, readiness warnings, provisioning, registry."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from handsets import yealink
from handsets.models import Handset, ProvisioningProfile
from tests.factories import HandsetFactory, PbxUserFactory

pytestmark = pytest.mark.django_db


def setup_url(install):
    return reverse("handsets:setup", kwargs={"install_pk": install.pk})


def provisioning_url(install):
    return reverse("handsets:provisioning", kwargs={"install_pk": install.pk})


def test_setup_tab_shows_the_installs_lines_with_its_expiry(portal_client, install):
    install.registration_expiry = 420
    install.save()

    response = portal_client.get(setup_url(install))

    assert response.status_code == 200
    lines = yealink.setting_lines(response.context["config_text"])
    assert "account.1.sip_server.1.expires = 420" in lines
    assert "account.1.sip_server.1.address = acme.pbx.test" in lines
    assert "linekey.2.label = Hot Desking" in lines  # the default key: not the account line
    page = response.content.decode()
    assert "Server Expires" in page and "Login Expire" in page
    assert "DSS Keys" in page and "Line Keys" in page
    # Looking at the tab writes nothing.
    assert not ProvisioningProfile.objects.exists()


def test_saving_key_settings_changes_the_lines_and_is_audited(portal_client, install):
    response = portal_client.post(
        setup_url(install), {"line_key": "3", "label": "Desk Login", "handset_family": ""}
    )

    assert response.status_code == 302
    profile = ProvisioningProfile.objects.get(install=install)
    assert (profile.line_key, profile.label) == (3, "Desk Login")
    lines = yealink.setting_lines(portal_client.get(setup_url(install)).context["config_text"])
    assert "linekey.3.type = 34" in lines and "linekey.3.label = Desk Login" in lines
    event = AuditEvent.objects.get(install=install)
    assert event.action == Action.INSTALL_CHANGED
    assert event.changes["hot-desk key line_key"] == [2, 3]


def test_line_key_past_the_chosen_models_range_is_refused(portal_client, install, field_error):
    response = portal_client.post(
        setup_url(install), {"line_key": "20", "label": "Hot Desking", "handset_family": "T42"}
    )

    assert response.status_code == 200
    assert "line keys 1 to 15" in field_error(response, "line_key")
    assert not ProvisioningProfile.objects.exists()


@pytest.mark.parametrize("line_key", ["0", "30", "abc"])
def test_line_key_outside_any_yealink_range_is_refused(portal_client, install, line_key):
    response = portal_client.post(
        setup_url(install), {"line_key": line_key, "label": "Hot Desking"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["line_key"]


def test_label_with_a_line_break_is_refused(portal_client, install, field_error):
    response = portal_client.post(
        setup_url(install), {"line_key": "1", "label": "Hot\rlinekey.1.type = 0"}
    )
    assert "control characters" in field_error(response, "label")


@pytest.mark.parametrize(
    ("separator", "named"), [("\u2028", "U+2028 LINE SEPARATOR"), ("\u2029", "U+2029")]
)
def test_label_with_a_unicode_line_separator_is_refused_with_the_character_named(
    portal_client, install, field_error, separator, named
):
    response = portal_client.post(
        setup_url(install), {"line_key": "1", "label": f"Hot{separator}linekey.1.type = 0"}
    )

    assert response.status_code == 200
    error = field_error(response, "label")
    assert "line breaks" in error and named in error and "one line" in error
    assert not ProvisioningProfile.objects.exists()


def test_label_with_accents_and_emoji_is_saved(portal_client, install):
    response = portal_client.post(
        setup_url(install), {"line_key": "1", "label": "Bureau à côté 🙂"}
    )

    assert response.status_code == 302
    assert ProvisioningProfile.objects.get(install=install).label == "Bureau à côté 🙂"


def test_download_is_a_cfg_file_of_the_same_lines(portal_client, install):
    response = portal_client.get(reverse("handsets:download", kwargs={"install_pk": install.pk}))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="y000000000000.cfg"'
    text = response.content.decode()
    assert text.startswith("#!version:1.0.0.1\n")
    assert text == portal_client.get(setup_url(install)).context["config_text"]


def test_warns_when_there_is_no_trusted_range_and_no_ready_user(portal_client, install):
    PbxUserFactory(install=install, hot_desk_access=True)  # access, but no PIN
    PbxUserFactory(install=install, hot_desk_access=False, pin="2468")  # PIN, but no access

    problems = portal_client.get(setup_url(install)).context["problems"]

    assert len(problems) == 2
    assert "no trusted IP range" in problems[0]
    assert "Hot Desk Access and a PIN" in problems[1]


def test_no_warning_once_a_range_and_a_ready_user_exist(portal_client, install, hot_desk_user):
    response = portal_client.get(setup_url(install))
    assert response.context["problems"] == []
    assert b"readiness-warning" not in response.content


def test_expiry_over_600_seconds_is_warned_about(portal_client, install, hot_desk_user):
    install.registration_expiry = 900
    install.save()
    problems = portal_client.get(setup_url(install)).context["problems"]
    assert problems == [problems[0]] and "900 s" in problems[0]


def test_provisioning_page_shows_the_url_with_the_token(portal_client, install):
    response = portal_client.get(provisioning_url(install))

    profile = ProvisioningProfile.objects.get(install=install)
    assert response.status_code == 200
    assert response.context["provisioning_url"] == (
        f"http://testserver/provision/{install.pk}/{profile.token}/"
    )
    assert response["Cache-Control"] == "no-store"


def test_rotating_needs_a_post_and_replaces_the_token(portal_client, install):
    portal_client.get(provisioning_url(install))
    old = ProvisioningProfile.objects.get(install=install).token
    rotate = reverse("handsets:rotate", kwargs={"install_pk": install.pk})

    assert portal_client.get(rotate).status_code == 200  # the confirmation page
    assert ProvisioningProfile.objects.get(install=install).token == old
    assert portal_client.post(rotate).status_code == 302
    assert ProvisioningProfile.objects.get(install=install).token != old
    event = AuditEvent.objects.get(install=install, action=Action.PROVISIONING_URL_REISSUED)
    assert event.get_action_display() == "Provisioning URL reissued"


def test_registering_a_handset_canonicalises_its_mac(portal_client, install):
    response = portal_client.post(
        provisioning_url(install),
        {"mac": "80:5E:C0:AB:CD:EF", "desk": " Desk 7 ", "model": "SIP-T46S"},
    )

    assert response.status_code == 302
    handset = Handset.objects.get(install=install)
    assert (handset.mac, handset.desk, handset.added_by_label) == (
        "805ec0abcdef",
        "Desk 7",
        "alice",
    )
    event = AuditEvent.objects.get(install=install)
    assert event.action == Action.HANDSET_REGISTERED
    assert "Desk 7" in event.object_repr


@pytest.mark.parametrize(
    ("mac", "message"),
    [
        ("80:5e:c0:ab:cd", "12 hex digits"),
        ("not a mac", "12 hex digits"),
        ("805ec0123456", "already"),
    ],
)
def test_bad_or_duplicate_mac_is_refused_beside_the_field(
    portal_client, install, handset, field_error, mac, message
):
    response = portal_client.post(provisioning_url(install), {"mac": mac, "desk": "Desk 9"})
    assert response.status_code == 200
    assert message in field_error(response, "mac")
    assert Handset.objects.count() == 1


def test_same_mac_may_be_registered_in_another_install(portal_client, install, other_install):
    HandsetFactory(install=other_install, mac="805ec0abcdef")
    response = portal_client.post(
        provisioning_url(install), {"mac": "805ec0abcdef", "desk": "Desk 1"}
    )
    assert response.status_code == 302


def test_removing_a_handset(portal_client, install, handset):
    url = reverse("handsets:delete", kwargs={"install_pk": install.pk, "pk": handset.pk})
    assert portal_client.get(url).status_code == 200
    assert portal_client.post(url).status_code == 302
    assert not Handset.objects.exists()
    event = AuditEvent.objects.get(install=install, action=Action.HANDSET_REMOVED)
    assert event.actor_label == "alice"


def test_portal_pages_need_a_login(client, install):
    response = client.get(setup_url(install))
    assert response.status_code == 302 and "/login/" in response["Location"]
