"""Hot Desk PINs: generating an acceptable one, and turning one into the stored digest.

Only HA1 = md5("extension:domain:pin") is stored: it is what Kamailio's digest check needs,
and the PIN cannot be read back from it by the portal. (Four digits can still be found by
brute force from a leaked HA1 or a captured digest, which is why the portal and the SIP edge
count wrong PINs and why the README recommends TLS.)
"""

import secrets

from django.core.exceptions import ValidationError

from users.digest import pin_ha1

from .validators import validate_pin

__all__ = ["generate_pin", "pin_ha1"]


def generate_pin(*, extension: str | None = None) -> str:
    """A random PIN that passes every rule (the OS's CSPRNG, never `random`)."""
    while True:
        candidate = f"{secrets.randbelow(10_000):04d}"
        try:
            validate_pin(candidate, extension=extension)
        except ValidationError:
            continue
        return candidate
