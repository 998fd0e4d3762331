from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.trail import Actor
from common.commands import fail_with, read_secret_from_stdin
from installs.models import Install
from users import services
from users.models import PbxUser
from users.validators import validate_pin


class Command(BaseCommand):
    help = "Create or update a PBX user; --pin-stdin reads the Hot Desk PIN from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("--extension", required=True)
        parser.add_argument("--name")
        access = parser.add_mutually_exclusive_group()
        access.add_argument("--hot-desk", dest="hot_desk", action="store_true", default=None)
        access.add_argument("--no-hot-desk", dest="hot_desk", action="store_false")
        parser.add_argument("--pin-stdin", action="store_true", help="Read the PIN from stdin")

    def handle(
        self,
        *args: Any,
        domain: str,
        extension: str,
        name: str | None,
        hot_desk: bool | None,
        pin_stdin: bool,
        **options: Any,
    ) -> None:
        install = Install.objects.filter(sip_domain=domain.strip().lower()).first()
        if install is None:
            raise CommandError(f"No install has the SIP domain {domain}.")
        pin = read_secret_from_stdin("PIN") if pin_stdin else None
        user = PbxUser.objects.filter(install=install, extension=extension).first()
        created = user is None
        user = user or PbxUser(install=install, extension=extension)
        before = services.snapshot(user)
        if name is not None:
            user.name = name.strip()
        if hot_desk is not None:
            user.hot_desk_access = hot_desk
        try:
            user.full_clean()
            if pin is not None:
                validate_pin(pin, extension=extension)
            if user.hot_desk_access and not (pin or user.has_pin):
                raise ValidationError("Set a PIN (--pin-stdin) to give this user Hot Desk Access.")
            with transaction.atomic():
                services.save_user(
                    user=user,
                    pin=pin,
                    actor=Actor.for_command("set_pbx_user"),
                    before=None if created else before,
                )
        except ValidationError as error:
            raise fail_with(error) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user} on {install.sip_domain}."))
