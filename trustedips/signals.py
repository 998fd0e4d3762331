"""Keep `Install.trusted_ranges_version` moving with every change to an install's ranges."""

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from installs.models import Install

from .models import TrustedRange


@receiver(post_save, sender=TrustedRange)
@receiver(post_delete, sender=TrustedRange)
def bump_ranges_version(sender, instance: TrustedRange, **kwargs) -> None:
    Install.objects.filter(pk=instance.install_id).update(
        trusted_ranges_version=F("trusted_ranges_version") + 1
    )
