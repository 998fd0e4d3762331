"""Reading what the portal recorded, straight from the end-to-end tests' own database.

The portal under test runs in other processes (gunicorn) on a database pytest-django does not
manage, so the tests read it with plain SQL on a connection of their own. Table and column
names are Django's defaults for the registrations, users and installs models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from devtools.deployment import query_dicts


class PortalRecords:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return query_dicts(self.database_url, sql, params)

    def sessions(self, extension: str, domain: str) -> list[dict[str, Any]]:
        """Every hot-desk session of one user, oldest first."""
        return self.rows(
            "SELECT s.* FROM registrations_hotdesksession s"
            " JOIN users_pbxuser u ON u.id = s.pbx_user_id"
            " JOIN installs_install i ON i.id = u.install_id"
            " WHERE u.extension = %s AND i.sip_domain = %s ORDER BY s.id",
            (extension, domain),
        )

    def open_sessions(self, extension: str, domain: str) -> list[dict[str, Any]]:
        return [s for s in self.sessions(extension, domain) if s["ended_at"] is None]

    def lockout(self, extension: str, domain: str) -> dict[str, Any] | None:
        found = self.rows(
            "SELECT l.* FROM registrations_lockout l"
            " JOIN users_pbxuser u ON u.id = l.pbx_user_id"
            " JOIN installs_install i ON i.id = u.install_id"
            " WHERE u.extension = %s AND i.sip_domain = %s",
            (extension, domain),
        )
        return found[0] if found else None

    def failures(self, extension: str, domain: str) -> int:
        lockout = self.lockout(extension, domain)
        return lockout["consecutive_failures"] if lockout else 0

    def log(self, call_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Registration log entries of one Call-ID (checks and reports), oldest first."""
        sql = "SELECT * FROM registrations_registrationlogentry WHERE call_id = %s"
        params: tuple = (call_id,)
        if kind:
            sql += " AND kind = %s"
            params += (kind,)
        return self.rows(sql + " ORDER BY id", params)

    def install_id(self, domain: str) -> int:
        return self.rows("SELECT id FROM installs_install WHERE sip_domain = %s", (domain,))[0][
            "id"
        ]

    def call(self, sip_call_id: str) -> dict[str, Any] | None:
        """The call record of one call (by its SIP Call-ID), or None."""
        found = self.rows("SELECT * FROM calls_callrecord WHERE sip_call_id = %s", (sip_call_id,))
        return found[0] if found else None

    def ended_call(self, sip_call_id: str, *, timeout: float = 5.0) -> dict[str, Any] | None:
        """Wait until the call's record says it ended (the edge sends events every 250 ms)."""
        return eventually(
            lambda: self.call(sip_call_id),
            until=lambda row: bool(row and row["ended_at"] is not None),
            timeout=timeout,
        )

    def unsettled(self, call_id: str) -> list[str]:
        """Attempts of this Call-ID that the portal allowed and whose outcome has not arrived.

        Every allowed check takes a guess permit and the edge settles each with exactly one
        outcome (a wrong PIN, a login or log-out, or "settled"). Once this is empty, nothing
        more can arrive for these attempts: waiting for it replaces a sleep.
        """
        return [
            row["attempt"]
            for row in self.rows(
                "SELECT p.attempt FROM registrations_guesspermit p"
                " JOIN registrations_registrationlogentry e"
                " ON e.attempt = p.attempt AND e.edge = p.edge"
                " WHERE e.call_id = %s AND e.kind = 'check' AND p.pbx_user_id IS NOT NULL",
                (call_id,),
            )
        ]

    def settled(self, call_id: str, *, timeout: float = 5.0) -> bool:
        """Wait until every allowed attempt of this Call-ID has its outcome (see `unsettled`)."""
        return (
            eventually(
                lambda: self.unsettled(call_id), until=lambda left: not left, timeout=timeout
            )
            == []
        )


def eventually(read: Callable[[], Any], *, until: Callable[[Any], bool], timeout: float = 3.0):
    """Poll `read()` until `until(value)` holds or `timeout` passes; returns the last value.

    The SIP edge reports to the portal after it has answered the phone, so what the portal
    recorded can trail sipp's final answer by a few milliseconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
