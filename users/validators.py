"""Rules for extensions and Hot Desk PINs.

A 4-digit PIN is only 10,000 guesses, and people pick the same few: other PBXs refuse the
trivial ones, and so do we. Each rule has its own message so the administrator knows which.
"""

import itertools
import re

from django.core.exceptions import ValidationError

# fullmatch, not match with "$": "$" would also accept a trailing newline.
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_KEYPAD_COLUMN = {"2580", "0852"}


def validate_extension(value: str) -> None:
    if not _FOUR_DIGITS.fullmatch(value or ""):
        raise ValidationError(
            "An extension is exactly 4 digits, such as 1001.", code="extension_format"
        )


def validate_pin_format(value: str) -> None:
    if not _FOUR_DIGITS.fullmatch(value or ""):
        raise ValidationError("The Hot Desk PIN is exactly 4 digits.", code="pin_format")


def validate_pin_strength(value: str, *, extension: str | None = None) -> None:
    """Refuse PINs that an attacker would try first. Assumes the format is already valid."""
    digits = [int(c) for c in value]
    steps = {b - a for a, b in itertools.pairwise(digits)}
    if len(set(value)) == 1:
        raise ValidationError(
            "A PIN of one repeated digit (such as 0000) is too easy to guess.", code="pin_repeated"
        )
    if steps in ({1}, {-1}):
        raise ValidationError(
            "A straight run of digits (such as 1234 or 9876) is too easy to guess.",
            code="pin_sequence",
        )
    if value in _KEYPAD_COLUMN:
        raise ValidationError(
            "The middle column of the keypad (2580) is too easy to guess.", code="pin_keypad"
        )
    if extension and value == extension:
        raise ValidationError("The PIN must not be the user's own extension.", code="pin_extension")


def validate_pin(value: str, *, extension: str | None = None) -> None:
    """Every PIN rule, format first."""
    validate_pin_format(value)
    validate_pin_strength(value, extension=extension)
