"""The Import / Export tab: export, dry run, confirm with the same file, and what is never shown."""

import logging

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.bulk.conftest import csv_bytes
from tests.factories import PbxUserFactory
from trustedips.models import TrustedRange
from users.models import PbxUser

pytestmark = pytest.mark.django_db

USERS_HEADER = "extension,name,hot_desk_access,pin"
NEW_PIN = "8264"
CLEAN = csv_bytes(USERS_HEADER, f"1001,Ann Smith,yes,{NEW_PIN}", "1002,Bob Jones,no,")


def test_tab_offers_export_and_import_for_both_kinds(portal_client, install):
    response = portal_client.get(reverse("bulk:index", kwargs={"install_pk": install.pk}))
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("bulk:export", kwargs={"install_pk": install.pk, "kind": "users"}) in page
    assert reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": "trusted-ips"}) in page


def test_export_downloads_a_csv_named_for_the_install(portal_client, install, hot_desk_user):
    response = portal_client.get(
        reverse("bulk:export", kwargs={"install_pk": install.pk, "kind": "users"})
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme.pbx.test-users.csv"'
    assert response.content.decode().splitlines() == [USERS_HEADER, "1001,Ann Smith,yes,"]


def test_unknown_kind_is_a_404(portal_client, install):
    url = reverse("bulk:export", kwargs={"install_pk": install.pk, "kind": "pins"})
    assert portal_client.get(url).status_code == 404


def test_upload_shows_the_dry_run_and_writes_nothing(upload, install):
    response = upload("users", CLEAN)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = [(row.line, row.key, row.action.value) for row in response.context["plan"].rows]
    assert rows == [(2, "1001", "create"), (3, "1002", "create")]
    page = response.content.decode()
    assert "Apply import" in page and 'data-action="create"' in page
    assert not PbxUser.objects.exists()


def test_preview_of_a_bad_file_shows_every_error_by_line_and_offers_no_apply(upload, install):
    data = csv_bytes(
        USERS_HEADER, "1001,Ann,yes,1111", "1002,Bob,no,", "1002,Bob again,no,", "1003,short"
    )

    response = upload("users", data)

    page = response.content.decode()
    assert 'data-line="2" data-action="error"' in page and "one repeated digit" in page
    assert 'data-line="4" data-action="error"' in page and "already on line 3" in page
    assert 'data-line="5" data-action="error"' in page and "Expected 4 fields" in page
    assert "Apply import" not in page
    assert "1111" not in page
    assert not PbxUser.objects.exists()


def test_preview_of_a_bad_range_file_names_the_range_meant(upload, install):
    response = upload("trusted-ips", csv_bytes("range,description", "203.0.113.7/24,London"))
    assert "Did you mean 203.0.113.0/24?" in response.content.decode()
    assert not TrustedRange.objects.exists()


def test_confirming_with_the_same_file_applies_it(upload, install):
    preview = upload("users", CLEAN)

    response = upload("users", CLEAN, fingerprint=preview.context["fingerprint"], apply=True)

    assert response.status_code == 302
    assert set(PbxUser.objects.values_list("extension", flat=True)) == {"1001", "1002"}
    assert AuditEvent.objects.filter(action=Action.PIN_CHANGED, actor_label="alice").count() == 1


def test_confirming_with_another_file_applies_nothing_and_shows_the_new_preview(upload, install):
    preview = upload("users", CLEAN)
    other = csv_bytes(USERS_HEADER, "1001,Ann Smith,yes,3917", "1002,Bob Jones,no,")

    response = upload("users", other, fingerprint=preview.context["fingerprint"], apply=True)

    assert response.status_code == 200
    assert response.context["stale"]
    assert "not the file you previewed" in response.content.decode()
    assert not PbxUser.objects.exists()


def test_confirming_after_the_install_changed_applies_nothing(upload, install):
    preview = upload("users", CLEAN)
    PbxUserFactory(
        install=install, extension="1002", name="Bob Jones"
    )  # "create" is now "unchanged"

    response = upload("users", CLEAN, fingerprint=preview.context["fingerprint"], apply=True)

    assert response.context["stale"]
    assert not PbxUser.objects.filter(extension="1001").exists()


def test_apply_without_a_fingerprint_is_only_a_preview(upload, install):
    response = upload("users", CLEAN, apply=True)
    assert response.status_code == 200
    assert not PbxUser.objects.exists()


def test_pins_are_never_echoed_in_the_preview_the_confirmation_or_the_logs(upload, install, caplog):
    with caplog.at_level(logging.DEBUG):
        preview = upload("users", CLEAN)
        done = upload("users", CLEAN, fingerprint=preview.context["fingerprint"], apply=True)
        follow = upload("users", csv_bytes(USERS_HEADER, "1003,Cy,yes,9876"))

    for response in (preview, done, follow):
        assert NEW_PIN.encode() not in response.content
    assert b"9876" not in follow.content.replace(b"1234 or 9876", b"")
    assert NEW_PIN not in caplog.text
    assert NEW_PIN not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert not any(NEW_PIN in str(value) for value in done.client.session.values())


def test_an_unreadable_file_is_one_message(upload, install):
    response = upload("users", b"\xff\xfe not utf-8")
    assert "not UTF-8" in response.content.decode()
    assert not PbxUser.objects.exists()


def test_posting_without_a_file_shows_the_error_beside_the_field(portal_client, install):
    url = reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": "users"})
    response = portal_client.post(url, {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_get_on_the_import_url_goes_back_to_the_tab(portal_client, install):
    url = reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": "users"})
    assert portal_client.get(url)["Location"] == reverse(
        "bulk:index", kwargs={"install_pk": install.pk}
    )
