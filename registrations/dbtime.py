"""Datetimes read with a plain database cursor, made comparable with an aware `now`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from django.utils import timezone
from django.utils.dateparse import parse_datetime


@overload
def aware_utc(value: datetime | str) -> datetime: ...
@overload
def aware_utc(value: None) -> None: ...
def aware_utc(value: datetime | str | None) -> datetime | None:
    """A timezone-aware datetime from what the database driver hands back.

    SQLite's plain cursor gives text, or with its "datetime" converter a naive value; both are
    UTC (USE_TZ). Compared with an aware `now`, a naive one would fail closed and turn every
    timed lock into a permanent one.
    """
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"not a datetime from the database: {value!r}")
        value = parsed
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value
