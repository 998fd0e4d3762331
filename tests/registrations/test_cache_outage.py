"""A dead cache (Redis) costs the portal nothing that matters: revocation and the dashboard
work without it. The only cache user is the location-table cache of `kamailio.edges`."""

import logging

import pytest
from django.db import transaction
from django.urls import reverse

from audit.trail import Actor
from registrations.models import HotDeskSession
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from trustedips import services

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every cache call fails at once with a connection error.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = DEAD_REDIS  # Django's setting_changed handler rebuilds the caches


def test_removing_a_range_removes_every_binding_it_alone_trusted_with_the_cache_down(
    install, trusted_range, edge, dead_cache, django_capture_on_commit_callbacks, caplog
):
    aors = []
    for n in range(20):
        user = PbxUserFactory(install=install, extension=f"{2000 + n}", hot_desk_access=True)
        contact = f"sip:{user.extension}@203.0.113.{n + 10}:5060"
        aor = f"{user.extension}@{install.sip_domain}"
        edge.add(aor, contact, expires=500)
        HotDeskSessionFactory(pbx_user=user, contact=contact, source_ip=f"203.0.113.{n + 10}")
        aors.append(aor)

    with (
        caplog.at_level(logging.WARNING),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        services.remove_range(trusted=trusted_range, actor=Actor.for_command("alice"))

    assert sorted(params[1] for method, params in edge.methods() if method == "ul.rm") == aors
    assert not HotDeskSession.objects.filter(ended_at__isnull=True).exists()
    # One line for the outage, not one per binding.
    assert sum("Cache unavailable" in r.message for r in caplog.records) == 1


def test_the_dashboard_reads_the_edges_directly_with_the_cache_down(
    portal_client, install, live, dead_cache
):
    url = reverse("registrations:dashboard_live", kwargs={"install_pk": install.pk})

    response = portal_client.get(url)

    assert response.status_code == 200
    assert live.pbx_user.extension in response.content.decode()
