"""Yealink configuration for hot desking: the exact `.cfg` lines for one install.

One pure module for the Handset Setup tab, the provisioning server and `yealink_config`, so
the three can never disagree. It imports only the standard library and never raises on
malformed user input it is asked to *check* (`label_problem`, `canonical_mac`); `render`
raises ValueError only for a programming error (input that skipped those checks).

Yealink reads a `.cfg` file as `parameter = value` lines; everything after the `=` is the value,
so comments go on lines of their own (`#`), never after a value.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "COMMON_FILENAME",
    "DEFAULT_LABEL",
    "DEFAULT_LINE_KEY",
    "HOT_DESKING_KEY_TYPE",
    "LINE_KEY_RANGES",
    "MAX_LABEL_LENGTH",
    "MAX_LINE_KEY",
    "MAX_SAFE_EXPIRY",
    "VERSION_LINE",
    "HotDeskConfig",
    "canonical_mac",
    "format_mac",
    "label_problem",
    "line_key_limit",
    "mac_filename",
    "mac_from_user_agent",
    "render",
    "setting_lines",
]

VERSION_LINE = "#!version:1.0.0.1"
COMMON_FILENAME = "y000000000000.cfg"
HOT_DESKING_KEY_TYPE = 34
DEFAULT_LABEL = "Hot Desking"
MAX_LABEL_LENGTH = 32
# Above this a logged-in operator's registration can lapse before the phone renews it.
MAX_SAFE_EXPIRY = 600

# The last line key (linekey.X) of each family, from Yealink's administrator guides. A key
# past the end of a handset's range is ignored by that handset, silently.
LINE_KEY_RANGES: dict[str, int] = {
    "T21": 2,
    "T23": 3,
    "T40": 3,
    "T41": 15,
    "T42": 15,
    "T27": 21,
    "T29": 27,
    "T46": 27,
    "T48": 29,
}
MAX_LINE_KEY = max(LINE_KEY_RANGES.values())
# Where the Hot Desking key goes unless the administrator says otherwise. Not key 1: a Yealink
# handset shows its own account line (account 1, the one hot desking logs in to) on line key
# 1, and a Hot Desking key there takes that line's key away from the operator. Key 2 is the
# first key that is not account 1's, and the only one beyond it every family above has (a T21
# has 2 line keys and would silently ignore key 3). Handsets that use a second account on key 2
# need another key: the Handset Setup tab says so.
DEFAULT_LINE_KEY = 2

_MAC_SEPARATORS = re.compile(r"[:\-.\s]")
_MAC = re.compile(r"[0-9a-f]{12}")
# Yealink's User-Agent ends with the MAC: "Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56".
_UA_MAC = re.compile(r"\b((?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}|[0-9a-fA-F]{12})\s*$")


@dataclass(frozen=True)
class HotDeskConfig:
    """What varies between installs: the SIP domain, its expiry, and where the key sits."""

    sip_domain: str
    expiry: int
    line_key: int = DEFAULT_LINE_KEY
    label: str = DEFAULT_LABEL


def _breaks_lines(char: str) -> bool:
    """Whether `char` is a control or format character, or a Unicode line/paragraph separator.

    Categories C* (controls such as CR, LF, NEL, and invisible format characters) and Zl/Zp
    (U+2028, U+2029), which text tools and some parsers treat as the end of a line.
    """
    category = unicodedata.category(char)
    return category.startswith("C") or category in {"Zl", "Zp"}


def _describe_char(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def line_key_limit(family: str | None) -> int:
    """The last line key of a handset family (`T46`), or of the largest family if unknown."""
    return LINE_KEY_RANGES.get((family or "").upper(), MAX_LINE_KEY)


def label_problem(label: object) -> str | None:
    """Why `label` cannot be a key label, or None if it can.

    A newline would let the label start a configuration line of its own, so line breaks
    (including U+2028 and U+2029) and control characters of every kind are refused, not
    stripped.
    """
    if not isinstance(label, str) or not label.strip():
        return "Enter a label for the key, such as “Hot Desking”."
    if (char := next((c for c in label if _breaks_lines(c)), None)) is not None:
        return (
            "The label cannot contain line breaks or other control characters "
            f"(it has {_describe_char(char)}): type it again as plain text on one line."
        )
    if label != label.strip():
        return "Remove the spaces around the label."
    if len(label) > MAX_LABEL_LENGTH:
        return f"Keep the label to {MAX_LABEL_LENGTH} characters: the key shows only a few."
    return None


def canonical_mac(text: object) -> str | None:
    """A MAC address as 12 lower-case hex digits (Yealink's file name form), or None.

    Accepts the usual spellings: `80:5E:C0:12:34:56`, `80-5e-c0-12-34-56`, `805e.c012.3456`,
    `805EC0123456`.
    """
    if not isinstance(text, str):
        return None
    digits = _MAC_SEPARATORS.sub("", text.strip()).lower()
    return digits if _MAC.fullmatch(digits) else None


def format_mac(mac: str) -> str:
    """`805ec0123456` as `80:5e:c0:12:34:56`, as printed on the handset's label."""
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def mac_filename(mac: str) -> str:
    """The per-handset file a Yealink phone asks for: `<lower-case mac>.cfg`."""
    canonical = canonical_mac(mac)
    if canonical is None:
        raise ValueError(f"not a MAC address: {mac!r}")
    return f"{canonical}.cfg"


def mac_from_user_agent(user_agent: object) -> str | None:
    """The MAC a Yealink handset puts at the end of its User-Agent, or None."""
    if not isinstance(user_agent, str) or not user_agent.startswith("Yealink"):
        return None
    match = _UA_MAC.search(user_agent)
    return canonical_mac(match.group(1)) if match else None


def _settings(config: HotDeskConfig) -> list[tuple[str, str, str]]:
    """(comment, parameter, value) for each line, in the order a reader follows them."""
    key = f"linekey.{config.line_key}"
    return [
        ("Line key for hot desking, not tied to one account", f"{key}.line", "0"),
        (f"Key type {HOT_DESKING_KEY_TYPE} is Hot Desking", f"{key}.type", "34"),
        ("Empty: the phone asks who is logging in", f"{key}.value", ""),
        ("Empty: no call pickup code on this key", f"{key}.pickup_value", ""),
        ("Text shown beside the key", f"{key}.label", config.label),
        (
            "Do not ask for a SIP server at login: it is set below",
            "hotdesking.dsskey_sip_server_enable",
            "0",
        ),
        (
            "Ask for the user name (the extension) at login",
            "hotdesking.dsskey_username_enable",
            "1",
        ),
        (
            "Ask for the PIN at login; Yealink's default 0 sends no password and is rejected",
            "hotdesking.dsskey_password_enable",
            "1",
        ),
        (
            "Register to this install's SIP domain (also the digest realm)",
            "account.1.sip_server.1.address",
            config.sip_domain,
        ),
        (
            f"Re-register every {config.expiry} s as the install expects "
            f"(at most {MAX_SAFE_EXPIRY}, so logins never lapse)",
            "account.1.sip_server.1.expires",
            str(config.expiry),
        ),
    ]


def _check(config: HotDeskConfig) -> None:
    if not isinstance(config.line_key, int) or not 1 <= config.line_key <= MAX_LINE_KEY:
        raise ValueError(f"line key must be 1 to {MAX_LINE_KEY}, not {config.line_key!r}")
    if (problem := label_problem(config.label)) is not None:
        raise ValueError(problem)
    if not re.fullmatch(r"[a-z0-9.-]+", config.sip_domain or ""):
        raise ValueError(f"not a SIP domain: {config.sip_domain!r}")
    if not isinstance(config.expiry, int) or config.expiry <= 0:
        raise ValueError(f"expiry must be a positive number of seconds, not {config.expiry!r}")


def _comment(text: str) -> str:
    # Comments may carry administrator text (a desk name): flatten anything that could end
    # the comment line and start a setting.
    flat = "".join(" " if _breaks_lines(c) else c for c in text)
    return f"# {flat.strip()}"


def render(config: HotDeskConfig, *, header: tuple[str, ...] = ()) -> str:
    """The whole `.cfg` file: the version line, `header` comments, each setting under its why."""
    _check(config)
    lines = [VERSION_LINE]
    lines += [_comment(text) for text in header]
    for comment, parameter, value in _settings(config):
        lines.append(_comment(comment))
        lines.append(f"{parameter} = {value}".rstrip())
    return "\n".join(lines) + "\n"


def setting_lines(text: str) -> list[str]:
    """The `parameter = value` lines of a `.cfg` text, without comments or blank lines."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
