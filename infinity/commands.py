"""Small helpers shared by the management commands: one clear line per error."""

import sys
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import QuerySet
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


def delete_in_batches(queryset: QuerySet, *, batch: int) -> int:
    """Delete every row `queryset` selects, `batch` at a time; returns how many.

    Batches keep each transaction, and each lock on a busy table, short.
    """
    total = 0
    while pks := list(queryset.order_by().values_list("pk", flat=True)[:batch]):
        total += queryset.model.objects.filter(pk__in=pks).delete()[0]
    return total


def older_than(days: int):
    """The cutoff `days` ago, for a --older-than-days option (at least 1)."""
    if days < 1:
        raise CommandError("--older-than-days must be at least 1.")
    return timezone.now() - timedelta(days=days)
