"""`manage.py check_registration`: the operator's door to the same decision as the API."""

import io
import json
import sys

import pytest
from django.core.management import CommandError, call_command

from registrations.models import Lockout, RegistrationLogEntry
from tests.conftest import GOOD_PIN

from .conftest import DEPLOYED_PIN

BASE = ("--domain", "acme.pbx.test", "--extension", "1001")


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int | str | None, str]:
    """call_command with exit status: 0 unless the command raised SystemExit."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    try:
        call_command("check_registration", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


# --- In process --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_trusted_source_prints_allow_and_exits_0(hot_desk_user):
    assert run(*BASE, "--ip", "203.0.113.7") == (0, "ALLOW\n")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--ip", "192.0.2.7"), "untrusted_source"),
        (("--ip", "203.0.113.7/24"), "malformed_source"),
        (("--ip", "203.0.113.7", "--extension", "1999"), "unknown_extension"),
        (("--ip", "203.0.113.7", "--domain", "nowhere.pbx.test"), "unknown_domain"),
    ],
)
def test_denial_prints_its_reason_and_exits_1(hot_desk_user, args, reason):
    assert run(*BASE, *args) == (1, f"DENY {reason}\n")


@pytest.mark.django_db
def test_json_output_is_one_object_with_decision_and_reason(hot_desk_user):
    status, out = run(*BASE, "--ip", "192.0.2.7", "--json")

    assert status == 1
    assert json.loads(out) == {
        "decision": "deny",
        "reason": "untrusted_source",
        "domain": "acme.pbx.test",
        "extension": "1001",
        "ip": "192.0.2.7",
    }


@pytest.mark.django_db
def test_json_output_of_an_allow(hot_desk_user):
    status, out = run(
        "--domain", "ACME.pbx.test", "--extension", "1001", "--ip", "203.0.113.7", "--json"
    )

    assert status == 0
    assert json.loads(out)["decision"] == "allow"
    assert json.loads(out)["reason"] == "ok"
    assert hot_desk_user.pin_ha1 not in out


@pytest.mark.django_db
def test_right_pin_on_stdin_is_allowed(hot_desk_user, monkeypatch):
    result = run(
        *BASE, "--ip", "203.0.113.7", "--pin-stdin", stdin=f"{GOOD_PIN}\n", monkeypatch=monkeypatch
    )

    assert result == (0, "ALLOW\n")


@pytest.mark.django_db
def test_right_pin_is_checked_against_the_canonical_domain(hot_desk_user, monkeypatch):
    result = run(
        "--domain",
        "Acme.PBX.test",
        "--extension",
        "1001",
        "--ip",
        "203.0.113.7",
        "--pin-stdin",
        stdin=f"{GOOD_PIN}\n",
        monkeypatch=monkeypatch,
    )

    assert result == (0, "ALLOW\n")


@pytest.mark.django_db
def test_wrong_pin_on_stdin_is_denied_and_never_counts_toward_a_lockout(hot_desk_user, monkeypatch):
    results = [
        run(*BASE, "--ip", "203.0.113.7", "--pin-stdin", stdin="1357\n", monkeypatch=monkeypatch)
        for _ in range(12)
    ]

    assert set(results) == {(1, "DENY wrong_pin\n")}
    assert not Lockout.objects.exists()
    assert run(*BASE, "--ip", "203.0.113.7") == (0, "ALLOW\n")


@pytest.mark.django_db
def test_pin_check_does_not_hide_an_earlier_denial(hot_desk_user, monkeypatch):
    result = run(
        *BASE, "--ip", "192.0.2.7", "--pin-stdin", stdin=f"{GOOD_PIN}\n", monkeypatch=monkeypatch
    )

    assert result == (1, "DENY untrusted_source\n")


@pytest.mark.django_db
def test_operator_check_is_not_written_to_the_registration_log(hot_desk_user):
    run(*BASE, "--ip", "203.0.113.7")

    assert not RegistrationLogEntry.objects.exists()


@pytest.mark.django_db
def test_missing_ip_is_a_usage_error(hot_desk_user):
    with pytest.raises(CommandError, match="--ip"):
        call_command("check_registration", *BASE)


@pytest.mark.django_db
def test_empty_stdin_for_the_pin_is_a_usage_error(hot_desk_user, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    with pytest.raises(CommandError) as raised:
        call_command("check_registration", *BASE, "--ip", "203.0.113.7", "--pin-stdin")

    assert raised.value.returncode == 2


# --- As a real process, for the exit codes -------------------------------------------------------


def test_process_exits_0_and_prints_allow(deployment):
    done = deployment.manage("check_registration", *BASE, "--ip", "203.0.113.7")

    assert (done.returncode, done.stdout) == (0, "ALLOW\n")


def test_process_exits_1_and_prints_the_denial(deployment):
    done = deployment.manage("check_registration", *BASE, "--ip", "192.0.2.7")

    assert (done.returncode, done.stdout) == (1, "DENY untrusted_source\n")


def test_process_json_output_is_one_object(deployment):
    done = deployment.manage("check_registration", *BASE, "--ip", "192.0.2.7", "--json")

    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert (answer["decision"], answer["reason"]) == ("deny", "untrusted_source")


def test_process_checks_a_pin_from_stdin_without_counting_a_wrong_one(deployment):
    right = deployment.manage(
        "check_registration", *BASE, "--ip", "203.0.113.7", "--pin-stdin", stdin=f"{DEPLOYED_PIN}\n"
    )
    wrong = deployment.manage(
        "check_registration", *BASE, "--ip", "203.0.113.7", "--pin-stdin", stdin="1357\n"
    )

    assert (right.returncode, right.stdout) == (0, "ALLOW\n")
    assert (wrong.returncode, wrong.stdout) == (1, "DENY wrong_pin\n")
    assert "1357" not in wrong.stdout + wrong.stderr
    lockouts = deployment.query(
        "SELECT l.consecutive_failures FROM registrations_lockout l "
        "JOIN users_pbxuser u ON u.id = l.pbx_user_id WHERE u.extension = %s",
        ("1001",),
    )
    assert lockouts == []


@pytest.mark.parametrize(
    ("args", "stdin", "complaint"),
    [
        (BASE, "", "--ip"),
        (("--extension", "1001", "--ip", "203.0.113.7"), "", "--domain"),
        ((*BASE, "--ip", "203.0.113.7", "--pin-stdin"), "", "No PIN"),
        ((*BASE, "--ip", "203.0.113.7", "--bogus"), "", "--bogus"),
    ],
)
def test_process_exits_2_on_bad_usage(deployment, args, stdin, complaint):
    done = deployment.manage("check_registration", *args, stdin=stdin)

    assert done.returncode == 2
    assert complaint in done.stderr
    assert done.stdout == ""
