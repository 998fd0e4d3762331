"""What the portal's filter forms share: Bootstrap classes, and a From/To date range."""

from __future__ import annotations

from typing import Any

from django import forms


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
