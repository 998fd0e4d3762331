"""The Content-Security-Policy header (common/security.py) and what it takes to keep it.

Every page the portal serves to a browser carries the policy, also the login page, a redirect
to it, and the error pages. The SIP API does not: it is answered before this middleware runs.
The templates hold no inline script, inline style or event-handler attribute, which the policy
would refuse; tests/browser checks that Chromium refuses nothing on each page.
"""

import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from common.security import ContentSecurityPolicyMiddleware
from tests.registrations.helpers import check

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def portal_pages(install) -> list[str]:
    pk = install.pk
    return [
        reverse("installs:list"),
        reverse("users:list", args=[pk]),
        reverse("users:add", args=[pk]),
        reverse("trustedips:list", args=[pk]),
        reverse("handsets:setup", args=[pk]),
        reverse("handsets:provisioning", args=[pk]),
        reverse("bulk:index", args=[pk]),
        reverse("registrations:dashboard", args=[pk]),
        reverse("registrations:dashboard_live", args=[pk]),
        reverse("registrations:log", args=[pk]),
        reverse("calls:log", args=[pk]),
        reverse("registrations:explain", args=[pk]),
        reverse("installs:audit", args=[pk]),
        reverse("installs:settings", args=[pk]),
    ]


def test_every_portal_page_carries_the_policy(portal_client, install):
    for url in portal_pages(install):
        response = portal_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == POLICY, url


def test_login_page_redirects_and_error_pages_carry_the_policy_too(client, db):
    answers = {
        "login": client.get(reverse("login")),
        "redirect to login": client.get(reverse("installs:list")),
        "404": client.get("/no-such-page/"),
    }

    assert {name: answer["Content-Security-Policy"] for name, answer in answers.items()} == {
        name: POLICY for name in answers
    }
    assert answers["redirect to login"].status_code == 302


def test_the_sip_api_is_answered_without_a_policy(edge_client, hot_desk_user):
    response = check(edge_client)

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_a_response_with_a_policy_of_its_own_keeps_it():
    def view(request):
        response = HttpResponse("framed on purpose")
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    response = ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))

    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"


INLINE_CODE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("kind", sorted(INLINE_CODE))
def test_no_template_has_code_the_policy_would_refuse(kind):
    found = [
        str(template.relative_to(TEMPLATES))
        for template in sorted(TEMPLATES.rglob("*.html"))
        if INLINE_CODE[kind].search(template.read_text())
    ]
    assert found == []


def test_the_check_for_inline_code_sees_it():
    # The test above proves nothing if its patterns miss the real thing.
    samples = {
        "inline script": '<script>alert(1)</script> <script src="/x.js"></script>',
        "style attribute": '<p class="x" style="color: red">',
        "style element": "<style>p { color: red }</style>",
        "event handler attribute": '<button type="button" onclick="go()">',
        "javascript: URL": '<a href="javascript:go()">',
    }
    assert {kind: bool(INLINE_CODE[kind].search(text)) for kind, text in samples.items()} == {
        kind: True for kind in samples
    }
    assert not INLINE_CODE["inline script"].search('<script src="{% static "x.js" %}"></script>')
