"""Settings as production runs them (real processes, environment only), and the portal login's
protection against password guessing that they configure (django-axes)."""

import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PortalUserFactory

PASSWORD = "correct horse battery"  # PortalUserFactory's


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the project's Python with exactly `env` (nothing inherited from the test process,
    whose settings module has already put a test SECRET_KEY into os.environ)."""
    base = {"PATH": "/usr/bin:/bin", "HOME": str(settings.BASE_DIR)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def production_env(tmp_path):
    return {
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_check_deploy_reports_only_warnings_the_readme_explains(production_env):
    assert len(production_env["SECRET_KEY"]) >= 50
    result = run_python("manage.py", "check", "--deploy", env=production_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    reported = set(re.findall(r"\((security\.W\d+|[a-z_]+\.W\d+)\)", output))
    readme = (settings.BASE_DIR / "README.md").read_text()
    unexplained = {code for code in reported if code not in readme}
    assert not unexplained, output
    assert "ERROR" not in output.upper()


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off(production_env):
    del production_env["SECRET_KEY"]
    result = run_python("-c", "import infinity.settings", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_settings_refuse_an_empty_secret_key_when_debug_is_off(production_env):
    production_env["SECRET_KEY"] = ""
    result = run_python("-c", "import infinity.settings", env=production_env)
    assert "ImproperlyConfigured" in result.stderr


def test_settings_use_a_development_key_only_when_debug_is_on(production_env):
    del production_env["SECRET_KEY"]
    production_env["DEBUG"] = "true"
    result = run_python("-c", "import infinity.settings as s; print(s.DEBUG)", env=production_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


# --- Portal login guessing (AXES_* settings) ----------------------------------------------


GUESSER = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


def log_in(client, password, address=GUESSER):
    return client.post(
        reverse("login"), {"username": "alice", "password": password}, REMOTE_ADDR=address
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def alice(db):
    return PortalUserFactory(username="alice")


def test_portal_admin_logs_in_with_the_right_password(client, alice):
    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("installs:list")
    assert logged_in(client)


def test_wrong_password_is_refused(client, alice):
    response = log_in(client, "wrong guess")
    assert response.status_code == 200
    assert not logged_in(client)


def test_right_password_still_works_after_four_wrong_ones(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "wrong guess")
    assert log_in(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, alice):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        log_in(client, "wrong guess")

    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert not logged_in(client)


def test_lockout_of_one_address_does_not_lock_the_admin_out_elsewhere(client, alice):
    for _ in range(5):
        log_in(client, "wrong guess", address=GUESSER)
    assert log_in(client, PASSWORD, address=ELSEWHERE).status_code == 302
    assert logged_in(client)
