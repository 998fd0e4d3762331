"""`prune_registration_log` and `create_sip_credential`."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from kamailio import credentials as edge_auth
from kamailio.models import SipCredential
from registrations.management.commands import prune_registration_log
from registrations.models import EventKind, RegistrationLogEntry

from .helpers import CHECK_URL, basic, check_params

pytestmark = pytest.mark.django_db


def command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


# --- prune_registration_log --------------------------------------------------------------------


def entries_aged(install, *ages: timedelta) -> list[int]:
    pks = []
    for age in ages:
        entry = RegistrationLogEntry.objects.create(
            install=install, kind=EventKind.CHECK, allowed=True, reason="ok", extension="1001"
        )
        RegistrationLogEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - age)
        pks.append(entry.pk)
    return pks


def test_prune_deletes_only_entries_older_than_the_cutoff_and_says_how_many(install):
    old = entries_aged(install, timedelta(days=91), timedelta(days=400))
    kept = entries_aged(install, timedelta(days=89), timedelta(hours=1), timedelta(0))

    out = command("prune_registration_log", "--older-than-days", "90")

    assert sorted(RegistrationLogEntry.objects.values_list("pk", flat=True)) == sorted(kept)
    assert not RegistrationLogEntry.objects.filter(pk__in=old).exists()
    assert "Deleted 2 registration log entries older than 90 days." in out


def test_prune_works_through_more_rows_than_one_batch(install, monkeypatch):
    monkeypatch.setattr(prune_registration_log.Command, "batch_size", 3)
    entries_aged(install, *[timedelta(days=100 + n) for n in range(8)])
    kept = entries_aged(install, timedelta(days=1))

    out = command("prune_registration_log", "--older-than-days", "90")

    assert list(RegistrationLogEntry.objects.values_list("pk", flat=True)) == kept
    assert "Deleted 8 " in out


def test_prune_with_nothing_old_deletes_nothing(install):
    entries_aged(install, timedelta(days=1))

    out = command("prune_registration_log", "--older-than-days", "90")

    assert RegistrationLogEntry.objects.count() == 1
    assert "Deleted 0 " in out


@pytest.mark.parametrize("days", ["0", "-5"])
def test_prune_refuses_a_cutoff_below_one_day(install, days):
    entries_aged(install, timedelta(days=2), timedelta(0))

    with pytest.raises(CommandError, match="at least 1"):
        command("prune_registration_log", "--older-than-days", days)

    assert RegistrationLogEntry.objects.count() == 2


def test_prune_requires_the_age(install):
    with pytest.raises(CommandError, match="--older-than-days"):
        command("prune_registration_log")


# --- create_sip_credential ---------------------------------------------------------------------


def test_created_credential_prints_a_secret_once_that_then_authenticates(hot_desk_user):
    out = command("create_sip_credential", "--name", "edge-9")
    secret = out.strip().splitlines()[-1]

    edge = Client(HTTP_AUTHORIZATION=basic("edge-9", secret))
    response = edge.get(CHECK_URL, check_params())

    assert response.status_code == 200
    assert len(secret) >= 32
    assert out.count(secret) == 1


def test_only_the_sha256_of_the_secret_is_stored(db):
    out = command("create_sip_credential", "--name", "edge-9")
    secret = out.strip().splitlines()[-1]

    credential = SipCredential.objects.get(name="edge-9")
    assert credential.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in SipCredential.objects.values_list().get()]
    assert not any(secret in value for value in stored)


def test_each_credential_gets_its_own_secret(db):
    first = command("create_sip_credential", "--name", "edge-8").strip().splitlines()[-1]
    second = command("create_sip_credential", "--name", "edge-9").strip().splitlines()[-1]

    assert first != second


def test_a_credential_with_an_rpc_url_prints_the_digest_its_edge_checks(db):
    out = command(
        "create_sip_credential", "--name", "edge-9", "--rpc-url", "http://127.0.0.1:5098/RPC"
    )

    credential = SipCredential.objects.get(name="edge-9")
    assert credential.rpc_url == "http://127.0.0.1:5098/RPC"
    header = edge_auth.rpc_authorization(credential)
    digest = hashlib.sha256(header.encode()).hexdigest()
    assert out.splitlines()[-1] == f'#!substdef "!HOTDESK_RPC_AUTH_SHA256!{digest}!"'
    assert header.removeprefix("Bearer ") not in out


def test_the_rpc_authorization_changes_with_the_secret_and_the_secret_key(settings):
    credential = SipCredential(name="edge-9", secret_sha256=hashlib.sha256(b"one").hexdigest())
    first = edge_auth.rpc_authorization(credential)
    rotated = SipCredential(name="edge-9", secret_sha256=hashlib.sha256(b"two").hexdigest())

    assert edge_auth.rpc_authorization(rotated) != first
    settings.SECRET_KEY = "another-secret-key-for-this-test-only"
    assert edge_auth.rpc_authorization(credential) != first


def test_the_rpc_digest_can_be_printed_again_for_an_existing_edge(db):
    created = command(
        "create_sip_credential", "--name", "edge-9", "--rpc-url", "http://127.0.0.1:5098/RPC"
    )

    again = command("sip_rpc_digest", "--name", "edge-9")

    assert again.strip() == created.splitlines()[-1]


def test_the_rpc_digest_of_an_unknown_edge_is_one_clear_error(db):
    with pytest.raises(CommandError, match="no SIP edge credential named edge-404"):
        command("sip_rpc_digest", "--name", "edge-404")


def test_a_bad_rpc_url_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="URL"):
        command("create_sip_credential", "--name", "edge-9", "--rpc-url", "not a url")

    assert not SipCredential.objects.exists()


def test_duplicate_credential_name_is_refused(db):
    command("create_sip_credential", "--name", "edge-9")
    before = SipCredential.objects.get(name="edge-9").secret_sha256

    with pytest.raises(CommandError, match="edge-9"):
        command("create_sip_credential", "--name", "edge-9")

    assert SipCredential.objects.get(name="edge-9").secret_sha256 == before


def test_credential_limited_to_networks_is_refused_elsewhere(hot_desk_user):
    out = command("create_sip_credential", "--name", "edge-9", "--allow-from", "198.51.100.0/24")
    edge = Client(HTTP_AUTHORIZATION=basic("edge-9", out.strip().splitlines()[-1]))

    inside = edge.get(CHECK_URL, check_params(), REMOTE_ADDR="198.51.100.4")
    outside = edge.get(CHECK_URL, check_params(), REMOTE_ADDR="203.0.113.4")

    assert (inside.status_code, outside.status_code) == (200, 401)


def test_credential_with_a_malformed_network_is_refused(db):
    with pytest.raises(CommandError):
        command("create_sip_credential", "--name", "edge-9", "--allow-from", "198.51.100.1/24")

    assert not SipCredential.objects.exists()


def test_credential_name_must_be_a_slug(db):
    with pytest.raises(CommandError):
        command("create_sip_credential", "--name", "edge 9")

    assert not SipCredential.objects.exists()
