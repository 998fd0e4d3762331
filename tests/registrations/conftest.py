"""A portal deployed for real, for what only separate processes show.

`deployment` migrates a database of its own (PostgreSQL when DATABASE_URL points at PostgreSQL,
as in CI, else a temporary SQLite file) and sets it up the way an operator would, with
`manage.py` commands run as processes: install acme.pbx.test trusting 203.0.113.0/24, users 1001,
1002 and 1003 with Hot Desk Access and PIN 2468 (1001 for operator checks, which never change it;
1002 and 1003 for lockout counts), and the API credential edge-1.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import environ
import pytest

from tests.conftest import run_manage
from tests.factories import HotDeskSessionFactory, SipCredentialFactory

from .helpers import AOR, DESK_PHONE
from .kamailio_standin import StandInServer

PROJECT = Path(__file__).resolve().parents[2]
DEPLOYED_PIN = "2468"


class _SqliteDatabase:
    def __init__(self, directory: Path):
        self.path = directory / "portal.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def create(self) -> None:
        pass

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()

    def drop(self) -> None:
        pass


class _PostgresDatabase:
    """A fresh database beside the one DATABASE_URL names, dropped afterwards."""

    def __init__(self, server_url: str):
        import psycopg

        self._psycopg = psycopg
        self.name = f"hotdesk_reg_{uuid.uuid4().hex[:10]}"
        self.url = urlsplit(server_url)._replace(path=f"/{self.name}").geturl()
        config = environ.Env.db_url_config(server_url)
        self._server = {
            "host": config.get("HOST") or None,
            "port": config.get("PORT") or None,
            "user": config.get("USER") or None,
            "password": config.get("PASSWORD") or None,
        }
        # The server's own database: the one DATABASE_URL names need not exist (pytest-django
        # works in test_<name>).
        self._maintenance_db = "postgres"

    def _connect(self, dbname: str):
        return self._psycopg.connect(dbname=dbname, autocommit=True, **self._server)

    def create(self) -> None:
        with self._connect(self._maintenance_db) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connect(self.name) as connection:
            return connection.execute(sql, params).fetchall()

    def drop(self) -> None:
        with self._connect(self._maintenance_db) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _database(directory: Path):
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return _PostgresDatabase(server_url)
    return _SqliteDatabase(directory)


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """The deployed portal's environment, database and edge-1 secret (see the module doc)."""
    database = _database(tmp_path_factory.mktemp("deployment"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path_factory.getbasetemp()),
        "DJANGO_SETTINGS_MODULE": "infinity.settings",
        "DATABASE_URL": database.url,
        "SECRET_KEY": "test-only-deployment-secret-key",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    database.create()
    try:
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
            for extension in ("1001", "1002", "1003")
        ]
        for args, stdin in steps:
            done = run_manage(env, *args, stdin=stdin)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        created = run_manage(env, "create_sip_credential", "--name", "edge-1")
        assert created.returncode == 0, created.stderr
        yield SimpleNamespace(
            env=env,
            manage=lambda *args, stdin="": run_manage(env, *args, stdin=stdin),
            query=database.query,
            edge_secret=created.stdout.strip().splitlines()[-1],
            engine="postgresql" if isinstance(database, _PostgresDatabase) else "sqlite",
        )
    finally:
        database.drop()


@pytest.fixture
def edge(db):
    """SIP edge edge-1 whose RPC URL is a running stand-in for Kamailio's JSON-RPC."""
    with StandInServer() as standin:
        SipCredentialFactory(name="edge-1", rpc_url=standin.url)
        yield standin


@pytest.fixture
def live(hot_desk_user, edge):
    """1001 Ann Smith logged in from 203.0.113.7 on a desk phone, and registered on edge-1."""
    edge.add(AOR, DESK_PHONE, expires=500)
    return HotDeskSessionFactory(pbx_user=hot_desk_user, contact=DESK_PHONE)


# --- The deployed portal under gunicorn ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    """The deployed portal under gunicorn with 3 sync workers; yields its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "infinity.wsgi", "-w", "3", "-b", f"127.0.0.1:{port}"],
        cwd=PROJECT,
        env=deployment.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        while Path("/proc").exists() and _worker_count(server.pid) < 3:
            assert time.monotonic() < deadline, "gunicorn did not start 3 workers"
            time.sleep(0.1)
        yield SimpleNamespace(base=base, pid=server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
