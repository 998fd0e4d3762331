"""Edge node authentication: the per-process cache expires, and IPv4-mapped callers are IPv4."""

import base64

import pytest

from kamailio import credentials as edge_auth
from tests.conftest import EDGE_SECRET
from tests.factories import SipCredentialFactory

pytestmark = pytest.mark.django_db

MAPPED_INSIDE = "::ffff:192.0.2.10"  # 192.0.2.10, as a dual-stack socket reports it
MAPPED_OUTSIDE = "::ffff:198.51.100.10"


def basic(name: str, secret: str = EDGE_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_deactivated_credential_is_refused_once_the_cache_expires(edge_credential):
    clock = Clock()
    header = basic("edge-1")
    assert edge_auth.authenticate(header, "192.0.2.1", clock=clock) == "edge-1"

    edge_credential.is_active = False
    edge_credential.save(update_fields=["is_active"])

    # Still remembered for a little while (a REGISTER must not cost a query each time)...
    clock.now += edge_auth.CACHE_SECONDS - 0.1
    assert edge_auth.authenticate(header, "192.0.2.1", clock=clock) == "edge-1"
    # ...but not for longer than CACHE_SECONDS.
    clock.now += 0.2
    assert edge_auth.authenticate(header, "192.0.2.1", clock=clock) is None
    clock.now += 3600
    assert edge_auth.authenticate(header, "192.0.2.1", clock=clock) is None


def test_a_refused_credential_is_not_cached(edge_credential):
    clock = Clock()
    edge_credential.is_active = False
    edge_credential.save(update_fields=["is_active"])
    assert edge_auth.authenticate(basic("edge-1"), "192.0.2.1", clock=clock) is None

    edge_credential.is_active = True
    edge_credential.save(update_fields=["is_active"])
    assert edge_auth.authenticate(basic("edge-1"), "192.0.2.1", clock=clock) == "edge-1"


@pytest.fixture
def ipv4_only_edge(db):
    return SipCredentialFactory(
        name="edge-v4", secret=EDGE_SECRET, allowed_networks="192.0.2.0/24 2001:db8::/32"
    )


def test_an_ipv4_mapped_caller_inside_an_allowed_ipv4_network_is_accepted(ipv4_only_edge):
    assert edge_auth.authenticate(basic("edge-v4"), MAPPED_INSIDE) == "edge-v4"
    assert edge_auth.authenticate(basic("edge-v4"), "192.0.2.10") == "edge-v4"


def test_an_ipv4_mapped_caller_outside_the_allowed_networks_is_refused(ipv4_only_edge, caplog):
    assert edge_auth.authenticate(basic("edge-v4"), MAPPED_OUTSIDE) is None
    assert edge_auth.authenticate(basic("edge-v4"), "198.51.100.10") is None
    assert "edge-v4 used from ::ffff:198.51.100.10, outside its networks" in caplog.text


def test_a_cached_credential_is_still_checked_against_its_networks(ipv4_only_edge):
    clock = Clock()
    assert edge_auth.authenticate(basic("edge-v4"), MAPPED_INSIDE, clock=clock) == "edge-v4"
    assert edge_auth.authenticate(basic("edge-v4"), MAPPED_OUTSIDE, clock=clock) is None
    assert edge_auth.authenticate(basic("edge-v4"), "2001:db8::1", clock=clock) == "edge-v4"
