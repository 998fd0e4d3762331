from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from registrations.models import RegistrationLogEntry

BATCH = 5000


class Command(BaseCommand):
    help = "Delete registration log entries older than N days, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args, older_than_days: int, **options):
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        total = 0
        # Batches keep each transaction (and each lock on the table) short on a busy log.
        while ids := list(
            RegistrationLogEntry.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :BATCH
            ]
        ):
            total += RegistrationLogEntry.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(
            f"Deleted {total} registration log entries older than {older_than_days} days."
        )
