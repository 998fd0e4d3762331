from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.trail import Actor
from common.commands import fail_with
from installs.models import Install
from trustedips import services
from trustedips.forms import TrustedRangeForm


class Command(BaseCommand):
    help = "Add a trusted IP range to an install."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("--cidr", required=True)
        parser.add_argument("--description", required=True)

    def handle(self, *args: Any, domain: str, cidr: str, description: str, **options: Any) -> None:
        install = Install.objects.filter(sip_domain=domain.strip().lower()).first()
        if install is None:
            raise CommandError(f"No install has the SIP domain {domain}.")
        form = TrustedRangeForm({"network": cidr, "description": description}, install=install)
        if not form.is_valid():
            raise fail_with(ValidationError(form.errors.as_data()))
        network = form.cleaned_data["network"]
        covering = services.covering_range(install=install, network=network)
        trusted = services.add_range(
            install=install,
            network=network,
            description=form.cleaned_data["description"],
            actor=Actor.for_command("add_trusted_ip"),
        )
        self.stdout.write(self.style.SUCCESS(f"Added {trusted.network} to {install.sip_domain}."))
        if covering:
            self.stdout.write(
                self.style.WARNING(
                    f"Note: already covered by {covering.network} ({covering.description})."
                )
            )
