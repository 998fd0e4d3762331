"""A secret kept for one more request without being stored in clear anywhere.

The server keeps the sealed bytes (in the session, which lives in the database); the key goes
only to the one page that may ask for the secret back (a hidden field of its form). Neither
half alone gives the secret: a copy of the session table does not, and neither does the page
once the server's half is gone. Used for a batch of new PINs (downloadable once) and for an
import file between its preview and its confirmation (it may carry PINs).

The standard library has no authenticated cipher and the project takes no dependency for one,
so the construction is the plainest sound one: every key is 256 random bits sealing one
message only; the keystream is SHAKE-256 of the key (an extendable-output function, as long as
the message); an HMAC-SHA-256 under a second key derived from it authenticates the result
(encrypt-then-MAC) and is checked in constant time. `unseal` never
raises on malformed input: anything wrong is simply "no secret".
"""

import base64
import binascii
import hashlib
import hmac
import secrets

KEY_BYTES = 32
_TAG_BYTES = 32


def _derive(key: bytes, purpose: bytes, length: int) -> bytes:
    # One label per use of the key, so the keystream and the MAC key are unrelated.
    return hashlib.shake_256(b"hotdesk.sealed." + purpose + b"\x00" + key).digest(length)


def _xor(data: bytes, key: bytes) -> bytes:
    if not data:
        return b""
    stream = _derive(key, b"stream", len(data))
    # Whole-number XOR: byte by byte would take a second for a 2 MB import file.
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
    return mixed.to_bytes(len(data), "big")


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(_derive(key, b"mac", 32), body, hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(text: object) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def seal(data: bytes) -> tuple[str, str]:
    """Seal `data` under a new key: `(key, sealed)`, both text.

    Give the key to the page and keep the sealed text on the server; never both in one place.
    """
    key = secrets.token_bytes(KEY_BYTES)
    body = _xor(data, key)
    return _encode(key), _encode(_tag(key, body) + body)


def unseal(*, key: object, sealed: object) -> bytes | None:
    """The data `seal` sealed, or None if the key is not its key or either half was altered."""
    raw_key, raw = _decode(key), _decode(sealed)
    if raw_key is None or raw is None or len(raw_key) != KEY_BYTES or len(raw) < _TAG_BYTES:
        return None
    tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(raw_key, body)):
        return None
    return _xor(body, raw_key)
