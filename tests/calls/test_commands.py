"""`manage.py export_calls` and `manage.py prune_call_log`."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calls.log import CSV_COLUMNS
from calls.models import CallRecord, Result

from .test_call_log import NOON, record

pytestmark = pytest.mark.django_db

HEADER = (
    "started_at,answered_at,ended_at,duration_seconds,direction,extension,other_party,result,"
    "handset_ip"
)


def export(**options) -> list[list[str]]:
    out, err = StringIO(), StringIO()
    call_command("export_calls", stdout=out, stderr=err, **options)
    assert out.getvalue().startswith(HEADER + "\r\n")
    return list(csv.reader(io.StringIO(out.getvalue())))[1:]


def test_the_header_is_exactly_the_documented_one():
    assert ",".join(CSV_COLUMNS) == HEADER


def test_export_writes_the_installs_calls_oldest_first_within_the_days(install, other_install):
    first = record(install, started=NOON - timedelta(days=1), direction="out", other="=1+1")
    record(install, started=NOON, result=Result.MISSED)
    record(install, started=NOON + timedelta(days=2))
    record(other_install, started=NOON)

    rows = export(domain="ACME.pbx.test", since="2026-11-30", until="2026-12-01")

    assert [row[4] for row in rows] == ["out", "internal"]
    assert rows[0] == [
        "2026-11-30T12:00:00+00:00",
        "2026-11-30T12:00:02+00:00",
        "2026-11-30T12:00:32+00:00",
        "30",
        "out",
        "1001",
        "'=1+1",  # inert in a spreadsheet
        "answered",
        first.handset_ip,
    ]
    assert rows[1][1:4] == ["", "2026-12-01T12:00:32+00:00", "0"]
    assert rows[1][7] == "missed"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"domain": "nowhere.test"}, "No install has the SIP domain 'nowhere.test'."),
        ({"domain": "acme.pbx.test", "since": "yesterday"}, "'yesterday' is not a date"),
        (
            {"domain": "acme.pbx.test", "since": "2026-12-02", "until": "2026-12-01"},
            "--until must be on or after --since.",
        ),
    ],
)
def test_export_refuses_bad_options_in_one_line(install, options, message):
    with pytest.raises(CommandError) as caught:
        call_command("export_calls", stdout=StringIO(), **options)

    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_prune_deletes_only_calls_older_than_the_days(install):
    old = record(install, started=timezone.now() - timedelta(days=401))
    kept = record(install, started=timezone.now() - timedelta(days=399))
    out = StringIO()

    call_command("prune_call_log", older_than_days=400, stdout=out)

    assert list(CallRecord.objects.values_list("pk", flat=True)) == [kept.pk]
    assert out.getvalue().strip() == "Deleted 1 call records older than 400 days."
    assert not CallRecord.objects.filter(pk=old.pk).exists()


def test_prune_refuses_zero_days(install):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_call_log", older_than_days=0, stdout=StringIO())
