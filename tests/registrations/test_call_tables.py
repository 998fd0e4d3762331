"""GET /api/sip/v1/pbx: the installs' PBXs as the edge routes calls by them."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from registrations import call_tables
from registrations.models import Lockout
from tests.factories import InstallFactory, PbxUserFactory

pytestmark = pytest.mark.django_db

URL = "/api/sip/v1/pbx"


@pytest.fixture(autouse=True)
def _fresh_resolver():
    call_tables.forget_resolved()
    yield
    call_tables.forget_resolved()


def test_the_edge_gets_one_line_per_install_with_a_pbx(edge_client, install):
    install.pbx_address = "sip:10.0.0.5:5060;transport=tcp"
    install.save()
    InstallFactory(sip_domain="b.pbx.test", pbx_address="sip:[2001:db8::5]")
    InstallFactory(sip_domain="c.pbx.test")  # no PBX: not listed

    response = edge_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().splitlines() == [
        "acme.pbx.test|sip:10.0.0.5:5060;transport=tcp|10.0.0.5",
        "b.pbx.test|sip:[2001:db8::5]|2001:db8::5",
    ]


def test_a_pbx_named_by_host_is_listed_with_its_addresses(edge_client, install, monkeypatch):
    install.pbx_address = "sip:pbx.acme.example:5080"
    install.save()
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, type: (
            [
                (socket.AF_INET, type, 17, "", ("192.0.2.20", 0)),
                (socket.AF_INET, type, 17, "", ("192.0.2.10", 0)),
            ]
            if host == "pbx.acme.example"
            else []
        ),
    )

    lines = edge_client.get(URL).content.decode().splitlines()

    assert lines == ["acme.pbx.test|sip:pbx.acme.example:5080|192.0.2.10,192.0.2.20"]


def test_a_pbx_host_that_does_not_resolve_is_listed_without_addresses(
    edge_client, install, monkeypatch
):
    install.pbx_address = "sip:gone.acme.example"
    install.save()

    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    assert edge_client.get(URL).content.decode() == "acme.pbx.test|sip:gone.acme.example|\n"


def test_the_pbx_table_needs_the_edge_credential(client, install):
    assert client.get(URL).status_code == 401


def test_the_edge_gets_the_users_locked_now(edge_client, install, hot_desk_user):
    other = PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")
    free = PbxUserFactory(install=install, extension="1003", hot_desk_access=True, pin="1357")
    now = timezone.now()
    Lockout.objects.create(pbx_user=hot_desk_user, locked_until=now + timedelta(minutes=5))
    Lockout.objects.create(pbx_user=other, locked_indefinitely=True)
    Lockout.objects.create(pbx_user=free, locked_until=now - timedelta(seconds=1))  # over

    response = edge_client.get("/api/sip/v1/locked")

    assert response.status_code == 200
    assert response.content.decode().splitlines() == ["acme.pbx.test|1001", "acme.pbx.test|1002"]
