"""What the portal's filter forms share: Bootstrap classes, and a From/To date range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone


class FilterForm(forms.Form):
    """A GET filter form whose fields are styled alike; `since`/`until` fields, if it has them,
    must be in order, and an `extension` is stripped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "Must be on or after the From date.")
        if "extension" in self.fields:
            cleaned["extension"] = (cleaned.get("extension") or "").strip()
        return cleaned


def date_field(label: str) -> forms.DateField:
    return forms.DateField(required=False, label=label, widget=forms.DateInput({"type": "date"}))


def within_days(rows: QuerySet, field: str, *, since: date | None, until: date | None) -> QuerySet:
    """`rows` whose `field` falls on the days `since` to `until`, both included, in the
    portal's time zone (either may be None: no bound)."""
    if since:
        rows = rows.filter(**{f"{field}__gte": _start_of(since)})
    if until:
        rows = rows.filter(**{f"{field}__lt": _start_of(until + timedelta(days=1))})
    return rows


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
