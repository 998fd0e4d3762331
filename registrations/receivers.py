"""Reactions to administrators' changes to PBX users and trusted ranges, so they take effect
at once.

Every change that would make the portal deny a handset's next refresh logs the user out here,
which removes the binding on the SIP edges (`ul.rm`): the shipped Kamailio config
authenticates refreshes of a live binding without asking the portal (for up to
HOTDESK_REFRESH_CACHE_SECONDS), so removing the binding is what revokes.

A lockout after wrong PINs does not log anyone out, on purpose: the wrong guesses may come
from another desk, and a guesser must not be able to throw the real user off their phone.
The lockout refuses new logins (and portal-validated refreshes); the live binding stays.
"""

from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from audit.trail import Actor
from installs.models import Install
from trustedips.matching import is_trusted, normalise_source
from trustedips.signals import range_removed
from users.models import PbxUser
from users.signals import (
    HistoryTable,
    access_revoked,
    logged_in_now,
    pin_changed,
    user_history,
)

from . import lockouts, logouts
from .models import HotDeskSession


@receiver(pin_changed)
def lift_lockout_on_new_pin(sender, user, actor, **kwargs) -> None:
    # The guesser does not know the new PIN, so the wrong guesses against the old one no
    # longer mean anything.
    lockouts.reset(pbx_user=user)


@receiver(pin_changed)
def log_out_on_new_pin(sender, user, actor, **kwargs) -> None:
    # A new PIN is often given because the old one leaked: whoever holds it is logged out
    # now, not at their next refresh.
    logouts.log_out_user(pbx_user=user, actor=actor, why="new PIN")


@receiver(access_revoked)
def end_sessions_on_revocation(sender, user, actor, **kwargs) -> None:
    # Sent for a removed user too, before the row (and its sessions) are deleted.
    logouts.log_out_user(pbx_user=user, actor=actor, why="access revoked")


@receiver(range_removed)
def log_out_sessions_no_longer_trusted(sender, install, network, actor, **kwargs) -> None:
    # The removed range is gone already (same transaction): a session whose source address no
    # remaining range of the install covers would now be refused at its next check.
    remaining = [r.ip_network for r in install.trusted_ranges.all()]
    live = (
        HotDeskSession.objects.filter(install=install, ended_at__isnull=True)
        .select_related("pbx_user__install")
        .order_by("pk")
    )
    users: dict[int, PbxUser] = {}
    for session in live:
        # The decision's own rules (e.g. an IPv4-mapped IPv6 address counts as IPv4).
        source = normalise_source(session.source_ip)
        untrusted = source is None or not is_trusted(source, remaining)
        # A live session always has its user (removing one ends its sessions).
        if untrusted and session.pbx_user is not None:
            users.setdefault(session.pbx_user.pk, session.pbx_user)
    for user in users.values():
        logouts.log_out_user(pbx_user=user, actor=actor, why=f"trusted range {network} removed")


@receiver(pre_delete, sender=Install)
def remove_bindings_of_a_deleted_install(sender, instance, **kwargs) -> None:
    # Sent before the install's users and sessions are deleted with it: afterwards the portal
    # would deny those handsets at their next check, but their refreshes would not come to it
    # until the edge's cache entry ran out.
    logouts.remove_install_bindings_later(install=instance)


@receiver(pre_delete, sender=PbxUser)
def keep_who_it_was_in_the_session_history(sender, instance, **kwargs) -> None:
    # The sessions stay (the foreign key is set to NULL after this signal), and the Real Time
    # Dashboard's history must still say whose they were. Removing a user on the Users tab
    # has logged them out already (access_revoked); removed any other way (a shell), a live
    # session is ended here, for a session without a user cannot be live.
    if HotDeskSession.objects.filter(pbx_user=instance, ended_at__isnull=True).exists():
        logouts.log_out_user(pbx_user=instance, actor=Actor.system("user removed"), why="removed")
    HotDeskSession.objects.filter(pbx_user=instance).update(
        removed_extension=instance.extension, removed_name=instance.name
    )


RECENT_SESSIONS = 10


@receiver(user_history, dispatch_uid="registrations.recent_sessions")
def recent_sessions(sender, user, **kwargs) -> HistoryTable:
    """The user's last hot-desk sessions, for their edit page."""
    sessions = HotDeskSession.objects.filter(pbx_user=user).order_by("-logged_in_at", "-pk")
    rows = [
        (
            _when(session.logged_in_at),
            _when(session.ended_at) if session.ended_at else "logged in now",
            session.get_end_reason_display()
            + (f" by {session.ended_by}" if session.ended_by else ""),
            f"{session.source_ip} {session.user_agent}".strip(),
        )
        for session in sessions[:RECENT_SESSIONS]
    ]
    return HistoryTable(
        title="Recent hot-desk sessions",
        order=10,
        columns=("Logged in", "Ended", "How", "Handset"),
        rows=rows,
        empty="Never logged in at a hot desk.",
        more_url=reverse("registrations:dashboard", args=[user.install_id]),
        more_label="Real Time Dashboard",
    )


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


@receiver(logged_in_now, dispatch_uid="registrations.logged_in_now")
def open_sessions(sender, install, **kwargs) -> dict[str, str]:
    """Who is logged in at a hot desk of `install` now (extension -> handset), for the Users tab.

    The open sessions whose binding has not run out, in one query: the list must not wait for
    the SIP edges (the Real Time Dashboard reconciles the sessions with them).
    """
    live = HotDeskSession.objects.filter(
        install=install,
        ended_at__isnull=True,
        expires_at__gt=timezone.now(),
        pbx_user__isnull=False,
    ).values_list("pbx_user__extension", "source_ip", "user_agent")
    return {extension: f"{ip} {agent}".strip() for extension, ip, agent in live}
