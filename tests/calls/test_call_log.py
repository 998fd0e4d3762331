"""The Call log tab: newest first, filters, a total, the operator's page, CSV of the filter."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from calls.log import CSV_COLUMNS
from calls.models import CallRecord, Result
from tests.factories import PbxUserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def record(
    install,
    *,
    ext="1001",
    other="1002",
    direction="internal",
    result=Result.ANSWERED,
    started=NOON,
    talked=30,
    user=None,
    **fields,
) -> CallRecord:
    answered = started + timedelta(seconds=2) if result == Result.ANSWERED else None
    ended = None if result == Result.IN_PROGRESS else started + timedelta(seconds=2 + talked)
    return CallRecord.objects.create(
        install=install,
        edge="edge-1",
        ref=f"ref-{CallRecord.objects.count()}",
        direction=direction,
        pbx_user=user,
        extension=ext,
        user_name=user.name if user else "",
        other_party=other,
        handset_ip="203.0.113.7",
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        duration_seconds=talked if answered and ended else 0,
        result=result,
        sip_code=None if result == Result.IN_PROGRESS else 200 if answered else 487,
        **fields,
    )


def log_url(install, **query) -> str:
    url = reverse("calls:log", kwargs={"install_pk": install.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def shown(response) -> list[int]:
    return [call.pk for call in response.context["calls"]]


def test_newest_first_with_a_total_and_the_time_zone(portal_client, install):
    older = record(install, started=NOON - timedelta(hours=1))
    newer = record(install)

    response = portal_client.get(log_url(install))

    assert shown(response) == [newer.pk, older.pk]
    page = response.content.decode()
    assert "2 calls. Times in Europe/London." in page
    assert 'href="/telephony/' in page and "Call log" in page


def test_each_row_links_to_the_operators_user_page(portal_client, install):
    ann = PbxUserFactory(install=install, extension="1001", name="Ann Smith")
    record(install, user=ann)

    page = portal_client.get(log_url(install)).content.decode()

    assert f'href="{reverse("users:edit", args=[install.pk, ann.pk])}">1001 Ann Smith</a>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"extension": "1002"}, ["mine", "to_1002"]),  # either side of the call
        ({"direction": "out"}, ["out"]),
        ({"result": "missed"}, ["missed"]),
        ({"since": "2026-12-01", "until": "2026-12-01"}, ["mine", "to_1002", "missed"]),
        ({"since": "2026-11-30", "until": "2026-11-30"}, ["out"]),
    ],
)
def test_filters(portal_client, install, query, expected):
    calls = {
        "mine": record(install, ext="1002", other="1003", started=NOON),
        "to_1002": record(install, ext="1001", other="1002", started=NOON - timedelta(minutes=1)),
        "out": record(
            install, other="02079460000", direction="out", started=NOON - timedelta(days=1)
        ),
        "missed": record(
            install, result=Result.MISSED, other="1005", started=NOON - timedelta(minutes=2)
        ),
    }

    response = portal_client.get(log_url(install, **query))

    assert shown(response) == [calls[name].pk for name in expected]
    assert f"{len(expected)} call" in response.content.decode()


def test_calls_in_progress_are_listed_as_such_until_the_longest_call_has_passed(
    portal_client, install
):
    from django.utils import timezone

    from calls.recording import longest_call

    talking = record(install, result=Result.IN_PROGRESS, started=timezone.now())
    forgotten = record(
        install,
        result=Result.IN_PROGRESS,
        started=timezone.now() - longest_call() - timedelta(seconds=1),
    )

    response = portal_client.get(log_url(install, result="in_progress"))

    assert shown(response) == [talking.pk]
    assert "In progress" in response.content.decode()
    forgotten.refresh_from_db()
    assert forgotten.result == Result.FAILED and forgotten.closed_by == "timeout"


def test_a_bad_filter_is_an_error_beside_the_field_and_lists_nothing(portal_client, install):
    record(install)

    response = portal_client.get(log_url(install, since="2026-12-02", until="2026-12-01"))

    assert response.status_code == 200
    assert shown(response) == []
    assert response.context["filters"].errors["until"] == ["Must be on or after the From date."]


def test_the_log_is_paginated(portal_client, install):
    for minute in range(51):
        record(install, started=NOON - timedelta(minutes=minute))

    first = portal_client.get(log_url(install))
    second = portal_client.get(log_url(install, page=2))

    assert (len(shown(first)), len(shown(second))) == (50, 1)
    assert "51 calls" in first.content.decode()


def test_csv_is_what_the_filter_shows_on_every_page_with_inert_cells(portal_client, install):
    for minute in range(60):
        record(
            install, other="02079460000", direction="out", started=NOON - timedelta(minutes=minute)
        )
    record(install, other='=HYPERLINK("http://x")', direction="in")
    record(install, direction="internal")

    response = portal_client.get(
        reverse("calls:csv", kwargs={"install_pk": install.pk}) + "?direction=out"
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 61 and {row[4] for row in rows[1:]} == {"out"}
    assert rows[1][:4] == [
        "2026-12-01T12:00:00+00:00",
        "2026-12-01T12:00:02+00:00",
        "2026-12-01T12:00:32+00:00",
        "30",
    ]
    every = portal_client.get(reverse("calls:csv", kwargs={"install_pk": install.pk}))
    assert "'=HYPERLINK" in every.content.decode()


@pytest.mark.parametrize("page", ["calls:log", "calls:csv"])
def test_another_accounts_call_log_is_404(portal_client, other_install, page):
    record(other_install)

    response = portal_client.get(reverse(page, kwargs={"install_pk": other_install.pk}))

    assert response.status_code == 404


def test_the_call_log_needs_a_login(client, install):
    response = client.get(log_url(install))

    assert response.status_code == 302 and "/login/" in response["Location"]
