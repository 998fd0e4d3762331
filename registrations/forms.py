from django import forms

from users.validators import validate_extension

from .models import ReasonCode


class ExplainForm(forms.Form):
    """What would happen if this extension registered from this address? (No PIN needed.)"""

    extension = forms.CharField(max_length=4, validators=[validate_extension])
    source_ip = forms.CharField(label="Source address", max_length=64, help_text="e.g. 203.0.113.7")


class LogFilterForm(forms.Form):
    extension = forms.CharField(required=False, max_length=64)
    decision = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("allow", "Allowed"), ("deny", "Denied")]
    )
    reason = forms.ChoiceField(required=False, choices=[("", "Any"), *ReasonCode.choices])
