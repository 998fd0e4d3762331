"""Changes to PBX users that carry a rule beyond a plain field edit, each audited."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, diff, record

from .models import PbxUser
from .pins import pin_ha1
from .signals import access_revoked, pin_changed
from .validators import validate_pin


def set_pin(*, user: PbxUser, pin: str, actor: Actor) -> None:
    """Store a new Hot Desk PIN as its HA1 and audit "PIN changed" (never the value).

    A new PIN also lifts any lockout: the administrator has just given the operator a
    secret the guesser does not know.
    """
    validate_pin(pin, extension=user.extension)
    with transaction.atomic():
        user.pin_ha1 = pin_ha1(extension=user.extension, domain=user.install.sip_domain, pin=pin)
        user.pin_set_at = timezone.now()
        user.save(update_fields=["pin_ha1", "pin_set_at", "updated_at"])
        record(actor=actor, action=Action.PIN_CHANGED, install=user.install, obj=user)
        pin_changed.send(sender=PbxUser, user=user, actor=actor)


def clear_pin(*, user: PbxUser, actor: Actor) -> None:
    with transaction.atomic():
        user.pin_ha1 = ""
        user.pin_set_at = None
        user.save(update_fields=["pin_ha1", "pin_set_at", "updated_at"])
        record(actor=actor, action=Action.PIN_CLEARED, install=user.install, obj=user)
        # Without a PIN nobody can log in as this user: end the live sessions now.
        access_revoked.send(sender=PbxUser, user=user, actor=actor)


def snapshot(user: PbxUser) -> dict:
    """The audited, non-secret fields of a user."""
    return {"name": user.name, "hot_desk_access": user.hot_desk_access}


def save_user(*, user: PbxUser, pin: str | None, actor: Actor, before: dict | None = None) -> None:
    """Save a new or edited user (and its new PIN, if any) with its audit, all or nothing.

    `before` is the `snapshot` taken before the edit; it is ignored for a new user.
    """
    created = user.pk is None
    with transaction.atomic():
        user.save()
        after = snapshot(user)
        if created:
            record(
                actor=actor,
                action=Action.USER_ADDED,
                install=user.install,
                obj=user,
                changes=diff({}, after),
            )
        elif changes := diff(before or {}, after):
            record(
                actor=actor,
                action=Action.USER_CHANGED,
                install=user.install,
                obj=user,
                changes=changes,
            )
        if pin:
            set_pin(user=user, pin=pin, actor=actor)
        if not created and (before or {}).get("hot_desk_access") and not user.hot_desk_access:
            access_revoked.send(sender=PbxUser, user=user, actor=actor)


def set_hot_desk_access(*, user: PbxUser, allowed: bool, actor: Actor) -> bool:
    """Give or revoke Hot Desk Access as User Settings does (`save_user`); False if unchanged.

    Revoking sends `access_revoked`, so the user's hot-desk sessions end now; access is never
    given to a user without a PIN (the rule User Settings enforces), which raises.
    """
    if user.hot_desk_access == allowed:
        return False
    if allowed and not user.has_pin:
        raise ValidationError("Set a PIN to give this user Hot Desk Access.", code="pin_needed")
    before = snapshot(user)
    user.hot_desk_access = allowed
    save_user(user=user, pin=None, actor=actor, before=before)
    return True


def delete_user(*, user: PbxUser, actor: Actor) -> None:
    with transaction.atomic():
        record(actor=actor, action=Action.USER_REMOVED, install=user.install, obj=user)
        access_revoked.send(sender=PbxUser, user=user, actor=actor)
        user.delete()
