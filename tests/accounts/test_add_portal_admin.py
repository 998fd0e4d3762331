"""`manage.py add_portal_admin --password-stdin`: a login that administers one account."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Membership
from tests.factories import AccountFactory, PortalUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "violet-harbour-tandem-87"


@pytest.fixture
def stdin(monkeypatch):
    def type_line(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{text}\n"))

    return type_line


def add_portal_admin(account, username="alice"):
    out = io.StringIO()
    call_command(
        "add_portal_admin", account=account, username=username, password_stdin=True, stdout=out
    )
    return out.getvalue()


def test_command_creates_a_login_that_administers_the_account(account, install, client, stdin):
    stdin(PASSWORD)
    add_portal_admin(account.name)

    user = get_user_model().objects.get(username="alice")
    assert user.check_password(PASSWORD)
    assert list(user.accounts.all()) == [account]
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert list(client.get(reverse("installs:list")).context["installs"]) == [install]


def test_command_finds_the_account_whatever_the_case(account, stdin):
    stdin(PASSWORD)
    add_portal_admin(account.name.upper())
    assert Membership.objects.filter(account=account, user__username="alice").exists()


def test_command_adds_an_existing_login_to_a_second_account(account, stdin):
    existing = PortalUserFactory(username="alice", account=account)
    second = AccountFactory(name="Beta Ltd")
    stdin(PASSWORD)
    add_portal_admin(second.name)
    assert set(existing.accounts.all()) == {account, second}


def test_password_never_appears_in_the_output(account, stdin):
    stdin(PASSWORD)
    assert PASSWORD not in add_portal_admin(account.name)


@pytest.mark.parametrize("password", ["password", "12345678", "alice", "short"])
def test_weak_password_is_refused_and_no_login_is_created(account, stdin, password):
    stdin(password)
    with pytest.raises(CommandError) as caught:
        add_portal_admin(account.name)
    assert caught.value.returncode != 0
    assert "\n" not in str(caught.value)
    assert not get_user_model().objects.exists()


def test_empty_stdin_is_refused(account, stdin):
    stdin("")
    with pytest.raises(CommandError, match="password"):
        add_portal_admin(account.name)
    assert not get_user_model().objects.exists()


def test_unknown_account_is_refused_and_not_created(db, stdin):
    stdin(PASSWORD)
    with pytest.raises(CommandError, match="Nobody Ltd"):
        add_portal_admin("Nobody Ltd")
    assert not get_user_model().objects.exists()


def test_password_cannot_be_given_on_the_command_line(account):
    with pytest.raises(CommandError):
        call_command(
            "add_portal_admin", "--account", account.name, "--username", "alice",
            "--password", PASSWORD,
        )  # fmt: skip
    assert not get_user_model().objects.exists()


def test_command_line_as_documented(account, stdin):
    stdin(PASSWORD)
    call_command(
        "add_portal_admin", "--account", "Acme Ltd", "--username", "alice", "--password-stdin",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)
