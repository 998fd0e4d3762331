from django.core.management.base import BaseCommand

from handsets.models import ProvisioningFetch
from infinity.commands import delete_in_batches, older_than

BATCH = 5000


class Command(BaseCommand):
    help = "Delete the records of configuration files served to handsets older than N days."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args, older_than_days: int, **options):
        cutoff = older_than(older_than_days)
        total = delete_in_batches(
            ProvisioningFetch.objects.filter(fetched_at__lt=cutoff), batch=BATCH
        )
        self.stdout.write(
            f"Deleted {total} provisioning fetches older than {older_than_days} days."
        )
