"""Export then import is an exact round trip, through the real commands and the real tab.

Whatever a name or a description holds (a formula, an apostrophe, both), the exported file is
inert in a spreadsheet and importing it again changes nothing.
"""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from tests.factories import PbxUserFactory, TrustedRangeFactory
from trustedips.models import TrustedRange
from users.models import PbxUser

pytestmark = pytest.mark.django_db

# Starts of cells that a spreadsheet runs as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRICKY = [
    "'",
    "''",
    "'quoted",
    "'=1+1",
    "''=1+1",
    "'-",
    "'\t x",
    '=HYPERLINK("http://example.com")',
    "=cmd|' /C calc'!A0",
    "+44 20 7946 0000",
    "-",
    "-x",
    "@SUM(A1)",
    "Ann \t= Smith",
    "Ann\r\n=Smith",
    'O\'Neil, "Pat"',
    "Zoë 🙂",
]


def assert_inert(exported: str) -> None:
    """No cell of the file, as a spreadsheet reads it, starts as a formula would."""
    for cells in csv.reader(io.StringIO(exported, newline="")):
        for cell in cells:
            assert not cell.startswith(FORMULA_STARTS), cell


class Stdin(io.StringIO):
    buffer: io.BytesIO  # sys.stdin has one; `bulk.commands` reads the bytes from it


def command(name: str, *args: str, stdin: bytes | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out, "stderr": io.StringIO()}
    if stdin is not None:
        stream = Stdin()
        stream.buffer = io.BytesIO(stdin)
        options["stdin"] = stream
    call_command(name, "--domain", "acme.pbx.test", *args, **options)
    return out.getvalue()


def users_round_trip_through_the_commands() -> str:
    """export_users, then import_users --apply of what it wrote; returns the import's output."""
    exported = command("export_users")
    assert_inert(exported)
    return command("import_users", "--apply", stdin=exported.encode())


@pytest.mark.parametrize("name", TRICKY)
def test_a_user_name_survives_export_then_import_through_the_commands(install, name):
    PbxUserFactory(install=install, extension="1001", name=name, hot_desk_access=False)

    output = users_round_trip_through_the_commands()

    assert "1 unchanged" in output
    assert PbxUser.objects.get().name == name
    assert not AuditEvent.objects.exists()


# Any name the User Settings form stores as given: stripped, no NUL, no lone surrogate (no
# browser or UTF-8 file can carry one), 120 characters at most.
_names = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=120
).filter(lambda name: name == name.strip())


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=_names)
@example(name="'=1")
@example(name="''")
def test_any_user_name_survives_export_then_import_through_the_commands(install, name):
    PbxUser.objects.filter(install=install).delete()
    PbxUserFactory(install=install, extension="1001", name=name, hot_desk_access=False)

    output = users_round_trip_through_the_commands()

    assert "1 unchanged" in output
    assert PbxUser.objects.get().name == name


@pytest.mark.parametrize("description", [d for d in TRICKY if d.strip() == d])
def test_a_range_description_survives_export_then_import_through_the_commands(install, description):
    TrustedRangeFactory(install=install, network="203.0.113.0/24", description=description)

    exported = command("export_trusted_ips")
    assert_inert(exported)
    output = command("import_trusted_ips", "--apply", stdin=exported.encode())

    assert "1 unchanged" in output
    assert TrustedRange.objects.get().description == description


@pytest.mark.parametrize("name", ["'=1+1", "''", "'quoted", "=cmd|' /C calc'!A0", "-"])
def test_a_user_name_survives_export_then_import_through_the_tab(
    portal_client, upload, install, name
):
    PbxUserFactory(install=install, extension="1001", name=name, hot_desk_access=False)
    exported = portal_client.get(
        reverse("bulk:export", kwargs={"install_pk": install.pk, "kind": "users"})
    ).content
    assert_inert(exported.decode())

    preview = upload("users", exported)
    assert [row.action.value for row in preview.context["plan"].rows] == ["unchanged"]
    applied = upload("users", exported, fingerprint=preview.context["fingerprint"], apply=True)

    assert applied.status_code == 302
    assert PbxUser.objects.get().name == name
    assert not AuditEvent.objects.exists()
