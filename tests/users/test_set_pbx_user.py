"""`manage.py set_pbx_user`: create or update a PBX user; the PIN only ever from stdin."""

import hashlib
import io
import logging
import sqlite3

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from tests.factories import PbxUserFactory
from tests.users.test_validators import EXTENSION, WEAK_PINS
from users.models import PbxUser

pytestmark = pytest.mark.django_db


@pytest.fixture
def stdin(monkeypatch):
    """Type a line on the command's standard input: `stdin("2468")`."""

    def type_line(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{text}\n"))

    return type_line


def set_pbx_user(*args: str) -> str:
    out = io.StringIO()
    call_command("set_pbx_user", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        set_pbx_user(*args)
    assert caught.value.returncode != 0
    assert "\n" not in str(caught.value)
    return caught.value


def expected_ha1(domain, extension, pin):
    return hashlib.md5(f"{extension}:{domain}:{pin}".encode()).hexdigest()


def test_command_creates_a_user_without_access_by_default(install):
    set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--name", "Ann Smith")
    pbx_user = PbxUser.objects.get(install=install, extension="1001")
    assert pbx_user.name == "Ann Smith"
    assert not pbx_user.hot_desk_access
    assert not pbx_user.has_pin


def test_command_creates_a_hot_desk_user_with_a_pin_from_stdin(install, stdin):
    stdin("2468")
    set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--hot-desk", "--pin-stdin")
    pbx_user = PbxUser.objects.get(install=install, extension="1001")
    assert pbx_user.hot_desk_access
    assert pbx_user.pin_ha1 == expected_ha1(install.sip_domain, "1001", "2468")


def test_command_updates_an_existing_user_and_keeps_what_was_not_given(install, stdin):
    pbx_user = PbxUserFactory(install=install, extension="1001", name="Ann Smith", pin="2468")
    ha1 = pbx_user.pin_ha1

    set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--hot-desk")

    pbx_user.refresh_from_db()
    assert (pbx_user.name, pbx_user.hot_desk_access, pbx_user.pin_ha1) == ("Ann Smith", True, ha1)
    assert PbxUser.objects.count() == 1


def test_command_replaces_the_pin_from_stdin(install, stdin):
    pbx_user = PbxUserFactory(install=install, extension="1001", pin="2468")
    stdin("9021")
    set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--pin-stdin")
    pbx_user.refresh_from_db()
    assert pbx_user.pin_ha1 == expected_ha1(install.sip_domain, "1001", "9021")


def test_no_hot_desk_takes_access_away(install):
    pbx_user = PbxUserFactory(install=install, extension="1001", hot_desk_access=True, pin="2468")
    set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--no-hot-desk")
    pbx_user.refresh_from_db()
    assert not pbx_user.hot_desk_access
    assert pbx_user.has_pin


def test_hot_desk_and_no_hot_desk_together_are_refused(install):
    with pytest.raises(CommandError):
        set_pbx_user(
            "--domain", install.sip_domain, "--extension", "1001", "--hot-desk", "--no-hot-desk"
        )
    assert not PbxUser.objects.exists()


@pytest.mark.parametrize(("pin", "code"), WEAK_PINS)
def test_guessable_pin_is_refused_and_nothing_changes(install, stdin, pin, code):
    pbx_user = PbxUserFactory(install=install, extension=EXTENSION, name="Ann Smith", pin="2468")
    before = PbxUser.objects.values().get(pk=pbx_user.pk)
    stdin(pin)

    refused(
        "--domain", install.sip_domain, "--extension", EXTENSION,
        "--name", "Renamed", "--hot-desk", "--pin-stdin",
    )  # fmt: skip

    assert PbxUser.objects.values().get(pk=pbx_user.pk) == before
    assert not AuditEvent.objects.exists()


def test_each_kind_of_guessable_pin_gets_its_own_message(install, stdin):
    messages = set()
    for pin in ("0000", "1234", "2580", EXTENSION):
        stdin(pin)
        messages.add(
            str(refused("--domain", install.sip_domain, "--extension", EXTENSION, "--pin-stdin"))
        )
    assert len(messages) == 4
    assert not PbxUser.objects.exists()


@pytest.mark.parametrize("pin", ["246", "24680", "24a8"])
def test_pin_that_is_not_four_digits_is_refused(install, stdin, pin):
    stdin(pin)
    refused("--domain", install.sip_domain, "--extension", "1001", "--pin-stdin")
    assert not PbxUser.objects.exists()


def test_empty_stdin_is_refused(install, stdin):
    stdin("")
    assert "PIN" in str(
        refused("--domain", install.sip_domain, "--extension", "1001", "--pin-stdin")
    )
    assert not PbxUser.objects.exists()


def test_hot_desk_access_without_any_pin_is_refused(install):
    assert "PIN" in str(
        refused("--domain", install.sip_domain, "--extension", "1001", "--hot-desk")
    )
    assert not PbxUser.objects.exists()


def test_pin_cannot_be_given_on_the_command_line(install):
    with pytest.raises(CommandError):
        set_pbx_user("--domain", install.sip_domain, "--extension", "1001", "--pin", "2468")
    assert not PbxUser.objects.exists()


@pytest.mark.parametrize("extension", ["100", "10011", "abcd"])
def test_malformed_extension_is_refused(install, extension):
    assert "4 digits" in str(refused("--domain", install.sip_domain, "--extension", extension))
    assert not PbxUser.objects.exists()


def test_unknown_domain_is_refused(db):
    assert "nowhere.pbx.test" in str(refused("--domain", "nowhere.pbx.test", "--extension", "1001"))


def test_pin_never_reaches_output_audit_or_logs(install, stdin, caplog):
    caplog.set_level(logging.DEBUG)
    stdin("9021")
    output = set_pbx_user(
        "--domain", install.sip_domain, "--extension", "1001", "--hot-desk", "--pin-stdin"
    )
    assert "9021" not in output
    assert "9021" not in caplog.text
    events = list(AuditEvent.objects.values())
    assert {event["action"] for event in events} == {Action.USER_ADDED, Action.PIN_CHANGED}
    assert all("9021" not in str(event) for event in events)


def test_weak_pin_exits_non_zero_with_one_stderr_line_in_a_real_process(manage_py):
    domain = "weak-pin.pbx.test"
    manage_py.run("create_install", "--account", "Weak Pin Ltd", "--name", "HQ", "--domain", domain)

    result = manage_py.run(
        "set_pbx_user", "--domain", domain, "--extension", "1001", "--hot-desk", "--pin-stdin",
        stdin="1234\n",
    )  # fmt: skip

    assert result.returncode != 0
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr
    assert "1234" not in result.stdout
    with sqlite3.connect(manage_py.database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM users_pbxuser WHERE extension = '1001'"
        ).fetchone()
    assert count == 0
