"""Reactions to administrators' changes to PBX users, so they take effect at once."""

from django.dispatch import receiver

from users.signals import access_revoked, pin_changed

from . import lockouts


@receiver(pin_changed)
def lift_lockout_on_new_pin(sender, user, actor, **kwargs) -> None:
    # The guesser does not know the new PIN, so the wrong guesses against the old one no
    # longer mean anything.
    lockouts.reset(pbx_user=user)


@receiver(access_revoked)
def end_sessions_on_revocation(sender, user, actor, **kwargs) -> None:
    from . import sessions

    sessions.end_all_for_user(pbx_user=user, reason="forced", actor_label=actor.label)
