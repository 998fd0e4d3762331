from django import forms

from .models import Install


class InstallSettingsForm(forms.ModelForm):
    class Meta:
        model = Install
        fields = ["name", "registration_expiry"]
