"""Fixtures shared by the whole suite."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from kamailio import credentials as edge_auth
from kamailio import edges
from registrations import evaluation
from tests.factories import (
    AccountFactory,
    InstallFactory,
    PbxUserFactory,
    PortalUserFactory,
    SipCredentialFactory,
    TrustedRangeFactory,
)

EDGE_SECRET = "edge-secret-for-tests-0123456789abcdefghij"
GOOD_PIN = "2468"


PROJECT = Path(__file__).resolve().parent.parent


def run_manage(
    env: dict, *args: str, stdin: str = "", timeout: float = 180
) -> subprocess.CompletedProcess:
    """`manage.py ARGS` as a real process with exactly `env`, for exit codes and stderr."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def require_or_skip(available: bool, reason: str) -> None:
    """Skip a test whose external part is missing; in CI (CI=true) that is a failure instead."""
    if available:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    # Per-process caches must not carry one test's credentials or ranges into the next: test
    # transactions roll back, and with them SQLite's id sequence, so ids get reused.
    # The cache holds the edges' location tables (kamailio.edges).
    for reset in (
        edge_auth.forget_cached,
        evaluation.forget_cached_networks,
        edges.forget_down_edges,
        cache.clear,
    ):
        reset()
    yield
    for reset in (
        edge_auth.forget_cached,
        evaluation.forget_cached_networks,
        edges.forget_down_edges,
        cache.clear,
    ):
        reset()


@pytest.fixture
def account(db):
    return AccountFactory(name="Acme Ltd")


@pytest.fixture
def install(account):
    return InstallFactory(account=account, name="Head Office", sip_domain="acme.pbx.test")


@pytest.fixture
def portal_admin(account):
    """An administrator of `account` (and of nothing else)."""
    return PortalUserFactory(username="alice", account=account)


@pytest.fixture
def portal_client(client, portal_admin):
    client.force_login(portal_admin)
    return client


@pytest.fixture
def other_install(db):
    """An install in another customer's account, which `portal_admin` must never see."""
    return InstallFactory(account=AccountFactory(name="Other Co"), sip_domain="other.pbx.test")


@pytest.fixture
def trusted_range(install):
    return TrustedRangeFactory(
        install=install, network="203.0.113.0/24", description="London office"
    )


@pytest.fixture
def hot_desk_user(install, trusted_range):
    """Extension 1001 with Hot Desk Access and PIN 2468, in an install trusting 203.0.113.0/24."""
    return PbxUserFactory(
        install=install, extension="1001", name="Ann Smith", hot_desk_access=True, pin=GOOD_PIN
    )


@pytest.fixture
def edge_credential(db):
    return SipCredentialFactory(name="edge-1", secret=EDGE_SECRET)


@pytest.fixture
def edge_client(client, edge_credential):
    """A test client that authenticates as SIP edge node edge-1, as Kamailio does."""
    token = base64.b64encode(f"edge-1:{EDGE_SECRET}".encode()).decode()
    client.defaults["HTTP_AUTHORIZATION"] = f"Basic {token}"
    return client


# --- Foundation tests: portal pages and management commands --------------------------------


@pytest.fixture
def field_error():
    """Read the error Bootstrap shows beside one field: `field_error(response, "pin")`.

    Returns the text of the field's `invalid-feedback` block (tags stripped), or "" when the
    field has none, so a test can assert that a message sits beside the field it is about.
    """
    import html
    import re

    def read(response, field: str) -> str:
        page = response.content.decode()
        found = re.search(
            rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>', page, re.S
        )
        if found is None:
            return ""
        return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))

    return read


@pytest.fixture(scope="session")
def manage_py(tmp_path_factory):
    """Run `manage.py` as a real process against its own migrated SQLite file.

    For what only a real process shows: the exit code and what reaches stderr. pytest-django's
    test database is invisible to another process, so these runs use a scratch file, migrated
    once per session; `manage_py.database` is its path, for reading back what was written.
    Give each test its own SIP domain: the file is shared by the whole session.
    """
    from types import SimpleNamespace

    database = tmp_path_factory.mktemp("manage_py") / "db.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(database.parent),
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "false",
        "SECRET_KEY": "x",
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return run_manage(env, *args, stdin=stdin, timeout=120)

    migrated = run("migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    return SimpleNamespace(run=run, database=database)


# --- A SIP edge's JSON-RPC, stood in for (tests/registrations/kamailio_standin.py) ------------


@pytest.fixture
def edge(db):
    """SIP edge edge-1 whose RPC URL is a running stand-in for Kamailio's JSON-RPC."""
    from tests.registrations.kamailio_standin import StandInServer

    with StandInServer() as standin:
        SipCredentialFactory(name="edge-1", rpc_url=standin.url)
        yield standin


@pytest.fixture
def rpc_only_edge(db):
    """The JSON-RPC stand-in as an edge of its own, for tests that also call the API as
    edge-1 (`edge_client`): a module overrides `edge` with it."""
    from tests.registrations.kamailio_standin import StandInServer

    with StandInServer() as standin:
        SipCredentialFactory(name="edge-rpc", rpc_url=standin.url)
        yield standin
