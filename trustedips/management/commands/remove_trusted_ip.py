from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.trail import Actor
from common.commands import fail_with
from installs.models import Install
from trustedips import services
from trustedips.models import TrustedRange
from trustedips.validators import parse_network


class Command(BaseCommand):
    help = "Remove a trusted IP range from an install."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("--cidr", required=True)

    def handle(self, *args: Any, domain: str, cidr: str, **options: Any) -> None:
        install = Install.objects.filter(sip_domain=domain.strip().lower()).first()
        if install is None:
            raise CommandError(f"No install has the SIP domain {domain}.")
        try:
            network = parse_network(cidr)
        except ValidationError as error:
            raise fail_with(error) from None
        trusted = TrustedRange.objects.filter(
            install=install, network=network.with_prefixlen
        ).first()
        if trusted is None:
            raise CommandError(
                f"{network.with_prefixlen} is not a trusted range of {install.sip_domain}."
            )
        services.remove_range(trusted=trusted, actor=Actor.for_command("remove_trusted_ip"))
        self.stdout.write(
            self.style.SUCCESS(f"Removed {network.with_prefixlen} from {install.sip_domain}.")
        )
