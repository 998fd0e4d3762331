"""Extension and Hot Desk PIN rules, straight through the validators (no database)."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from users.validators import validate_extension, validate_pin

EXTENSION = "1357"  # acceptable as a PIN in itself, so only the own-extension rule refuses it

# (PIN, code): each kind of guessable PIN has its own code and its own message.
WEAK_PINS = [
    pytest.param("0000", "pin_repeated", id="0000-all-the-same"),
    pytest.param("7777", "pin_repeated", id="7777-all-the-same"),
    pytest.param("1234", "pin_sequence", id="1234-run-up"),
    pytest.param("6789", "pin_sequence", id="6789-run-up"),
    pytest.param("9876", "pin_sequence", id="9876-run-down"),
    pytest.param("3210", "pin_sequence", id="3210-run-down"),
    pytest.param("2580", "pin_keypad", id="2580-keypad-column"),
    pytest.param("0852", "pin_keypad", id="0852-keypad-column-up"),
    pytest.param(EXTENSION, "pin_extension", id="own-extension"),
]

MALFORMED_PINS = [
    pytest.param("246", id="three-digits"),
    pytest.param("24680", id="five-digits"),
    pytest.param("24a8", id="letter"),
    pytest.param("24 8", id="space"),
    pytest.param("\uff12\uff14\uff16\uff18", id="fullwidth-digits"),
    pytest.param("\u0662\u0664\u0666\u0668", id="arabic-indic-digits"),
    pytest.param("2468\n", id="trailing-newline"),
    pytest.param("", id="empty"),
]

PIN_CODES = {"pin_format", "pin_repeated", "pin_sequence", "pin_keypad", "pin_extension"}
four_digits = st.from_regex(r"\A[0-9]{4}\Z")


def pin_refusal(pin: str, extension: str | None = EXTENSION) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_pin(pin, extension=extension)
    return caught.value


def guessable(extension: str) -> set[str]:
    """The refused 4-digit PINs, worked out here independently of the validator."""
    repeated = {digit * 4 for digit in "0123456789"}
    runs_up = {"".join(str(first + step) for step in range(4)) for first in range(7)}
    runs_down = {run[::-1] for run in runs_up}
    return repeated | runs_up | runs_down | {"2580", "0852", extension}


@pytest.mark.parametrize(("pin", "code"), WEAK_PINS)
def test_guessable_pin_is_refused_with_its_own_code(pin, code):
    assert pin_refusal(pin).code == code


def test_each_kind_of_guessable_pin_has_its_own_message():
    messages = {pin_refusal(pin).messages[0] for pin in ("0000", "1234", "2580", EXTENSION)}
    assert len(messages) == 4


@pytest.mark.parametrize("pin", MALFORMED_PINS)
def test_pin_that_is_not_exactly_four_digits_is_refused(pin):
    assert pin_refusal(pin).code == "pin_format"


@pytest.mark.parametrize("pin", ["2468", "1357", "9021", "0007", "1231"])
def test_acceptable_pin_passes(pin):
    validate_pin(pin, extension="1001")


def test_pin_equal_to_another_users_extension_is_fine():
    validate_pin(EXTENSION, extension="1001")


def test_exactly_the_guessable_pins_are_refused_among_all_ten_thousand():
    refused = set()
    for number in range(10_000):
        pin = f"{number:04d}"
        try:
            validate_pin(pin, extension=EXTENSION)
        except ValidationError:
            refused.add(pin)
    assert refused == guessable(EXTENSION)


@given(pin=four_digits, extension=four_digits)
def test_every_four_digit_pin_is_accepted_or_refused_with_a_validation_error(pin, extension):
    try:
        validate_pin(pin, extension=extension)
    except ValidationError as error:
        assert error.code in PIN_CODES
        assert pin in guessable(extension)
    else:
        assert pin not in guessable(extension)


@given(pin=st.text(max_size=8), extension=st.one_of(st.none(), st.text(max_size=8)))
def test_any_text_is_accepted_only_as_four_ascii_digits_and_never_crashes(pin, extension):
    try:
        validate_pin(pin, extension=extension)
    except ValidationError as error:
        assert error.code in PIN_CODES
    else:
        assert re.fullmatch(r"[0-9]{4}", pin)


@pytest.mark.parametrize("extension", ["1001", "0000", "9999"])
def test_four_digit_extension_is_accepted(extension):
    validate_extension(extension)


@pytest.mark.parametrize(
    "extension", ["100", "10011", "10a1", "", "\uff11\uff10\uff10\uff11", " 1001", "1001\n", "-100"]
)
def test_extension_that_is_not_exactly_four_digits_is_refused(extension):
    with pytest.raises(ValidationError) as caught:
        validate_extension(extension)
    assert caught.value.code == "extension_format"
