from typing import Any

from django import forms

from users.validators import validate_extension

from . import log_rows
from .models import ReasonCode


class ExplainForm(forms.Form):
    """What would happen if this extension registered from this address? (No PIN needed.)"""

    extension = forms.CharField(max_length=4, validators=[validate_extension])
    source_ip = forms.CharField(label="Source address", max_length=64, help_text="e.g. 203.0.113.7")


class LogFilterForm(forms.Form):
    extension = forms.CharField(required=False, max_length=64)
    source_ip = forms.GenericIPAddressField(required=False, label="Source address")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *log_rows.OUTCOMES.items()]
    )
    reason = forms.ChoiceField(
        required=False, label="Reason code", choices=[("", "Any reason"), *ReasonCode.choices]
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

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
        cleaned["extension"] = (cleaned.get("extension") or "").strip()
        return cleaned
