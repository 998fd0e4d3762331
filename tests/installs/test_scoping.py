"""Tenant isolation: every portal URL that names an install (or an object in one) is a 404
for an administrator of another account, whatever the method, and changes nothing.

The table below lists the URLs of the Users, Trusted IPs, Registration, Audit and Settings
tabs with a request that would change something; `test_every_install_url_is_in_the_table`
fails when a new URL of those tabs appears without a row here.
"""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from registrations.models import Lockout
from tests.factories import (
    AccountFactory,
    HotDeskSessionFactory,
    InstallFactory,
    PbxUserFactory,
    PortalUserFactory,
    TrustedRangeFactory,
)

pytestmark = pytest.mark.django_db

PIN = "4826"

# URL name -> (the object it names, a POST that would change something if it were allowed)
URLS = {
    "installs:settings": ("install", {"name": "Taken over", "registration_expiry": "60"}),
    "installs:audit": ("install", {}),
    "users:list": ("install", {}),
    "users:add": (
        "install",
        {"extension": "1999", "name": "Mallory", "hot_desk_access": "on", "pin": PIN},
    ),
    "users:edit": ("user", {"name": "Mallory", "hot_desk_access": "on", "pin": PIN}),
    "users:delete": ("user", {}),
    # The one download of a batch's new PINs: a POST (the key is a secret) that reads.
    "users:pin_sheet": ("install", {"sheet": "x", "key": "y"}),
    "trustedips:list": ("install", {"network": "198.51.100.0/24", "description": "Mallory"}),
    "trustedips:delete": ("range", {}),
    "registrations:log": ("install", {}),
    "registrations:explain": ("install", {"extension": "1001", "source_ip": "203.0.113.7"}),
    "registrations:unlock": ("user", {}),
    "registrations:dashboard": ("install", {}),
    "registrations:dashboard_live": ("install", {}),
    "registrations:force_logout": ("session", {}),
}
TABLE_NAMESPACES = {"installs", "users", "trustedips", "registrations"}
READ_ONLY = {
    "installs:audit",
    "users:list",
    "users:pin_sheet",
    "registrations:log",
    "registrations:explain",
    "registrations:dashboard",
    "registrations:dashboard_live",
}
POST_ONLY = {"registrations:unlock", "registrations:force_logout", "users:pin_sheet"}


def install_urls() -> dict[str, dict]:
    """Every named portal URL whose route has an install_pk: name -> converters of its kwargs.

    Portal URLs are those under the Telephony Settings prefix; the handsets' provisioning URLs
    elsewhere carry an install too, but answer to a token, not a login.
    """
    portal = str(get_resolver().resolve(reverse("installs:list")).route)
    found = {}

    def walk(patterns, namespace, route, converters):
        for pattern in patterns:
            here = {**converters, **getattr(pattern.pattern, "converters", {})}
            where = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, inner, where, here)
            elif pattern.name and "install_pk" in here and where.startswith(portal):
                found[f"{namespace}:{pattern.name}"] = here

    walk(get_resolver().url_patterns, "", "", {})
    return found


INSTALL_URLS = install_urls()
OTHER_TABS = sorted(name for name in INSTALL_URLS if name.split(":")[0] not in TABLE_NAMESPACES)


def furnish(install):
    """An install with a user (PIN, access, locked out, logged in) and a trusted range."""
    user = PbxUserFactory(
        install=install, extension="1001", name="Ann Smith", hot_desk_access=True, pin="2468"
    )
    Lockout.objects.create(
        pbx_user=user,
        consecutive_failures=10,
        locked_indefinitely=True,
        locked_at=timezone.now() - timedelta(minutes=5),
    )
    trusted = TrustedRangeFactory(install=install, network="203.0.113.0/24")
    session = HotDeskSessionFactory(pbx_user=user)
    return SimpleNamespace(install=install, user=user, range=trusted, session=session)


@pytest.fixture
def mine(install):
    return furnish(install)


@pytest.fixture
def theirs(other_install):
    return furnish(other_install)


def url(name, side, *, install=None):
    """The URL `name` for an object of `side`, optionally under another install's pk."""
    names, _ = URLS[name]
    kwargs = {"install_pk": (install or side.install).pk}
    if names != "install":
        kwargs["pk"] = getattr(side, names).pk
    return reverse(name, kwargs=kwargs)


def database_state():
    """Every row of every table but sessions, to show that a refused request changed nothing."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


def send(client, method, address, data):
    return client.get(address) if method == "GET" else client.post(address, data)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", sorted(URLS))
def test_other_accounts_admin_gets_404_and_nothing_changes(
    portal_client, mine, theirs, name, method
):
    before = database_state()
    response = send(portal_client, method, url(name, theirs), URLS[name][1])
    assert response.status_code == 404
    assert database_state() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        (name, method)
        for name, (names, _) in sorted(URLS.items())
        if names != "install"
        for method in ["GET", "POST"]
        if not (name in POST_ONLY and method == "GET")  # a 405 for every pk alike
    ],
)
def test_another_installs_object_under_my_install_is_404(portal_client, mine, theirs, name, method):
    before = database_state()
    address = url(name, theirs, install=mine.install)
    response = send(portal_client, method, address, URLS[name][1])
    assert response.status_code == 404
    assert database_state() == before


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", sorted(URLS))
def test_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, mine, name, method):
    before = database_state()
    address = url(name, mine)
    response = send(client, method, address, URLS[name][1])
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert database_state() == before


@pytest.mark.parametrize("name", sorted(set(URLS) - POST_ONLY))
def test_own_admin_can_open_the_page(portal_client, mine, name):
    assert portal_client.get(url(name, mine)).status_code == 200


@pytest.mark.parametrize("name", sorted(set(URLS) - READ_ONLY))
def test_own_admin_making_the_same_request_does_change_something(portal_client, mine, name):
    # Shows the 404s above come from the account scope, not from a request that does nothing.
    before = database_state()
    response = portal_client.post(url(name, mine), URLS[name][1])
    assert response.status_code in {200, 302}
    assert database_state() != before


def test_every_install_url_is_in_the_table():
    ours = {name for name in INSTALL_URLS if name.split(":")[0] in TABLE_NAMESPACES}
    assert ours == set(URLS)


def filled_kwargs(converters, install_pk):
    samples = {"IntConverter": 1, "UUIDConverter": uuid.uuid4()}
    return {
        kwarg: install_pk if kwarg == "install_pk" else samples.get(type(conv).__name__, "users")
        for kwarg, conv in converters.items()
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", OTHER_TABS)
def test_other_accounts_install_is_404_on_every_other_tab(portal_client, theirs, name, method):
    # Tabs added after this table: only the install in the URL is known here, which is enough
    # for the account scope to answer 404 before the view looks at anything else.
    before = database_state()
    address = reverse(name, kwargs=filled_kwargs(INSTALL_URLS[name], theirs.install.pk))
    response = send(portal_client, method, address, {})
    assert response.status_code == 404
    assert database_state() == before


def test_install_list_shows_only_my_accounts_installs(portal_client, mine, theirs):
    listed = portal_client.get(reverse("installs:list")).context["installs"]
    assert list(listed) == [mine.install]


def test_admin_of_two_accounts_reaches_both(client, mine, theirs, portal_admin):
    portal_admin.memberships.create(account=theirs.install.account)
    client.force_login(portal_admin)
    for side in (mine, theirs):
        assert client.get(url("users:edit", side)).status_code == 200


def test_account_without_installs_sees_an_empty_list(client, theirs):
    client.force_login(PortalUserFactory(account=AccountFactory(name="Empty Ltd")))
    assert list(client.get(reverse("installs:list")).context["installs"]) == []
    assert client.get(url("users:list", theirs)).status_code == 404


def test_unknown_install_is_404_like_another_accounts(portal_client, theirs):
    missing = InstallFactory.build(pk=theirs.install.pk + 1000)
    assert portal_client.get(url("users:list", theirs, install=missing)).status_code == 404
