"""A user's edit page shows their recent calls and hot-desk sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from calls.models import Result
from tests.factories import HotDeskSessionFactory, PbxUserFactory
from tests.registrations.test_dashboard import text

from .test_call_log import NOON, record

pytestmark = pytest.mark.django_db


def history_tables(page: str) -> dict[str, str]:
    sections = re.findall(r'<h3 class="h5" id="history-\d+">(.*?)</h3>(.*?)</section>', page, re.S)
    return {title: text(body) for title, body in sections}


def test_the_edit_page_shows_recent_calls_both_ways_and_sessions(portal_client, install):
    ann = PbxUserFactory(install=install, extension="1001", name="Ann Smith")
    record(install, user=ann, other="02079460000", direction="out", talked=42)
    record(install, ext="1002", other="1001", started=NOON - timedelta(minutes=5))
    record(install, ext="1003", other="1004", started=NOON)  # not Ann's
    HotDeskSessionFactory(pbx_user=ann, source_ip="203.0.113.7")

    page = portal_client.get(reverse("users:edit", args=[install.pk, ann.pk])).content.decode()

    tables = history_tables(page)
    assert list(tables) == ["Recent hot-desk sessions", "Recent calls"]
    calls = tables["Recent calls"]
    assert "Out (to the PBX) 02079460000 Answered 42 s" in calls
    assert "internal, received 1002 Answered" in calls
    assert "1004" not in calls
    assert "logged in now" in tables["Recent hot-desk sessions"]
    assert "?extension=1001" in page


def test_a_user_without_history_says_so(portal_client, install):
    bob = PbxUserFactory(install=install, extension="1009")
    record(install, ext="1001", other="1002", result=Result.MISSED)

    page = portal_client.get(reverse("users:edit", args=[install.pk, bob.pk])).content.decode()

    tables = history_tables(page)
    assert tables["Recent calls"].endswith(
        "No calls through the SIP edge yet. All calls of 1009 in the Call log"
    )
    assert "Never logged in at a hot desk." in tables["Recent hot-desk sessions"]
