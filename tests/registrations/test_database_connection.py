"""The SIP API answers on a database connection that PostgreSQL dropped (restart, failover).

The edge API skips Django's probe of a kept connection before each request, so the deployed
portal (gunicorn, several workers with kept connections) must notice the dropped one by itself.
"""

from urllib.parse import urlencode

import pytest

from .helpers import basic, http_call

# One attempt asked about again and again (as the edge would retry it): every check reads the
# database, and the attempt takes one guess permit, not twelve.
CHECK = {
    "domain": "acme.pbx.test",
    "user": "1001",
    "ip": "203.0.113.7",
    "port": "5060",
    "attempt": "srid-reconnect-1",
}


def test_checks_after_the_database_dropped_every_connection_are_answered(deployment, gunicorn):
    if deployment.engine != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL=postgres://...): SQLite has no server")
    auth = {"Authorization": basic("edge-1", deployment.edge_secret)}
    url = f"{gunicorn.base}/api/sip/v1/register/check?{urlencode(CHECK)}"
    assert [http_call(url, headers=auth)[0] for _ in range(12)] == [200] * 12

    dropped = deployment.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    assert dropped, "the portal held no connection: the test proves nothing"

    answers = [http_call(url, headers=auth) for _ in range(12)]
    assert [status for status, _ in answers] == [200] * 12
    assert all(body["allow"] for _, body in answers)
