from django import forms

from .models import Install
from .validators import normalise_pbx_address


class InstallSettingsForm(forms.ModelForm):
    class Meta:
        model = Install
        fields = ["name", "registration_expiry", "pbx_address"]

    def clean_pbx_address(self) -> str:
        # Accept any spelling of a valid address (SIP:PBX.Example:5060) and store one form.
        return normalise_pbx_address(self.cleaned_data["pbx_address"])
