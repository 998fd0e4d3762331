"""A portal deployed for real, for what only separate processes show.

`deployment` migrates a database of its own (PostgreSQL when DATABASE_URL points at PostgreSQL,
as in CI, else a temporary SQLite file) and sets it up the way an operator would, with
`manage.py` commands run as processes: install acme.pbx.test trusting 203.0.113.0/24, users 1001,
1002, 1003 and 1004 with Hot Desk Access and PIN 2468 (1001 for operator checks, which never
change it; 1002, 1003 and 1004 for lockout counts), and the API credential edge-1.
"""

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.deployment import free_port, fresh_database, is_postgres, query
from devtools.deployment import gunicorn as devtools_gunicorn
from tests.conftest import run_manage
from tests.factories import HotDeskSessionFactory

from .helpers import AOR, DESK_PHONE

DEPLOYED_PIN = "2468"


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """The deployed portal's environment, database and edge-1 secret (see the module doc)."""
    with fresh_database(
        prefix="hotdesk_reg", directory=tmp_path_factory.mktemp("deployment")
    ) as database_url:
        yield _deploy(tmp_path_factory, database_url)


def _deploy(tmp_path_factory, database_url: str) -> SimpleNamespace:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path_factory.getbasetemp()),
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only-deployment-secret-key",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    domain = ("--domain", "acme.pbx.test")
    steps = [
        (("migrate", "--no-input"), ""),
        (("create_install", *domain, "--account", "Acme Ltd", "--name", "Head Office"), ""),
        (
            ("add_trusted_ip", *domain, "--cidr", "203.0.113.0/24", "--description", "Office"),
            "",
        ),
    ]
    steps += [
        (
            ("set_pbx_user", *domain, "--extension", extension, "--hot-desk", "--pin-stdin"),
            f"{DEPLOYED_PIN}\n",
        )
        for extension in ("1001", "1002", "1003", "1004")
    ]
    for args, stdin in steps:
        done = run_manage(env, *args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    created = run_manage(env, "create_sip_credential", "--name", "edge-1")
    assert created.returncode == 0, created.stderr
    return SimpleNamespace(
        env=env,
        manage=lambda *args, stdin="": run_manage(env, *args, stdin=stdin),
        query=lambda sql, params=(): query(database_url, sql, params),
        edge_secret=created.stdout.strip().splitlines()[-1],
        engine="postgresql" if is_postgres(database_url) else "sqlite",
    )


@pytest.fixture
def live(hot_desk_user, edge):
    """1001 Ann Smith logged in from 203.0.113.7 on a desk phone, and registered on edge-1."""
    edge.add(AOR, DESK_PHONE, expires=500)
    return HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)


# --- The deployed portal under gunicorn ------------------------------------------------------


def _worker_count(master_pid: int) -> int:
    children = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children += int(fields[1]) == master_pid
    return children


@pytest.fixture
def gunicorn(deployment):
    """The deployed portal under gunicorn with 3 sync workers; yields its base URL and pid."""
    port = free_port()
    with devtools_gunicorn(deployment.env, port=port, args=["-w", "3", "-k", "sync"]) as server:
        deadline = time.monotonic() + 30
        while Path("/proc").exists() and _worker_count(server.pid) < 3:
            assert time.monotonic() < deadline, "gunicorn did not start 3 workers"
            time.sleep(0.1)
        yield SimpleNamespace(base=f"http://127.0.0.1:{port}", pid=server.pid)
