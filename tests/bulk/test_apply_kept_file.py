"""Import preview: the summary and Apply first, errors first, and Apply without a new upload."""

import base64
import re

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from bulk import pending
from tests.bulk.conftest import csv_bytes
from tests.factories import InstallFactory, PbxUserFactory
from trustedips.models import TrustedRange
from users.models import PbxUser
from users.pins import pin_ha1

pytestmark = pytest.mark.django_db

USERS_HEADER = "extension,name,hot_desk_access,pin"
NEW_PIN = "8264"
CLEAN = csv_bytes(USERS_HEADER, f"1001,Ann Smith,yes,{NEW_PIN}", "1002,Bob Jones,no,")


def import_url(install, kind: str = "users") -> str:
    return reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": kind})


def apply(client, install, preview, kind: str = "users", **override):
    """Press Apply on `preview`: post back its Apply form, and no file."""
    form = preview.context["apply_form"]
    data = {**form.initial, "apply": "1", **override}
    return client.post(import_url(install, kind), data)


def test_apply_needs_no_second_upload(portal_client, upload, install):
    preview = upload("users", CLEAN)

    response = apply(portal_client, install, preview)

    assert response.status_code == 302
    ann = PbxUser.objects.get(install=install, extension="1001")
    assert ann.hot_desk_access
    assert ann.pin_ha1 == pin_ha1(extension="1001", domain=install.sip_domain, pin=NEW_PIN)
    assert set(PbxUser.objects.values_list("extension", flat=True)) == {"1001", "1002"}
    assert AuditEvent.objects.filter(action=Action.PIN_CHANGED, actor_label="alice").count() == 1
    # Applied once: the kept file is gone.
    assert not portal_client.session.get(pending.SESSION_KEY)


def test_trusted_ranges_apply_without_a_second_upload_too(portal_client, upload, install):
    preview = upload("trusted-ips", csv_bytes("range,description", "203.0.113.0/24,London"))
    assert apply(portal_client, install, preview, "trusted-ips").status_code == 302
    assert TrustedRange.objects.get(install=install).description == "London"


def test_the_summary_and_apply_come_before_the_rows_and_apply_again_after(upload, install):
    PbxUserFactory(install=install, extension="1003", name="Cy")
    data = csv_bytes(USERS_HEADER, "1001,Ann,yes,8264", "1002,Bob,no,", "1003,Cy,no,")
    page = upload("users", data).content.decode()

    summary = re.search(r'data-testid="plan-summary".*?</ul>', page, re.S)
    assert summary is not None
    words = " ".join(re.sub(r"<[^>]+>", " ", summary.group(0).split(">", 1)[1]).split())
    assert words == "2 to add 0 to change 1 unchanged 0 errors"
    buttons = [m.start() for m in re.finditer(r">Apply import</button>", page)]
    table = page.index('<table class="table table-sm" id="plan-rows">')
    assert len(buttons) == 2
    assert page.index('data-testid="plan-summary"') < buttons[0] < table < buttons[1]


def test_rows_in_error_are_listed_first(upload, install):
    data = csv_bytes(USERS_HEADER, "1001,Ann,no,", "1002,Bob,yes,1111", "1003,Cy,no,", "1003,X,no,")
    response = upload("users", data)

    lines = re.findall(r'<tr data-line="(\d+)" data-action="(\w+)"', response.content.decode())
    assert lines == [("3", "error"), ("5", "error"), ("2", "create"), ("4", "create")]
    assert "Apply import" not in response.content.decode()


def test_the_kept_file_is_sealed_its_pins_are_not_in_the_session(portal_client, upload, install):
    upload("users", CLEAN)

    kept = portal_client.session[pending.SESSION_KEY][f"{install.pk}:users"]
    assert set(kept) == {"pending", "sealed", "name", "at"}
    sealed = base64.urlsafe_b64decode(kept["sealed"])
    for text in (NEW_PIN, "Ann Smith", "1001,"):
        assert text.encode() not in sealed
        assert text not in str(dict(portal_client.session)).replace(kept["sealed"], "")


def test_applying_twice_imports_once_and_asks_for_the_file_again(
    portal_client, upload, install, field_error
):
    preview = upload("users", CLEAN)
    apply(portal_client, install, preview)
    PbxUser.objects.filter(extension="1002").delete()

    again = apply(portal_client, install, preview)

    assert again.status_code == 400
    assert "expired or was replaced" in field_error(again, "users_file")
    assert not PbxUser.objects.filter(extension="1002").exists()


def test_a_preview_older_than_the_keeping_time_is_not_applied(
    portal_client, upload, install, monkeypatch, field_error
):
    preview = upload("users", CLEAN)
    monkeypatch.setattr(pending, "PENDING_SECONDS", -1)

    response = apply(portal_client, install, preview)

    assert response.status_code == 400
    assert "Choose the file again" in field_error(response, "users_file")
    assert not PbxUser.objects.exists()


def test_a_newer_preview_replaces_the_older_one(portal_client, upload, install, field_error):
    older = upload("users", CLEAN)
    upload("users", csv_bytes(USERS_HEADER, "1009,Zed,no,"))

    response = apply(portal_client, install, older)

    assert response.status_code == 400
    assert "replaced by a newer one" in field_error(response, "users_file")
    assert not PbxUser.objects.exists()


@pytest.mark.parametrize(
    "override",
    [
        {"key": base64.urlsafe_b64encode(b"k" * 32).decode()},
        {"pending": "someone-elses"},
        {"key": ""},
        {"key": "x" * 200},
    ],
)
def test_a_wrong_or_malformed_ticket_applies_nothing(
    portal_client, upload, install, field_error, override
):
    preview = upload("users", CLEAN)

    response = apply(portal_client, install, preview, **override)

    assert response.status_code == 400
    assert field_error(response, "users_file")
    assert not PbxUser.objects.exists()


def test_a_changed_fingerprint_shows_the_new_preview_and_applies_nothing(
    portal_client, upload, install
):
    preview = upload("users", CLEAN)

    response = apply(portal_client, install, preview, fingerprint="0" * 64)

    assert response.status_code == 200 and response.context["stale"]
    assert not PbxUser.objects.exists()


def test_after_the_install_changed_the_new_preview_can_be_applied(portal_client, upload, install):
    preview = upload("users", CLEAN)
    PbxUserFactory(install=install, extension="1002", name="Bob Jones")  # "create" -> unchanged

    stale = apply(portal_client, install, preview)

    assert stale.status_code == 200 and stale.context["stale"]
    assert "not the file you previewed, or the install has changed" in stale.content.decode()
    assert not PbxUser.objects.filter(extension="1001").exists()
    assert apply(portal_client, install, stale).status_code == 302
    assert PbxUser.objects.filter(extension="1001").exists()


def test_another_installs_ticket_is_not_applied_here(portal_client, upload, install, field_error):
    preview = upload("users", CLEAN)
    mine_too = InstallFactory(account=install.account)

    response = apply(portal_client, mine_too, preview)

    assert response.status_code == 400
    assert not PbxUser.objects.exists()


def test_applying_on_another_accounts_install_is_a_404(
    portal_client, upload, install, other_install
):
    preview = upload("users", CLEAN)
    assert apply(portal_client, other_install, preview).status_code == 404
    assert not PbxUser.objects.exists()


def test_a_file_with_nothing_to_change_keeps_nothing(portal_client, upload, install):
    PbxUserFactory(install=install, extension="1001", name="Ann")
    response = upload("users", csv_bytes(USERS_HEADER, "1001,Ann,no,"))
    assert response.context["apply_form"] is None
    assert not portal_client.session.get(pending.SESSION_KEY)
