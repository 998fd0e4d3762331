"""The SIP digest HA1 of a PIN, and checking a PIN against one: plain Python, no Django.

Lives with the users because a PIN is theirs: only its HA1 is ever stored (`PbxUser.pin_ha1`),
and the SIP edge checks digests against it (registrations/policy.py hands it out).
"""

import hashlib
import hmac


def pin_ha1(*, extension: str, domain: str, pin: str) -> str:
    """Return the SIP digest HA1 for a PIN: md5 of ``extension:domain:pin``.

    This is ``HA1 = MD5(username:realm:password)`` from RFC 2617/7616, which
    Kamailio checks digests against; the SIP domain is the realm. Pass the
    domain exactly as Kamailio uses it as the realm (the canonical, lower-case
    form), or every digest will fail.

    PINs are validated upstream; text with lone surrogates (which no SIP
    client can send) raises ``UnicodeEncodeError`` rather than being hashed
    into an HA1 nobody could ever match.
    """
    # MD5 is what the SIP digest scheme mandates, not a choice made here;
    # usedforsecurity=False keeps it available on FIPS-restricted builds.
    material = f"{extension}:{domain}:{pin}".encode()
    return hashlib.md5(material, usedforsecurity=False).hexdigest()


def ha1_matches_pin(*, ha1: str, extension: str, domain: str, pin: str) -> bool:
    """Whether ``pin`` is the PIN behind ``ha1``, compared in constant time.

    Returns ``False`` rather than raising for malformed input (a non-string,
    or text that cannot be encoded).
    """
    if not all(isinstance(value, str) for value in (ha1, extension, domain, pin)):
        return False
    try:
        expected = pin_ha1(extension=extension, domain=domain, pin=pin)
        # Compare bytes: compare_digest raises TypeError on non-ASCII str.
        return hmac.compare_digest(ha1.encode(), expected.encode())
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; no real PIN or HA1 contains them.
        return False
