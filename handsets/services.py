"""Changes to an install's handset setup, each audited, for the portal and commands alike."""

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, diff, record
from installs.models import Install

from .models import Handset, ProvisioningProfile, new_token

# The audit trail has no handset actions of its own; these changes are install settings.
_AUDITED_SETTINGS = ["line_key", "label", "handset_family"]


def profile_for(install: Install) -> ProvisioningProfile:
    """The install's provisioning profile, created with a fresh token on first use."""
    profile, _ = ProvisioningProfile.objects.get_or_create(install=install)
    profile.install = install
    return profile


def unsaved_profile(install: Install) -> ProvisioningProfile:
    """The stored profile, or the defaults without writing anything (for read-only pages)."""
    profile = ProvisioningProfile.objects.filter(install=install).first()
    if profile is None:
        profile = ProvisioningProfile(install=install)
    profile.install = install
    return profile


def save_key_settings(
    *, install: Install, line_key: int, label: str, handset_family: str, actor: Actor
) -> ProvisioningProfile:
    """Store where the hot-desk key sits and what it says; served from then on."""
    with transaction.atomic():
        profile = profile_for(install)
        before = {field: getattr(profile, field) for field in _AUDITED_SETTINGS}
        profile.line_key, profile.label, profile.handset_family = line_key, label, handset_family
        profile.save(update_fields=_AUDITED_SETTINGS)
        after = {field: getattr(profile, field) for field in _AUDITED_SETTINGS}
        if changes := diff(before, after):
            record(
                actor=actor,
                action=Action.INSTALL_CHANGED,
                install=install,
                obj=profile,
                changes={f"hot-desk key {k}": v for k, v in changes.items()},
            )
    return profile


def rotate_token(*, install: Install, actor: Actor) -> ProvisioningProfile:
    """Issue a new provisioning token; the old URL stops working at once (404).

    The audit says that the token changed, never either value.
    """
    with transaction.atomic():
        profile = profile_for(install)
        profile.token = new_token()
        profile.token_rotated_at = timezone.now()
        profile.save(update_fields=["token", "token_rotated_at"])
        record(
            actor=actor,
            action=Action.PROVISIONING_URL_REISSUED,
            install=install,
            obj=profile,
            changes={"provisioning URL": ("old token revoked", "new token issued")},
        )
    return profile


def register_handset(*, install: Install, mac: str, desk: str, model: str, actor: Actor) -> Handset:
    with transaction.atomic():
        handset = Handset.objects.create(
            install=install,
            mac=mac,
            desk=desk.strip(),
            model=model.strip(),
            added_by_label=actor.label,
        )
        record(
            actor=actor,
            action=Action.HANDSET_REGISTERED,
            install=install,
            obj=handset,
            changes={"handset": (None, "registered")},
        )
    return handset


def remove_handset(*, handset: Handset, actor: Actor) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.HANDSET_REMOVED,
            install=handset.install,
            obj=handset,
            changes={"handset": ("registered", None)},
        )
        handset.delete()
