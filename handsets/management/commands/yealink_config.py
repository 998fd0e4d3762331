from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from handsets import services, yealink
from installs.models import Install


class Command(BaseCommand):
    help = "Print the Yealink hot-desking configuration of an install, as the portal shows it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument(
            "--line-key",
            type=int,
            help="Default: the install's saved position, or "
            f"{yealink.DEFAULT_LINE_KEY} if none is saved (key 1 is the account's own line)",
        )
        parser.add_argument("--label", help="Default: the install's saved label")

    def handle(
        self, *args: Any, domain: str, line_key: int | None, label: str | None, **options: Any
    ) -> None:
        install = Install.objects.filter(sip_domain=domain.strip().lower()).first()
        if install is None:
            raise CommandError(f"No install has the SIP domain {domain}.")
        profile = services.unsaved_profile(install)
        if line_key is not None:
            if not 1 <= line_key <= yealink.MAX_LINE_KEY:
                raise CommandError(f"--line-key must be 1 to {yealink.MAX_LINE_KEY}.")
            profile.line_key = line_key
        if label is not None:
            if (problem := yealink.label_problem(label)) is not None:
                raise CommandError(f"--label: {problem}")
            profile.label = label
        self.stdout.write(profile.render(), ending="")
        if install.registration_expiry > yealink.MAX_SAFE_EXPIRY:
            self.stderr.write(
                self.style.WARNING(
                    f"Note: the expiry {install.registration_expiry} s is above "
                    f"{yealink.MAX_SAFE_EXPIRY} s; a logged-in operator may time out."
                )
            )
