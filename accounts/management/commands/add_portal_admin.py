from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Account, Membership, Role
from common.commands import fail_with, read_secret_from_stdin


class Command(BaseCommand):
    help = (
        "Create a portal login for an account (or add an existing login to it), as an "
        "administrator or, with --role viewer, one who sees everything and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True)
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            required=True,
            help="Read the password from standard input",
        )
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.ADMINISTRATOR,
            help="administrator (the default) or viewer",
        )

    def handle(self, *args: Any, account: str, username: str, role: str, **options: Any) -> None:
        found = Account.objects.filter(name__iexact=account.strip()).first()
        if found is None:
            raise CommandError(f"No account named {account}.")
        password = read_secret_from_stdin("password")
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(username=username)
        try:
            user.full_clean(exclude=["password"])
            validate_password(password, user)
        except ValidationError as error:
            raise fail_with(error) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(account=found, user=user, defaults={"role": role})
        verb = "administers" if role == Role.ADMINISTRATOR else "views"
        self.stdout.write(self.style.SUCCESS(f"{username} {verb} {found}."))
