from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from installs.models import Install

from . import yealink
from .models import Handset, ProvisioningProfile
from .validators import validate_label


class KeySettingsForm(forms.Form):
    """Where the Hot Desking key sits on the handset, and what it says."""

    line_key = forms.IntegerField(
        label="Line key position",
        min_value=1,
        max_value=yealink.MAX_LINE_KEY,
        help_text=(
            "Counted from the top left of the handset's line keys, starting at 1. "
            f"Default {yealink.DEFAULT_LINE_KEY}: key 1 is the phone's own account line."
        ),
    )
    handset_family = forms.ChoiceField(
        label="Smallest handset in use",
        required=False,
        choices=[("", f"Any Yealink (keys 1 to {yealink.MAX_LINE_KEY})")]
        + [
            (family, f"SIP-{family} (keys 1 to {last})")
            for family, last in sorted(yealink.LINE_KEY_RANGES.items(), key=lambda kv: kv[1])
        ],
        help_text="A key past the end of a handset's range is silently ignored by it.",
    )
    label = forms.CharField(
        max_length=yealink.MAX_LABEL_LENGTH,
        strip=True,
        validators=[validate_label],
        help_text="Shown beside the key.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean() returns cleaned_data
        line_key, family = cleaned.get("line_key"), cleaned.get("handset_family")
        if line_key and family and line_key > (last := yealink.line_key_limit(family)):
            self.add_error(
                "line_key",
                ValidationError(
                    "A SIP-%(family)s has line keys 1 to %(last)s: choose one of those.",
                    code="past_last_key",
                    params={"family": family, "last": last},
                ),
            )
        return cleaned

    @classmethod
    def initial_for(cls, profile: ProvisioningProfile) -> dict:
        return {
            "line_key": profile.line_key,
            "label": profile.label,
            "handset_family": profile.handset_family,
        }


class HandsetForm(forms.Form):
    """Register a handset: its MAC, where it is, and what it is."""

    mac = forms.CharField(
        label="MAC address",
        max_length=17 + 4,
        help_text="On the label under the handset, such as 80:5e:c0:12:34:56.",
    )
    desk = forms.CharField(label="Desk or location", max_length=120)
    model = forms.CharField(max_length=40, required=False, help_text="Such as SIP-T46S.")

    def __init__(self, *args: Any, install: Install, **kwargs: Any) -> None:
        self.install = install
        super().__init__(*args, **kwargs)

    def clean_mac(self) -> str:
        mac = yealink.canonical_mac(self.cleaned_data["mac"])
        if mac is None:
            raise ValidationError(
                "Enter a MAC address of 12 hex digits, such as 80:5e:c0:12:34:56.",
                code="invalid_mac",
            )
        if Handset.objects.filter(install=self.install, mac=mac).exists():
            raise ValidationError(
                "%(mac)s is already registered for this install.",
                code="duplicate",
                params={"mac": yealink.format_mac(mac)},
            )
        return mac

    def clean_desk(self) -> str:
        desk = self.cleaned_data["desk"].strip()
        if not desk:
            raise ValidationError("Say where this handset is, e.g. Desk 12.", code="required")
        return desk
