"""What the Users tab does to many selected users at once, through the single-user services.

Every user goes through exactly the code User Settings uses (`services`), so each change is
audited per user and sends the same signals: a revocation or a new PIN logs that user out
(`access_revoked`, `pin_changed`). A batch is one transaction, all or nothing: new PINs that
were saved but never shown would lock everyone out. The logouts' calls to the SIP edges wait
for the commit (registrations/logouts.py), so a large batch holds no lock while it waits.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import models, transaction

from audit.trail import Actor

from . import services
from .models import PbxUser
from .pins import generate_pin

# The most users one action may change: a page shows at most 200; a larger request is refused.
MAX_BATCH = 500


class BatchAction(models.TextChoices):
    GRANT = "grant", "Give Hot Desk Access"
    REVOKE = "revoke", "Revoke Hot Desk Access"
    NEW_PINS = "new_pins", "Generate new PINs"


@dataclass
class AccessResult:
    """Who a grant or revoke changed, who already had it so, and who has no PIN to grant."""

    changed: list[PbxUser] = field(default_factory=list)
    unchanged: list[PbxUser] = field(default_factory=list)
    without_pin: list[PbxUser] = field(default_factory=list)


@dataclass(frozen=True)
class IssuedPin:
    """A new PIN, for the one page and the one download that show it (never in a repr)."""

    extension: str
    name: str
    pin: str = field(repr=False)


def set_access(*, users: Sequence[PbxUser], allowed: bool, actor: Actor) -> AccessResult:
    """Give (`allowed`) or revoke Hot Desk Access for each user, as User Settings would.

    A user without a PIN is not given access (the rule every form applies) and is reported.
    """
    result = AccessResult()
    with transaction.atomic():
        for user in users:
            if allowed and not user.hot_desk_access and not user.has_pin:
                result.without_pin.append(user)
            elif services.set_hot_desk_access(user=user, allowed=allowed, actor=actor):
                result.changed.append(user)
            else:
                result.unchanged.append(user)
    return result


def issue_new_pins(*, users: Sequence[PbxUser], actor: Actor) -> list[IssuedPin]:
    """A new random PIN for each user, saved as "Generate a PIN" saves one (`services.set_pin`).

    The PINs are returned for showing once; only their HA1 is stored.
    """
    issued = []
    with transaction.atomic():
        for user in users:
            pin = generate_pin(extension=user.extension)
            services.set_pin(user=user, pin=pin, actor=actor)
            issued.append(IssuedPin(extension=user.extension, name=user.name, pin=pin))
    return issued
