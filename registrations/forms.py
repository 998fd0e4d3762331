from django import forms

from common.forms import FilterForm, date_field
from users.validators import validate_extension

from . import log_rows
from .models import ReasonCode


class ExplainForm(forms.Form):
    """What would happen if this extension registered from this address? (No PIN needed.)"""

    extension = forms.CharField(max_length=4, validators=[validate_extension])
    source_ip = forms.CharField(label="Source address", max_length=64, help_text="e.g. 203.0.113.7")


class LogFilterForm(FilterForm):
    extension = forms.CharField(required=False, max_length=64)
    source_ip = forms.GenericIPAddressField(required=False, label="Source address")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *log_rows.OUTCOMES.items()]
    )
    reason = forms.ChoiceField(
        required=False, label="Reason code", choices=[("", "Any reason"), *ReasonCode.choices]
    )
    since = date_field("From")
    until = date_field("To")
