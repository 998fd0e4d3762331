import pytest

from tests.factories import SipCredentialFactory
from tests.registrations.kamailio_standin import StandInServer


@pytest.fixture
def edge(db):
    """SIP edge edge-1 whose RPC URL is a running stand-in for Kamailio's JSON-RPC."""
    with StandInServer() as standin:
        SipCredentialFactory(name="edge-1", rpc_url=standin.url)
        yield standin
