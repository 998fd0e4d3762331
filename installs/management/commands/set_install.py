from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.models import Action
from audit.trail import Actor, diff, record
from common.commands import fail_with
from installs.models import Install
from installs.validators import normalise_pbx_address

# What the command may change, as the install settings page does.
FIELDS = ("name", "registration_expiry", "pbx_address")


class Command(BaseCommand):
    help = (
        "Change an install's settings: its name, registration expiry and PBX address "
        '(--pbx-address "" removes it). Audited; the SIP domain never changes.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True, help="SIP domain of the install")
        parser.add_argument("--name", help="Install name, e.g. Head Office")
        parser.add_argument("--expiry", type=int, help="Registration expiry, seconds")
        parser.add_argument(
            "--pbx-address",
            help="SIP URI of the PBX or trunk, sip:HOST[:PORT][;transport=udp|tcp|tls]",
        )

    def handle(self, *args, domain: str, name, expiry, pbx_address, **options) -> None:
        if name is None and expiry is None and pbx_address is None:
            raise CommandError("Nothing to change: give --name, --expiry or --pbx-address.")
        with transaction.atomic():
            install = (
                Install.objects.select_for_update()
                .filter(sip_domain=domain.strip().lower())
                .first()
            )
            if install is None:
                raise CommandError(f"No install has the SIP domain {domain.strip()!r}.")
            before = {field: getattr(install, field) for field in FIELDS}
            try:
                if name is not None:
                    install.name = name.strip()
                if expiry is not None:
                    install.registration_expiry = expiry
                if pbx_address is not None:
                    install.pbx_address = _pbx_address(pbx_address)
                install.full_clean()
            except ValidationError as error:
                raise fail_with(error) from None
            changes = diff(before, {field: getattr(install, field) for field in FIELDS})
            if changes:
                install.save(update_fields=[*changes])
                record(
                    actor=Actor.for_command("set_install"),
                    action=Action.INSTALL_CHANGED,
                    install=install,
                    obj=install,
                    changes=changes,
                )
        verb = "Updated" if changes else "No change to"
        self.stdout.write(self.style.SUCCESS(f"{verb} install {install}."))


def _pbx_address(text: str) -> str:
    try:
        return normalise_pbx_address(text)
    except ValidationError as error:
        raise ValidationError({"pbx_address": error.messages}) from None
