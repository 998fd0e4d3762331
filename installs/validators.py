import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


_PBX_ADDRESS = re.compile(
    r"sip:(?P<host>\[[0-9a-fA-F:.]+\]|[^\s:;\[\]@/?]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?:;transport=(?P<transport>[a-zA-Z]+))?",
    re.IGNORECASE,
)
TRANSPORTS = ("udp", "tcp", "tls")
PBX_ADDRESS_HELP = (
    "Enter a SIP URI such as sip:pbx.acme.example or sip:10.0.0.5:5060;transport=tcp."
)


def normalise_pbx_address(value: str) -> str:
    """The PBX address in its one written form, or ValidationError saying what is wrong.

    `sip:HOST[:PORT][;transport=udp|tcp|tls]`: HOST a DNS name (lower-cased) or an IP literal
    (IPv6 in brackets); no user part, no other parameters, no headers, which the edge would
    otherwise have to guess at. Empty stays empty: the install has no PBX.
    """
    text = value.strip()
    if not text:
        return ""
    found = _PBX_ADDRESS.fullmatch(text)
    if found is None:
        raise ValidationError(PBX_ADDRESS_HELP, code="invalid_pbx_address")
    host = found["host"].lower()
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValidationError(
                "Enter the IPv6 address in brackets, e.g. sip:[2001:db8::5].", code="bad_ipv6"
            ) from None
    elif not _is_ipv4(host):
        labels = host.split(".")
        if (
            len(host) > 253
            or not all(_LABEL.fullmatch(label) for label in labels)
            or (labels[-1].isdigit())
        ):
            raise ValidationError(
                "The host must be a name such as pbx.acme.example or an IP address.",
                code="bad_host",
            )
    port = found["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValidationError("The port must be between 1 and 65535.", code="bad_port")
    transport = (found["transport"] or "").lower()
    if found["transport"] is not None and transport not in TRANSPORTS:
        raise ValidationError("The transport must be udp, tcp or tls.", code="bad_transport")
    return (
        "sip:"
        + host
        + (f":{int(port)}" if port else "")
        + (f";transport={transport}" if transport else "")
    )


def validate_pbx_address(value: str) -> None:
    if normalise_pbx_address(value) != value:
        raise ValidationError(
            "Write the PBX address as sip:host[:port][;transport=udp|tcp|tls], in lower case.",
            code="not_canonical",
        )


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows, e.g. Europe/London."""
    try:
        zone_of(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a time zone name, e.g. Europe/London or America/New_York."
        ) from None


def zone_of(name: str) -> ZoneInfo:
    """The time zone called `name`; ValueError for anything that is not one."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        # ZoneInfo reads files: no paths.
        raise ValueError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(name) from None
