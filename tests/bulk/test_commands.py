"""export_users / import_users / export_trusted_ips / import_trusted_ips."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from tests.bulk.conftest import csv_bytes
from tests.factories import PbxUserFactory
from trustedips.models import TrustedRange
from users.models import PbxUser

pytestmark = pytest.mark.django_db

USERS_HEADER = "extension,name,hot_desk_access,pin"


class Stdin(io.StringIO):
    buffer: io.BytesIO  # sys.stdin has one; `bulk.commands` reads the bytes from it

    def __init__(self, data: bytes):
        super().__init__()
        self.buffer = io.BytesIO(data)


def run(name: str, *args: str, stdin: bytes | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out, "stderr": io.StringIO()}
    if stdin is not None:
        options["stdin"] = Stdin(stdin)
    call_command(name, *args, **options)
    return out.getvalue()


def test_import_is_a_dry_run_by_default(install, tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(csv_bytes(USERS_HEADER, "1001,Ann,yes,8264"))

    output = run("import_users", "--domain", "acme.pbx.test", str(path))

    assert "1001" in output and "create" in output and "new PIN" in output
    assert "Dry run, nothing changed: 1 to create" in output
    assert "8264" not in output
    assert not PbxUser.objects.exists()


def test_apply_imports_from_stdin_as_the_command(install):
    output = run(
        "import_users",
        "--domain",
        "acme.pbx.test",
        "--apply",
        stdin=csv_bytes(USERS_HEADER, "1001,Ann,yes,8264"),
    )

    assert "Imported into acme.pbx.test: 1 to create" in output
    assert PbxUser.objects.get().hot_desk_access
    assert set(AuditEvent.objects.values_list("actor_label", flat=True)) == {
        "manage.py import_users"
    }


def test_a_bad_row_is_one_error_line_and_nothing_is_written(install):
    data = csv_bytes(USERS_HEADER, "1001,Ann,yes,8264", "1002,Bob,yes,0000", "1003,Cy,maybe,")
    with pytest.raises(CommandError) as raised:
        run("import_users", "--domain", "acme.pbx.test", "--apply", stdin=data)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Nothing imported: line 3: pin: A PIN of one repeated digit")
    assert message.endswith("(and 1 more rows with errors, listed above)")
    assert "0000" not in message.replace("such as 0000", "")
    assert not PbxUser.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--domain", "nowhere.pbx.test"], "No install has the SIP domain nowhere.pbx.test."),
        (
            ["--domain", "acme.pbx.test", "/nonexistent/users.csv"],
            "Cannot read /nonexistent/users.csv",
        ),
    ],
)
def test_bad_arguments_are_one_clear_error(install, args, message):
    with pytest.raises(CommandError, match=message):
        run("import_trusted_ips", *args, stdin=b"")


def test_unreadable_file_is_one_clear_error(install):
    with pytest.raises(
        CommandError, match="Nothing imported: The first line must name the columns"
    ):
        run("import_trusted_ips", "--domain", "acme.pbx.test", stdin=b"cidr,where\n")


def test_export_then_import_through_the_commands_is_a_no_op(install, trusted_range, tmp_path):
    PbxUserFactory(install=install, extension="1001", name="Ann", hot_desk_access=True, pin="2468")
    users = tmp_path / "users.csv"
    run("export_users", "--domain", "acme.pbx.test", str(users))
    ranges = run("export_trusted_ips", "--domain", "acme.pbx.test")

    assert ranges.splitlines() == ["range,description", "203.0.113.0/24,London office"]
    out_users = run("import_users", "--domain", "acme.pbx.test", "--apply", str(users))
    out_ranges = run(
        "import_trusted_ips", "--domain", "acme.pbx.test", "--apply", stdin=ranges.encode()
    )
    assert "0 to create, 0 to update, 1 unchanged" in out_users
    assert "0 to create, 0 to update, 1 unchanged" in out_ranges
    assert not AuditEvent.objects.exists()


def test_range_import_applies(install):
    run(
        "import_trusted_ips",
        "--domain",
        "acme.pbx.test",
        "--apply",
        stdin=csv_bytes("range,description", "192.0.2.0/24,Leeds"),
    )
    assert TrustedRange.objects.get().added_by_label == "manage.py import_trusted_ips"


def test_real_process_exit_code_and_single_stderr_line(manage_py, tmp_path):
    created = manage_py.run(
        "create_install", "--account", "Bulk Co", "--name", "HQ", "--domain", "bulk.pbx.test"
    )
    assert created.returncode == 0, created.stderr
    bad = "range,description\r\n203.0.113.7/24,London\r\n"

    result = manage_py.run("import_trusted_ips", "--domain", "bulk.pbx.test", "--apply", stdin=bad)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: Nothing imported: line 2: range: 203.0.113.7/24 has host bits set. "
        "Did you mean 203.0.113.0/24?"
    ]
    exported = manage_py.run("export_trusted_ips", "--domain", "bulk.pbx.test")
    assert exported.returncode == 0
    assert exported.stdout.splitlines() == ["range,description"]
