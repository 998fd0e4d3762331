from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from installs.models import Install

from .models import PbxUser
from .validators import validate_pin


class PbxUserForm(forms.ModelForm):
    """User Settings: Hot Desk Access and a write-only Hot Desk PIN.

    The PIN field is never filled in from the stored value (there is none to fill: only its
    digest is kept); leaving it empty keeps the current PIN.
    """

    pin = forms.CharField(
        label="Hot Desk Pin",
        required=False,
        strip=True,
        max_length=4,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "inputmode": "numeric", "pattern": "[0-9]{4}"},
        ),
        help_text="4 digits. Leave empty to keep the current PIN. It cannot be shown again.",
    )

    class Meta:
        model = PbxUser
        fields = ["extension", "name", "hot_desk_access"]
        help_texts = {
            "extension": "The operator's 4-digit extension, such as 1001.",
            "hot_desk_access": "Allow this user to log in on shared handsets.",
        }

    def __init__(self, *args: Any, install: Install, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.install = install
        if self.instance.pk:
            # The PIN digest includes the extension, so renumbering would silently void the PIN.
            self.fields["extension"].disabled = True
            self.fields["extension"].help_text = "Fixed: the PIN digest is tied to it."

    def clean_extension(self) -> str:
        extension = self.cleaned_data["extension"]
        # The install is set here, not a form field, so ModelForm's own unique check skips it.
        taken = PbxUser.objects.filter(install=self.instance.install, extension=extension)
        if taken.exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                "Extension %(extension)s already exists in this install.",
                code="duplicate_extension",
                params={"extension": extension},
            )
        return extension

    def clean_pin(self) -> str:
        pin = self.cleaned_data["pin"]
        if pin:
            extension = self.cleaned_data.get("extension") or self.instance.extension
            validate_pin(pin, extension=extension)
        return pin

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
        missing_pin = not (
            cleaned.get("pin") or self.instance.has_pin or self.data.get("generate_pin")
        )
        if cleaned.get("hot_desk_access") and missing_pin:
            self.add_error(
                "pin",
                ValidationError("Set a PIN to give this user Hot Desk Access.", code="pin_needed"),
            )
        return cleaned


class UserSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=120)
