"""Small helpers shared by the management commands: one clear line per error."""

import sys
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Model
from django.utils import timezone


def fail_with(error: ValidationError, *, prefix: str = "") -> CommandError:
    """A CommandError whose message is the validation error on one line."""
    if hasattr(error, "error_dict"):
        text = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    else:
        text = " ".join(error.messages)
    return CommandError(f"{prefix}{text}")


def read_secret_from_stdin(what: str) -> str:
    """One line from standard input, so secrets never appear in argv or shell history."""
    line = sys.stdin.readline()
    secret = line.strip()
    if not secret:
        raise CommandError(f"No {what} on standard input.")
    return secret


class PruneCommand(BaseCommand):
    """Deletes the rows of `model` whose `date_field` is older than --older-than-days days.

    In batches of `batch_size`, which keep each transaction, and each lock on a busy table,
    short. Subclasses name the model, the field and what the rows are called.
    """

    model: type[Model]
    date_field: str
    rows_called: str
    batch_size = 5000

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args, older_than_days: int, **options) -> None:
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        old = self.model._default_manager.filter(**{f"{self.date_field}__lt": cutoff}).order_by()
        total = 0
        while pks := list(old.values_list("pk", flat=True)[: self.batch_size]):
            total += self.model._default_manager.filter(pk__in=pks).delete()[0]
        self.stdout.write(f"Deleted {total} {self.rows_called} older than {older_than_days} days.")
