"""Keep `Install.trusted_ranges_version` moving with every change to an install's ranges, and
tell other apps (which this app never imports) when an administrator removes a range.

`range_removed` is sent by `services.remove_range` inside its transaction, after the row is
gone, so a receiver sees the ranges that remain. The registrations app listens to log out
every live session that came from an address no remaining range covers: the SIP edge
authenticates refreshes of a live binding by itself, so the binding must go now, not at the
handset's next check.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from installs.models import Install

from .models import TrustedRange

range_removed = Signal()  # sender=TrustedRange, install=..., network="<cidr>", actor=...


@receiver(post_save, sender=TrustedRange)
@receiver(post_delete, sender=TrustedRange)
def bump_ranges_version(sender, instance: TrustedRange, **kwargs) -> None:
    Install.objects.filter(pk=instance.install_id).update(
        trusted_ranges_version=F("trusted_ranges_version") + 1
    )
