"""Small helpers shared by the management commands: one clear line per error."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


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
