from typing import Any

from django import forms

from .models import Install
from .validators import normalise_pbx_address


class InstallSettingsForm(forms.ModelForm):
    class Meta:
        model = Install
        fields = [
            "name",
            "registration_expiry",
            "pbx_address",
            "time_zone",
            "max_login_minutes",
            "daily_logout_at",
        ]
        widgets = {"daily_logout_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left empty, the time zone stays as it is (it always has one).
        self.fields["time_zone"].required = False

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip() or self.instance.time_zone

    def clean_pbx_address(self) -> str:
        # Accept any spelling of a valid address (SIP:PBX.Example:5060) and store one form.
        return normalise_pbx_address(self.cleaned_data["pbx_address"])
