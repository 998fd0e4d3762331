"""Reactions to administrators' changes to PBX users, so they take effect at once."""

from django.dispatch import receiver

from users.signals import access_revoked, pin_changed

from . import lockouts, sessions


@receiver(pin_changed)
def lift_lockout_on_new_pin(sender, user, actor, **kwargs) -> None:
    # The guesser does not know the new PIN, so the wrong guesses against the old one no
    # longer mean anything.
    lockouts.reset(pbx_user=user)


@receiver(pin_changed)
def log_out_on_new_pin(sender, user, actor, **kwargs) -> None:
    # A new PIN is often given because the old one leaked: whoever holds it is logged out
    # now, not at their next refresh.
    sessions.log_out_user(pbx_user=user, actor=actor, why="new PIN")


@receiver(access_revoked)
def end_sessions_on_revocation(sender, user, actor, **kwargs) -> None:
    # Sent for a removed user too, before the row (and its sessions) are deleted.
    sessions.log_out_user(pbx_user=user, actor=actor, why="access revoked")
