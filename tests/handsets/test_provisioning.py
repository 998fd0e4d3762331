"""The provisioning server: token, trusted sources, per-MAC files, fetch records, proxy header."""

import logging

import pytest

from audit.models import AuditEvent
from audit.trail import Actor
from handsets import services
from handsets.models import Handset, ProvisioningFetch
from tests.factories import HandsetFactory, InstallFactory, ProvisioningProfileFactory

TRUSTED = "203.0.113.20"  # inside the `trusted_range` fixture's 203.0.113.0/24
UNTRUSTED = "198.51.100.7"
YEALINK_UA = "Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56"

pytestmark = pytest.mark.django_db


def test_trusted_source_gets_the_common_file(client, trusted_range, provision_url):
    response = client.get(provision_url(), REMOTE_ADDR=TRUSTED)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("#!version:1.0.0.1\n")
    assert "account.1.sip_server.1.address = acme.pbx.test" in body.splitlines()
    assert "hotdesking.dsskey_password_enable = 1" in body.splitlines()
    fetch = ProvisioningFetch.objects.get()
    assert (fetch.filename, fetch.source_ip, fetch.handset) == ("y000000000000.cfg", TRUSTED, None)


def test_served_file_uses_the_saved_key_settings(
    client, trusted_range, install, provision_url, portal_admin
):
    services.save_key_settings(
        install=install,
        line_key=4,
        label="Desk Login",
        handset_family="",
        actor=Actor.for_user(portal_admin),
    )
    body = client.get(provision_url(), REMOTE_ADDR=TRUSTED).content.decode()
    assert "linekey.4.type = 34" in body.splitlines()
    assert "linekey.4.label = Desk Login" in body.splitlines()


def test_source_outside_trusted_ranges_is_denied_and_logged(
    client, trusted_range, provision_url, caplog
):
    with caplog.at_level(logging.WARNING, logger="handsets.provisioning"):
        response = client.get(provision_url(), REMOTE_ADDR=UNTRUSTED)

    assert response.status_code == 403
    assert "acme.pbx.test" not in response.content.decode()
    assert UNTRUSTED in caplog.text and "acme.pbx.test" in caplog.text
    assert not ProvisioningFetch.objects.exists()


def test_refusal_log_line_does_not_carry_the_token(
    client, trusted_range, provision_url, profile, caplog
):
    # (Request paths, token included, still reach access logs like any URL: docs/handsets.md.)
    with caplog.at_level(logging.DEBUG, logger="handsets.provisioning"):
        client.get(provision_url(), REMOTE_ADDR=UNTRUSTED)
    ours = [r.getMessage() for r in caplog.records if r.name == "handsets.provisioning"]
    assert ours and not any(profile.token in message for message in ours)


def test_install_without_trusted_ranges_serves_nobody(client, provision_url):
    assert client.get(provision_url(), REMOTE_ADDR=TRUSTED).status_code == 403


def test_ranges_of_another_install_do_not_count(client, provision_url, install):
    other = InstallFactory()
    other.trusted_ranges.create(network="203.0.113.0/24", description="Theirs")
    assert client.get(provision_url(), REMOTE_ADDR=TRUSTED).status_code == 403


def test_wrong_token_is_a_404_even_from_a_trusted_source(client, trusted_range, provision_url):
    assert client.get(provision_url(token="x" * 43), REMOTE_ADDR=TRUSTED).status_code == 404


def test_token_of_another_install_is_a_404(client, trusted_range, provision_url):
    other = ProvisioningProfileFactory(install=InstallFactory())
    assert client.get(provision_url(token=other.token), REMOTE_ADDR=TRUSTED).status_code == 404


def test_rotated_token_404s_and_the_new_one_works(
    client, trusted_range, install, profile, portal_admin
):
    old_url = f"/provision/{install.pk}/{profile.token}/y000000000000.cfg"
    assert client.get(old_url, REMOTE_ADDR=TRUSTED).status_code == 200

    rotated = services.rotate_token(install=install, actor=Actor.for_user(portal_admin))

    assert rotated.token != profile.token
    assert client.get(old_url, REMOTE_ADDR=TRUSTED).status_code == 404
    new_url = f"/provision/{install.pk}/{rotated.token}/y000000000000.cfg"
    assert client.get(new_url, REMOTE_ADDR=TRUSTED).status_code == 200
    event = AuditEvent.objects.get(install=install)
    assert event.actor_label == "alice"
    assert profile.token not in str(event.changes) and rotated.token not in str(event.changes)


def test_registered_handset_gets_its_mac_file_and_the_fetch_is_recorded(
    client, trusted_range, handset, provision_url
):
    response = client.get(
        provision_url("805ec0123456.cfg"), REMOTE_ADDR=TRUSTED, HTTP_USER_AGENT=YEALINK_UA
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "# Handset: Desk 12 (80:5e:c0:12:34:56), SIP-T46S" in body.splitlines()
    assert "account.1.sip_server.1.address = acme.pbx.test" in body.splitlines()
    handset.refresh_from_db()
    assert handset.last_fetched_from == TRUSTED
    assert handset.last_fetched_at is not None
    fetch = ProvisioningFetch.objects.get()
    assert (fetch.handset, fetch.filename, fetch.user_agent) == (
        handset,
        "805ec0123456.cfg",
        YEALINK_UA,
    )


def test_unknown_mac_is_a_404(client, trusted_range, handset, provision_url):
    assert client.get(provision_url("805ec0ffffff.cfg"), REMOTE_ADDR=TRUSTED).status_code == 404
    assert not ProvisioningFetch.objects.exists()


def test_handset_of_another_install_is_a_404_here(client, trusted_range, provision_url):
    HandsetFactory(install=InstallFactory(), mac="805ec0abcdef")
    assert client.get(provision_url("805ec0abcdef.cfg"), REMOTE_ADDR=TRUSTED).status_code == 404


def test_unknown_mac_from_an_untrusted_source_is_a_404_not_a_403(
    client, trusted_range, provision_url
):
    # Only files that exist are guarded by the source check: a 403 would confirm the name.
    assert client.get(provision_url("805ec0ffffff.cfg"), REMOTE_ADDR=UNTRUSTED).status_code == 404


def test_mac_file_from_an_untrusted_source_is_denied(client, trusted_range, handset, provision_url):
    assert client.get(provision_url("805ec0123456.cfg"), REMOTE_ADDR=UNTRUSTED).status_code == 403
    handset.refresh_from_db()
    assert handset.last_fetched_at is None


def test_common_file_fetch_is_put_down_to_the_handset_its_user_agent_names(
    client, trusted_range, handset, provision_url
):
    client.get(provision_url(), REMOTE_ADDR=TRUSTED, HTTP_USER_AGENT=YEALINK_UA)
    handset.refresh_from_db()
    assert handset.last_fetched_from == TRUSTED
    assert ProvisioningFetch.objects.get().handset == handset


def test_post_is_not_allowed(client, trusted_range, provision_url):
    assert client.post(provision_url(), REMOTE_ADDR=TRUSTED).status_code == 405


def test_directory_url_itself_serves_nothing(client, trusted_range, provision_url):
    assert client.get(provision_url(""), REMOTE_ADDR=TRUSTED).status_code == 404


class TestBehindAReverseProxy:
    PROXY = "192.0.2.1"

    def test_forwarded_header_is_ignored_unless_configured(
        self, client, trusted_range, provision_url, settings
    ):
        settings.PROVISIONING_CLIENT_IP_HEADER = None
        response = client.get(provision_url(), REMOTE_ADDR=UNTRUSTED, HTTP_X_FORWARDED_FOR=TRUSTED)
        assert response.status_code == 403

    def test_configured_header_gives_the_client_address(
        self, client, trusted_range, provision_url, settings
    ):
        settings.PROVISIONING_CLIENT_IP_HEADER = "X-Forwarded-For"
        response = client.get(provision_url(), REMOTE_ADDR=self.PROXY, HTTP_X_FORWARDED_FOR=TRUSTED)
        assert response.status_code == 200
        assert ProvisioningFetch.objects.get().source_ip == TRUSTED

    def test_only_the_entry_our_proxy_appended_counts(
        self, client, trusted_range, provision_url, settings
    ):
        settings.PROVISIONING_CLIENT_IP_HEADER = "X-Forwarded-For"
        forged = f"{TRUSTED}, {UNTRUSTED}"  # the client wrote the first entry, the proxy the last
        response = client.get(provision_url(), REMOTE_ADDR=self.PROXY, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 403

    def test_missing_header_is_denied_rather_than_judged_by_the_proxy_address(
        self, client, install, trusted_range, provision_url, settings
    ):
        settings.PROVISIONING_CLIENT_IP_HEADER = "X-Real-IP"
        install.trusted_ranges.create(network="192.0.2.0/24", description="The proxy's own LAN")
        assert client.get(provision_url(), REMOTE_ADDR=self.PROXY).status_code == 403
        response = client.get(provision_url(), REMOTE_ADDR=self.PROXY, HTTP_X_REAL_IP=TRUSTED)
        assert response.status_code == 200


def test_handset_factory_mac_is_canonical(handset):
    assert Handset.objects.get().mac == "805ec0123456"
