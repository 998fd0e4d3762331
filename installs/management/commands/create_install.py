from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Account
from audit.models import Action
from audit.trail import Actor, record
from common.commands import fail_with
from installs.models import DEFAULT_EXPIRY_SECONDS, Install


class Command(BaseCommand):
    help = "Create a Phone System Install (and its account, if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="Customer account name")
        parser.add_argument("--name", required=True, help="Install name, e.g. Head Office")
        parser.add_argument("--domain", required=True, help="SIP domain (digest realm)")
        parser.add_argument(
            "--expiry",
            type=int,
            default=DEFAULT_EXPIRY_SECONDS,
            help="Registration expiry, seconds",
        )

    def handle(
        self, *args: Any, account: str, name: str, domain: str, expiry: int, **options: Any
    ) -> None:
        install = Install(
            name=name.strip(), sip_domain=domain.strip().lower(), registration_expiry=expiry
        )
        try:
            with transaction.atomic():
                owner = Account.objects.filter(name__iexact=account.strip()).first() or Account(
                    name=account.strip()
                )
                owner.full_clean()
                owner.save()
                # Assigned once saved: an unsaved account leaves install.account_id empty, and
                # full_clean below would refuse every new account as "cannot be null".
                install.account = owner
                install.full_clean()
                install.save()
                record(
                    actor=Actor.for_command("create_install"),
                    action=Action.INSTALL_CREATED,
                    install=install,
                    obj=install,
                )
        except ValidationError as error:
            raise fail_with(error) from None
        self.stdout.write(self.style.SUCCESS(f"Created install {install} for {install.account}."))
