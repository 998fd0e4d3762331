"""The check costs the same few queries with 10 users as with 10,000."""

from typing import cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installs.models import Install
from kamailio import credentials as edge_auth
from registrations.models import Lockout
from tests.factories import InstallFactory, TrustedRangeFactory
from trustedips.models import TrustedRange
from users.models import PbxUser
from users.pins import pin_ha1

from .helpers import CHECK_URL, TRUSTED_IP, UNTRUSTED_IP, new_attempt

pytestmark = pytest.mark.django_db

# An allowed check also takes a guess permit (registrations/permits.py): one or two statements
# as a rule, but a user's very first attempt creates the lockout row the long way, and the
# first check of this test also reads the credential and the ranges.
MOST_QUERIES = 16

SITUATIONS = {
    "ok": {"user": "1001", "ip": TRUSTED_IP},
    "locked": {"user": "1002", "ip": TRUSTED_IP},
    "untrusted_source": {"user": "1001", "ip": UNTRUSTED_IP},
    "unknown_extension": {"user": "0999", "ip": TRUSTED_IP},
}


def populate(prefix: str, *, installs: int, users_per_install: int) -> str:
    """Installs with many users (1002 of each locked) and ranges; returns the first domain."""
    domains = []
    for n in range(installs):
        install = cast(Install, InstallFactory(sip_domain=f"{prefix}{n}.pbx.test"))
        domains.append(install.sip_domain)
        TrustedRangeFactory(install=install, network="203.0.113.0/24")
        TrustedRange.objects.bulk_create(
            TrustedRange(install=install, network=f"198.51.100.{4 * k}/30", description="desk")
            for k in range(20)
        )
        PbxUser.objects.bulk_create(
            PbxUser(
                install=install,
                extension=f"{1000 + k:04d}",
                hot_desk_access=True,
                pin_ha1=pin_ha1(extension=f"{1000 + k:04d}", domain=install.sip_domain, pin="2468"),
            )
            for k in range(users_per_install)
        )
        Lockout.objects.create(
            pbx_user=PbxUser.objects.get(install=install, extension="1002"),
            locked_indefinitely=True,
        )
    return domains[0]


def queries_per_check(edge_client, domain: str) -> dict[str, tuple[int, ...]]:
    """For each situation: queries of the first check (cold caches) and of a repeat."""
    counts: dict[str, tuple[int, ...]] = {}
    for situation, params in SITUATIONS.items():
        edge_auth.forget_cached()
        measured = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = edge_client.get(
                    CHECK_URL, {"domain": domain, "attempt": new_attempt(), **params}
                )
            assert response.json()["reason"] == situation
            measured.append(len(captured.captured_queries))
        counts[situation] = tuple(measured)
    return counts


def test_check_queries_do_not_grow_with_the_number_of_users(edge_client):
    small = populate("small", installs=1, users_per_install=10)
    few = queries_per_check(edge_client, small)

    large = populate("large", installs=5, users_per_install=2000)
    assert PbxUser.objects.count() >= 10_000
    many = queries_per_check(edge_client, large)

    assert many == few
    assert max(max(pair) for pair in few.values()) <= MOST_QUERIES


def test_check_for_an_unknown_domain_is_as_cheap(edge_client):
    populate("other", installs=2, users_per_install=500)

    with CaptureQueriesContext(connection) as captured:
        response = edge_client.get(
            CHECK_URL,
            {
                "domain": "nowhere.pbx.test",
                "user": "1001",
                "ip": TRUSTED_IP,
                "attempt": new_attempt(),
            },
        )

    assert response.json()["reason"] == "untrusted_source"  # as an unknown domain reads
    assert len(captured.captured_queries) <= MOST_QUERIES
