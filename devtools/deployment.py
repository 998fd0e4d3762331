"""The portal run locally as it is deployed, for the end-to-end tests and the benchmarks.

A database of its own (the tests' database lives in pytest's transaction, where no other
process sees it), and gunicorn with deploy/gunicorn.conf.py on a loopback port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kamailio.process import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# Without a credential the SIP API answers 401: Django is loaded and serving.
READY_PATH = "/api/sip/v1/register/check"
_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def free_port(ports: Iterable[int] | None = None) -> int:
    """A loopback TCP port nobody has bound: the first free one of `ports`, else any free one."""
    if ports is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    ports = list(ports)
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {ports[0]}-{ports[-1]}")


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(_POSTGRES_SCHEMES)


@contextlib.contextmanager
def fresh_database(*, prefix: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database for one run.

    A new PostgreSQL database on the server that DATABASE_URL names, when it names one
    (dropped afterwards, connections and all); else a new SQLite file in `directory`.
    """
    server = os.environ.get("DATABASE_URL", "")
    if not is_postgres(server):
        yield f"sqlite:///{directory / f'{prefix}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(server)
    with _postgres(urlunsplit(parts._replace(path="/postgres"))) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with _postgres(urlunsplit(parts._replace(path="/postgres"))) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, params: Sequence = ()) -> list[tuple]:
    """Rows of one SQL statement (`%s` placeholders) on the database at `database_url`."""
    return _execute(database_url, sql, params)[1]


def query_dicts(database_url: str, sql: str, params: Sequence = ()) -> list[dict]:
    """The same, each row a dict by column name."""
    names, rows = _execute(database_url, sql, params)
    return [dict(zip(names, row, strict=True)) for row in rows]


def _execute(database_url: str, sql: str, params: Sequence) -> tuple[list[str], list[tuple]]:
    if is_postgres(database_url):
        with _postgres(database_url) as connection:
            cursor = connection.execute(sql, params)
            if cursor.description is None:  # a statement without rows (DDL, UPDATE)
                return [], []
            return [column.name for column in cursor.description], cursor.fetchall()
    path = database_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as connection, connection:
        cursor = connection.execute(sql.replace("%s", "?"), params)
        return [column[0] for column in cursor.description or ()], cursor.fetchall()


def _postgres(url: str):
    import psycopg  # only where PostgreSQL is in use

    # psycopg takes postgresql:// (and postgres://) but not Django's pgsql:// alias.
    url = "postgresql://" + url.split("://", 1)[1]
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    port: int,
    args: Sequence[str] = (),
    log: Path | None = None,
    timeout: float = 30,
) -> Iterator[subprocess.Popen]:
    """The portal under gunicorn with deploy/gunicorn.conf.py on 127.0.0.1:`port`.

    `args` are more gunicorn options (they win over the file). Yields once the SIP API
    answers; stops gunicorn (SIGTERM, then SIGKILL) when the block ends, and the kernel stops
    it if this process dies first. Its output goes to `log` (else a temporary file), whose
    end is in the error if it does not start.
    """
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "gunicorn.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(GUNICORN_CONF),
                    "-b",
                    f"127.0.0.1:{port}",
                    *args,
                    "infinity.wsgi",
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        try:
            _wait_until_serving(process, f"http://127.0.0.1:{port}{READY_PATH}", timeout, log)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen, *, timeout: float = 15) -> None:
    """SIGTERM, and SIGKILL if it has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def http_status(url: str) -> int | None:
    """The HTTP status of a GET to a loopback URL; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback URL
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _wait_until_serving(process: subprocess.Popen, url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if http_status(url) == 401:
            return
        time.sleep(0.1)
    stop(process)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"gunicorn did not serve {url} (exit {process.returncode}):\n{tail}")
