from datetime import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.models import Action
from audit.trail import Actor, diff, record
from common.commands import fail_with
from installs.commands import install_by_domain
from installs.forms import InstallSettingsForm
from installs.models import Install
from installs.validators import normalise_pbx_address

# What the command may change: what the install's Settings tab changes.
FIELDS = tuple(InstallSettingsForm.Meta.fields)


class Command(BaseCommand):
    help = (
        "Change an install's settings: its name, registration expiry, PBX address, time zone "
        "and when hot-desk logins end (an empty value removes an address or a limit). Audited; "
        "the SIP domain never changes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True, help="SIP domain of the install")
        parser.add_argument("--name", help="Install name, e.g. Head Office")
        parser.add_argument("--expiry", type=int, help="Registration expiry, seconds")
        parser.add_argument(
            "--pbx-address",
            help="SIP URI of the PBX or trunk, sip:HOST[:PORT][;transport=udp|tcp|tls]",
        )
        parser.add_argument("--time-zone", help="IANA time zone, e.g. Europe/London")
        parser.add_argument(
            "--max-login-minutes", help='Log operators out this long after login ("" : no limit)'
        )
        parser.add_argument(
            "--daily-logout",
            help='Log every operator out daily at HH:MM[:SS] local time ("" : never)',
        )

    def handle(self, *args, domain: str, name, expiry, pbx_address, **options) -> None:
        limits = {key: options[key] for key in ("time_zone", "max_login_minutes", "daily_logout")}
        if name is None and expiry is None and pbx_address is None and not _given(limits):
            raise CommandError(
                "Nothing to change: give --name, --expiry, --pbx-address, --time-zone, "
                "--max-login-minutes or --daily-logout."
            )
        with transaction.atomic():
            install = install_by_domain(domain, lock=True)
            before = {field: getattr(install, field) for field in FIELDS}
            try:
                if name is not None:
                    install.name = name.strip()
                if expiry is not None:
                    install.registration_expiry = expiry
                if pbx_address is not None:
                    install.pbx_address = _pbx_address(pbx_address)
                _set_limits(install, **limits)
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


def _given(limits: dict) -> bool:
    return any(value is not None for value in limits.values())


def _set_limits(install: Install, *, time_zone, max_login_minutes, daily_logout) -> None:
    """The logout settings, parsed as the Settings form would; "" removes a limit."""
    if time_zone is not None:
        install.time_zone = time_zone.strip()
    if max_login_minutes is not None:
        text = max_login_minutes.strip()
        if text and not (text.isascii() and text.isdigit()):
            raise ValidationError({"max_login_minutes": ["Enter a whole number of minutes."]})
        install.max_login_minutes = int(text) if text else None
    if daily_logout is not None:
        text = daily_logout.strip()
        try:
            install.daily_logout_at = time.fromisoformat(text) if text else None
        except ValueError:
            raise ValidationError(
                {"daily_logout_at": ["Enter a time as HH:MM, e.g. 19:00."]}
            ) from None
