"""Who sits where: the dashboard names each hot-desked handset's desk from the registry, and
finds an operator by extension or name."""

from __future__ import annotations

import pytest

from handsets.desks import mac_in
from handsets.models import Handset
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from tests.registrations.test_dashboard import dashboard_url, live_url, row, text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("user_agent", "mac"),
    [
        ("Yealink SIP-T46S 66.86.0.15 00:15:65:8d:9f:27", "0015658d9f27"),
        ("Yealink SIP-T54W 96.86.0.70 0015658D9F28", "0015658d9f28"),
        ("Yealink SIP-T33G 124.86.0.75 00-15-65-8d-9f-29", "0015658d9f29"),
        ("Zoiper v2.10", None),
        ("Grandstream 1.0.11.23 with a date 2026:12:01:10:00:00", None),
    ],
)
def test_the_mac_in_a_user_agent(user_agent, mac):
    assert mac_in(user_agent) == mac


@pytest.fixture
def seated(install, edge):
    """Three operators hot-desked: at a registered handset by MAC, one by address, one unknown."""
    sessions = {}
    for extension, name, agent, address in [
        ("1001", "Ann Smith", "Yealink SIP-T46S 66.86.0.15 00:15:65:8d:9f:27", "203.0.113.7"),
        ("1002", "Bob Jones", "Yealink SIP-T46S 66.86.0.15", "203.0.113.8"),
        ("1003", "Cy Twombly", "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01", "203.0.113.9"),
    ]:
        user = PbxUserFactory(install=install, extension=extension, name=name)
        contact = f"sip:{extension}@{address}:5060"
        edge.add(f"{extension}@acme.pbx.test", contact, expires=500)
        sessions[extension] = HotDeskSessionFactory(
            pbx_user=user, contact=contact, user_agent=agent, source_ip=address
        )
    Handset.objects.create(install=install, mac="0015658d9f27", desk="Reception 1")
    Handset.objects.create(
        install=install, mac="0015658d9f99", desk="Sales 4", last_fetched_from="203.0.113.8"
    )
    return sessions


def desk(page: str, session) -> str:
    return text(row(page, "live-sessions", session).split('data-role="desk">')[1].split("</td>")[0])


def test_each_live_session_shows_its_desk_by_mac_or_by_address(portal_client, install, seated):
    page = portal_client.get(live_url(install)).content.decode()

    assert desk(page, seated["1001"]).startswith("Reception 1 sip:1001@")
    assert desk(page, seated["1002"]).startswith("Sales 4 sip:1002@")
    assert desk(page, seated["1003"]).startswith("sip:1003@")  # not in the registry


def test_another_installs_handset_names_no_desk_here(portal_client, install, other_install, seated):
    Handset.objects.filter(install=install).delete()
    Handset.objects.create(install=other_install, mac="0015658d9f27", desk="Not yours")

    page = portal_client.get(live_url(install)).content.decode()

    assert "Not yours" not in page


@pytest.mark.parametrize(
    ("find", "shown"), [("1002", ["1002"]), ("smith", ["1001"]), ("", ["1001", "1002", "1003"])]
)
def test_find_an_operator_by_extension_or_name(portal_client, install, seated, find, shown):
    response = portal_client.get(live_url(install), {"find": find})

    assert [session.extension for session in response.context["live"]] == shown


def test_finding_nobody_says_so_and_keeps_the_total(portal_client, install, seated):
    page = portal_client.get(dashboard_url(install), {"find": "9999"}).content.decode()

    assert "Nobody matching “9999” is hot-desking now." in page
    assert 'data-role="live-count">3</span>' in page
    assert 'id="find" name="find" value="9999"' in page
