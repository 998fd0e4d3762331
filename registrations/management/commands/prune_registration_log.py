from django.core.management.base import BaseCommand

from infinity.commands import delete_in_batches, older_than
from registrations.models import RegistrationLogEntry

BATCH = 5000


class Command(BaseCommand):
    help = "Delete registration log entries older than N days, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args, older_than_days: int, **options):
        cutoff = older_than(older_than_days)
        total = delete_in_batches(
            RegistrationLogEntry.objects.filter(created_at__lt=cutoff), batch=BATCH
        )
        self.stdout.write(
            f"Deleted {total} registration log entries older than {older_than_days} days."
        )
