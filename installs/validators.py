import re

from django.core.exceptions import ValidationError

# fullmatch, not match with "$": "$" would also accept a label ending in a newline.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def validate_sip_domain(value: str) -> None:
    """A SIP domain is a lower-case DNS host name with at least two labels (RFC 1123).

    It is the digest realm that phones register to, so IP literals and single labels are
    refused: both make the realm depend on how the phone reaches the proxy.
    """
    if value != value.strip().lower():
        raise ValidationError(
            "Enter the domain in lower case without spaces.", code="not_canonical"
        )
    labels = value.split(".") if value else []
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            "Enter a host name such as acme.pbx.example (letters, digits and hyphens, "
            "at least two labels).",
            code="invalid_domain",
        )
