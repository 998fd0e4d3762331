"""Error pages in the portal's layout, with DEBUG off as deployed.

404 (also another account's install), 403 (a viewer's change), a refused form (CSRF) and 500
each extend base.html, say what happened and lead back to Telephony Settings. The 500 page is
rendered without a request, a login or the database: the test that raises one has no database
access at all, so a 500 page that needed it would fail here.
"""

import pytest
from django.test import Client
from django.urls import path, reverse

from accounts.models import Membership, Role
from infinity import urls as portal_urls
from tests.factories import PortalUserFactory
from trustedips.models import TrustedRange


def _raise_error(request):
    raise RuntimeError("a bug in a view")


# This module is also the URLconf of the test marked with it: the portal's URLs and a view that
# fails, which the portal itself does not have.
urlpatterns = [
    path("test-only/error/", _raise_error),
    *portal_urls.urlpatterns,
]

BACK_LINK = '<a class="btn btn-primary" href="/telephony/">Back to Telephony Settings</a>'
BRAND = '<a class="navbar-brand" href="/telephony/">Hot Desking</a>'


@pytest.fixture(autouse=True)
def _deployed(settings):
    settings.DEBUG = False


def assert_in_portal_layout(response, *, heading: str) -> str:
    page = response.content.decode()
    assert BRAND in page  # base.html's header
    assert '<main class="container-xxl" id="content">' in page
    assert f'<h1 class="h3 mb-3">{heading}</h1>' in page
    assert BACK_LINK in page
    return page


def test_another_accounts_install_is_a_404_page_in_the_portal_layout(
    portal_client, portal_admin, other_install
):
    response = portal_client.get(reverse("users:list", args=[other_install.pk]))

    assert response.status_code == 404
    page = assert_in_portal_layout(response, heading="Page not found")
    assert '<span class="navbar-text me-3 text-truncate portal-username">alice</span>' in page
    assert other_install.name not in page and other_install.sip_domain not in page


def test_an_unknown_address_is_a_404_page_before_logging_in_too(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = assert_in_portal_layout(response, heading="Page not found")
    assert "Log out" not in page


def test_a_viewers_change_is_refused_with_a_403_page(client, account, install):
    viewer = PortalUserFactory(username="vera")
    Membership.objects.create(account=account, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)

    response = client.post(
        reverse("trustedips:list", args=[install.pk]),
        {"network": "192.0.2.0/24", "description": "Bristol"},
    )

    assert response.status_code == 403
    page = assert_in_portal_layout(response, heading="Not allowed")
    assert "nothing was changed" in page
    assert not TrustedRange.objects.filter(install=install).exists()


def test_a_form_without_its_csrf_token_is_refused_with_a_page_that_says_what_to_do(
    portal_admin, install
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(portal_admin)

    response = browser.post(
        reverse("trustedips:list", args=[install.pk]),
        {"network": "192.0.2.0/24", "description": "Bristol"},
    )

    assert response.status_code == 403
    page = assert_in_portal_layout(response, heading="This form could not be sent")
    assert "Nothing was changed." in page
    assert '<span class="navbar-text me-3 text-truncate portal-username">alice</span>' in page
    assert not TrustedRange.objects.filter(install=install).exists()


def test_a_login_without_its_csrf_token_gets_the_same_page(portal_admin):
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "alice", "password": "correct horse battery"}
    )

    assert response.status_code == 403
    assert_in_portal_layout(response, heading="This form could not be sent")
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.urls(__name__)
def test_a_server_error_is_a_500_page_that_needs_no_database_and_no_login():
    # No `db` fixture: any query while answering would raise, and fail this test.
    response = Client(raise_request_exception=False).get("/test-only/error/")

    assert response.status_code == 500
    page = assert_in_portal_layout(response, heading="Something went wrong")
    assert "Log out" not in page and "a bug in a view" not in page
    assert "Times in Europe/London." in page
