"""Validators for the Handset Setup forms, wrapping the pure checks in `yealink`."""

from django.core.exceptions import ValidationError

from . import yealink


def validate_label(value: str) -> None:
    if (problem := yealink.label_problem(value)) is not None:
        raise ValidationError(problem, code="invalid_label")


def validate_mac(value: str) -> None:
    """A stored MAC is canonical: 12 lower-case hex digits, as in the handset's file name."""
    canonical = yealink.canonical_mac(value)
    if canonical is None:
        raise ValidationError(
            "Enter the MAC address from the label under the handset, such as 80:5e:c0:12:34:56.",
            code="invalid_mac",
        )
    if canonical != value:
        raise ValidationError(
            "Store MAC addresses as 12 lower-case hex digits (%(mac)s).",
            code="not_canonical",
            params={"mac": canonical},
        )
