"""The Registration log explains itself: one row per login attempt, its outcome in words, links
to the user and to Explain, which knows the last attempt and says what to do."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .helpers import TRUSTED_IP, UNTRUSTED_IP, check, new_attempt, report

pytestmark = pytest.mark.django_db


def rows(client, install, **query) -> list[str]:
    page = client.get(reverse("registrations:log", args=[install.pk]), query).content.decode()
    cells = re.findall(r'data-role="outcome"><span class="badge[^"]*">([^<]*)</span>', page)
    return cells


def attempt(edge_client, event: str | None, **params) -> str:
    """One REGISTER as the edge handles it: a check, and the outcome report of that attempt."""
    number = new_attempt()
    check(edge_client, attempt=number, **params)
    if event:
        report(edge_client, event, attempt=number, **params)
    return number


def test_each_attempt_is_one_row_in_words_newest_first(
    portal_client, edge_client, install, hot_desk_user
):
    attempt(edge_client, "registered")
    attempt(edge_client, "auth_failed")
    attempt(edge_client, "auth_failed")
    attempt(edge_client, None, ip=UNTRUSTED_IP)
    attempt(edge_client, "unregistered", expires="0")

    assert rows(portal_client, install) == [
        "Logged out",
        f"Not from a trusted network: {UNTRUSTED_IP}",
        "Wrong PIN, 2 of 5 before a lock",
        "Wrong PIN, 1 of 5 before a lock",
        "Logged in",
    ]


def test_the_wrong_pin_that_locks_says_so(portal_client, edge_client, install, hot_desk_user):
    for _ in range(5):
        attempt(edge_client, "auth_failed")
    attempt(edge_client, None)  # refused as locked before any PIN

    shown = rows(portal_client, install)
    assert shown[:2] == ["Locked after wrong PINs", "Wrong PIN: the user is now locked"]


def test_filters_by_outcome_source_and_dates(portal_client, edge_client, install, hot_desk_user):
    attempt(edge_client, "registered")
    attempt(edge_client, "auth_failed")
    attempt(edge_client, None, ip=UNTRUSTED_IP)

    assert rows(portal_client, install, outcome="wrong_pin") == ["Wrong PIN, 1 of 5 before a lock"]
    assert rows(portal_client, install, outcome="logged_in") == ["Logged in"]
    assert rows(portal_client, install, source_ip=UNTRUSTED_IP) == [
        f"Not from a trusted network: {UNTRUSTED_IP}"
    ]
    assert rows(portal_client, install, since="2000-01-01", until="2000-01-02") == []
    assert len(rows(portal_client, install, since="2000-01-01")) == 3


def test_a_bad_filter_is_an_error_beside_its_field(portal_client, install):
    response = portal_client.get(
        reverse("registrations:log", args=[install.pk]), {"source_ip": "not-an-address"}
    )

    assert response.status_code == 200
    assert "source_ip" in response.context["filters"].errors
    assert list(response.context["entries"]) == []


def test_rows_link_to_the_user_and_to_explain(portal_client, edge_client, install, hot_desk_user):
    attempt(edge_client, "auth_failed")

    page = portal_client.get(reverse("registrations:log", args=[install.pk])).content.decode()

    assert f'href="{reverse("users:edit", args=[install.pk, hot_desk_user.pk])}">1001</a>' in page
    explain = reverse("registrations:explain", args=[install.pk])
    assert f'href="{explain}?extension=1001&amp;source_ip={TRUSTED_IP}">Explain</a>' in page


def test_explain_after_a_wrong_pin_says_so_and_what_to_do(
    portal_client, edge_client, install, hot_desk_user
):
    attempt(edge_client, "auth_failed")

    page = portal_client.get(
        reverse("registrations:explain", args=[install.pk]),
        {"extension": "1001", "source_ip": TRUSTED_IP},
    ).content.decode()

    assert "ALLOW" in page  # the rules allow a login from here
    last = re.search(r'data-testid="explain-last-attempt">(.*?)</div>', page, re.S).group(1)
    assert "<strong>Wrong PIN, 1 of 5 before a lock</strong>" in last
    assert "set a new one on the user&#x27;s page" in last


def test_explain_says_when_there_is_no_attempt_yet(portal_client, install, hot_desk_user):
    page = portal_client.get(
        reverse("registrations:explain", args=[install.pk]),
        {"extension": "1001", "source_ip": TRUSTED_IP},
    ).content.decode()

    assert "No login attempt of 1001 from 203.0.113.7 is in the Registration log." in page


def test_a_login_at_another_desk_says_the_operator_moved(
    portal_client, edge_client, install, hot_desk_user
):
    attempt(edge_client, "registered", contact="<sip:1001@203.0.113.7:5060>")
    attempt(
        edge_client,
        "registered",
        ip="203.0.113.8",
        callid="another-desk@203.0.113.8",
        contact="<sip:1001@203.0.113.8:5060>",
    )

    assert rows(portal_client, install) == ["Moved to another desk", "Logged in"]
