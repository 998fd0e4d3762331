"""Sealing a secret for one more request: the session keeps the sealed half, the page the key."""

import base64

import pytest
from django.contrib.sessions.backends.db import SessionStore

from users import pin_sheets
from users.batch import IssuedPin
from users.sealed import seal, unseal

SECRET = b"extension,name,pin\r\n1001,Ann,8264\r\n"


@pytest.mark.parametrize("data", [b"", b"x", SECRET, bytes(range(256)) * 4000])
def test_what_is_sealed_is_unsealed_with_its_key(data):
    key, sealed = seal(data)
    assert unseal(key=key, sealed=sealed) == data


def test_the_sealed_half_does_not_contain_the_secret():
    _, sealed = seal(SECRET)
    assert b"8264" not in base64.urlsafe_b64decode(sealed)


def test_every_seal_has_its_own_key():
    (key_a, sealed_a), (key_b, sealed_b) = seal(SECRET), seal(SECRET)
    assert key_a != key_b and sealed_a != sealed_b
    assert unseal(key=key_a, sealed=sealed_b) is None


def test_an_altered_sealed_half_opens_to_nothing():
    key, sealed = seal(SECRET)
    raw = bytearray(base64.urlsafe_b64decode(sealed))
    raw[-1] ^= 1
    assert unseal(key=key, sealed=base64.urlsafe_b64encode(bytes(raw)).decode()) is None


@pytest.mark.parametrize(
    ("key", "sealed"),
    [
        (None, None),
        ("", ""),
        ("not base64 !", "x"),
        (base64.urlsafe_b64encode(b"short").decode(), "AAAA"),
        ("\ud800", "\ud800"),
        (12, 34),
    ],
)
def test_malformed_halves_open_to_nothing_and_never_raise(key, sealed):
    assert unseal(key=key, sealed=sealed) is None


# --- The PIN sheet in the session --------------------------------------------------------------


PINS = [IssuedPin(extension="1001", name="Ann", pin="8264")]


@pytest.fixture
def session(db):
    return SessionStore()


def test_an_issued_pin_never_shows_in_a_repr():
    assert "8264" not in repr(PINS[0])


def test_a_sheet_is_taken_once(session):
    ticket = pin_sheets.keep(session, install_pk=1, pins=PINS)
    assert pin_sheets.take(session, install_pk=1, ticket=ticket) == SECRET
    assert pin_sheets.take(session, install_pk=1, ticket=ticket) is None


def test_a_sheet_older_than_its_time_is_gone(session):
    ticket = pin_sheets.keep(session, install_pk=1, pins=PINS, now=1_000.0)
    later = 1_000.0 + pin_sheets.SHEET_SECONDS + 1
    assert pin_sheets.take(session, install_pk=1, ticket=ticket, now=later) is None


def test_a_sheet_is_only_another_installs_for_nobody(session):
    ticket = pin_sheets.keep(session, install_pk=1, pins=PINS)
    assert pin_sheets.take(session, install_pk=2, ticket=ticket) is None
    assert pin_sheets.SESSION_KEY not in session


def test_a_newer_batch_replaces_the_older_sheet(session):
    older = pin_sheets.keep(session, install_pk=1, pins=PINS)
    pin_sheets.keep(session, install_pk=1, pins=PINS)
    assert pin_sheets.take(session, install_pk=1, ticket=older) is None
