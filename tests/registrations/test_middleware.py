"""The SIP API is answered ahead of the browser middleware, and pages are not."""

import pytest
from django.urls import reverse

from .helpers import CHECK_URL, check_params

pytestmark = pytest.mark.django_db


def test_an_api_answer_has_a_length_and_the_security_headers_but_no_browser_state(
    edge_client, hot_desk_user, portal_client
):
    edge_client.cookies = portal_client.cookies  # a browser session is sent along, and ignored

    response = edge_client.get(CHECK_URL, check_params())

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not response.has_header("X-Frame-Options")


def test_an_unknown_api_path_is_a_json_404(edge_client):
    response = edge_client.get("/api/sip/v1/register/nothing")

    assert response.status_code == 404
    assert response.json() == {"allow": False, "reason": "not_found"}


def test_pages_still_go_through_the_browser_middleware(portal_client, install):
    response = portal_client.get(reverse("installs:settings", kwargs={"install_pk": install.pk}))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response.wsgi_request.user.is_authenticated
