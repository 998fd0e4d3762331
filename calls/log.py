"""Which calls an administrator asked for, and how each is written to CSV: shared by the Call
log tab, its CSV download and `manage.py export_calls`."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from typing import TextIO

from django.db.models import Q, QuerySet
from django.utils import timezone

from common.forms import within_days
from common.spreadsheet import escape_cell

from .models import CallRecord

CSV_COLUMNS = (
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "direction",
    "extension",
    "other_party",
    "result",
    "handset_ip",
)
IN_PROGRESS = "in_progress"  # the result filter's and the export's word for "no result yet"


def calls_of(
    install,
    *,
    extension: str = "",
    direction: str = "",
    result: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[CallRecord]:
    """The install's calls, newest first. `extension` matches either side of a call (the
    operator's, or the other party: the callee of an internal call); `since` and `until` are
    whole days in the portal's time zone, both included."""
    calls = CallRecord.objects.filter(install=install)
    if extension:
        calls = calls.filter(Q(extension=extension) | Q(other_party=extension))
    if direction:
        calls = calls.filter(direction=direction)
    if result == IN_PROGRESS:
        calls = calls.filter(ended_at__isnull=True)
    elif result:
        calls = calls.filter(result=result)
    calls = within_days(calls, "started_at", since=since, until=until)
    return calls.order_by("-started_at", "-pk")


def write_csv(out: TextIO, calls: Iterable[CallRecord]) -> int:
    """Write CSV_COLUMNS and a row per call (times ISO 8601 with their offset, in the portal's
    time zone); cells a spreadsheet would run are made inert. Returns the rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for call in calls:
        writer.writerow([escape_cell(cell) for cell in csv_row(call)])
        count += 1
    return count


def csv_row(call: CallRecord) -> list[str]:
    return [
        _iso(call.started_at),
        _iso(call.answered_at),
        _iso(call.ended_at),
        str(call.duration_seconds),
        call.direction,
        call.extension,
        call.other_party,
        call.result or IN_PROGRESS,
        call.handset_ip,
    ]


def _iso(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""
