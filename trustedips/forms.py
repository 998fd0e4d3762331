from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from installs.models import Install

from .models import TrustedRange
from .validators import Network, parse_network


class TrustedRangeForm(forms.Form):
    """The "Add IP Range" form at the foot of the Trusted IPs tab."""

    network = forms.CharField(
        label="IP range",
        max_length=64,
        help_text=(
            "A CIDR range: a network address and a prefix length, such as 203.0.113.0/24 for "
            "203.0.113.0 to 203.0.113.255. A single address (203.0.113.7) means that host only."
        ),
    )
    description = forms.CharField(
        max_length=200, help_text="Where this range is, e.g. London office."
    )

    def __init__(self, *args: Any, install: Install, **kwargs: Any) -> None:
        self.install = install
        super().__init__(*args, **kwargs)

    def clean_network(self) -> Network:
        network = parse_network(self.cleaned_data["network"])
        if TrustedRange.objects.filter(
            install=self.install, network=network.with_prefixlen
        ).exists():
            raise ValidationError(
                "%(network)s is already a trusted range of this install.",
                code="duplicate",
                params={"network": network.with_prefixlen},
            )
        return network

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise ValidationError("Say where this range is.", code="required")
        return description
