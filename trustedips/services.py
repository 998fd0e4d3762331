"""Adding and removing trusted ranges, each audited, with the same rules for portal and shell."""

from django.db import transaction

from audit.models import Action
from audit.trail import Actor, record

from .models import TrustedRange
from .signals import range_removed
from .validators import Network


def covering_range(*, install, network: Network) -> TrustedRange | None:
    """An existing range of the install that already contains `network`, if any."""
    for existing in TrustedRange.objects.filter(install=install):
        other = existing.ip_network
        # subnet_of is typed per IP version; `version` is compared first, which mypy cannot see.
        same_version = other.version == network.version
        if same_version and other != network and network.subnet_of(other):  # type: ignore[arg-type]
            return existing
    return None


def add_range(*, install, network: Network, description: str, actor: Actor) -> TrustedRange:
    with transaction.atomic():
        trusted = TrustedRange.objects.create(
            install=install,
            network=network.with_prefixlen,
            description=description.strip(),
            added_by=actor.user,
            added_by_label=actor.label,
        )
        record(actor=actor, action=Action.RANGE_ADDED, install=install, obj=trusted)
    return trusted


def remove_range(*, trusted: TrustedRange, actor: Actor) -> None:
    """Remove a range; live sessions from addresses it alone trusted end with it (receivers
    of `signals.range_removed`), all or nothing."""
    install, network = trusted.install, trusted.network
    with transaction.atomic():
        record(actor=actor, action=Action.RANGE_REMOVED, install=install, obj=trusted)
        trusted.delete()
        range_removed.send(sender=TrustedRange, install=install, network=network, actor=actor)
