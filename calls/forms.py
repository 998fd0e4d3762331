from __future__ import annotations

from typing import Any

from django import forms

from .log import IN_PROGRESS
from .models import Direction, Result


class CallLogFilterForm(forms.Form):
    extension = forms.CharField(
        required=False, max_length=64, label="Extension", help_text="Either side of the call"
    )
    direction = forms.ChoiceField(
        required=False, choices=[("", "Any direction"), *Direction.choices]
    )
    result = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any result"),
            *[(value, label) for value, label in Result.choices if value],
            (IN_PROGRESS, "In progress"),
        ],
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "Must be on or after the From date.")
        cleaned["extension"] = (cleaned.get("extension") or "").strip()
        return cleaned
