"""Generating a PIN and turning one into the stored digest."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from users.pins import generate_pin, pin_ha1
from users.validators import validate_pin

four_digits = st.from_regex(r"\A[0-9]{4}\Z")


@given(extension=st.one_of(st.none(), four_digits))
@settings(max_examples=300)
def test_generated_pin_always_passes_every_rule(extension):
    pin = generate_pin(extension=extension)
    validate_pin(pin, extension=extension)


def test_generated_pins_differ():
    assert len({generate_pin(extension="1001") for _ in range(50)}) > 1


def test_ha1_is_md5_of_extension_domain_and_pin():
    expected = hashlib.md5(b"1001:acme.pbx.test:2468").hexdigest()
    assert pin_ha1(extension="1001", domain="acme.pbx.test", pin="2468") == expected
