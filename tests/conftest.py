"""Fixtures shared by the whole suite."""

import base64
import os

import pytest

from registrations import edge_auth
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


def require_or_skip(available: bool, reason: str) -> None:
    """Skip a test whose external part is missing; in CI (CI=true) that is a failure instead."""
    if available:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_edge_auth_cache():
    # The per-process credential cache must not carry one test's credentials into the next.
    edge_auth.forget_cached()
    yield
    edge_auth.forget_cached()


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
