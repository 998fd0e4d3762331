"""The parameters the SIP edge sends, validated like any other form."""

from django import forms

from .models import EventKind

_PROTOCOLS = ["udp", "tcp", "tls", "ws", "wss", "sctp"]


class CheckParams(forms.Form):
    domain = forms.CharField(max_length=253)
    user = forms.CharField(max_length=64)
    ip = forms.CharField(max_length=64)
    port = forms.IntegerField(required=False, min_value=0, max_value=65535)
    proto = forms.CharField(required=False, max_length=8)
    expires = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    ua = forms.CharField(required=False, max_length=1024, strip=False)
    callid = forms.CharField(required=False, max_length=255, strip=False)

    def clean_domain(self) -> str:
        return self.cleaned_data["domain"].strip().lower()

    def clean_proto(self) -> str:
        proto = self.cleaned_data["proto"].strip().lower()
        if proto and proto not in _PROTOCOLS:
            raise forms.ValidationError("Unknown transport.", code="invalid")
        return proto

    def clean_ua(self) -> str:
        return self.cleaned_data["ua"][:255]

    @property
    def deregistration(self) -> bool:
        return self.cleaned_data.get("expires") == 0


class EventParams(CheckParams):
    event = forms.ChoiceField(
        choices=[
            (k, k) for k in (EventKind.REGISTERED, EventKind.UNREGISTERED, EventKind.AUTH_FAILED)
        ]
    )
    callid = forms.CharField(max_length=255, strip=False)
    cseq = forms.IntegerField(min_value=0, max_value=2**31 - 1)
    contact = forms.CharField(required=False, max_length=512, strip=False)


def first_error(form: forms.Form) -> str:
    """One line naming the first bad parameter, for the JSON 400."""
    for field, errors in form.errors.items():
        return f"{field}: {errors[0]}"
    return "invalid request"
