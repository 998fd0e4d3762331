from common.commands import PruneCommand
from registrations.models import RegistrationLogEntry

BATCH = 5000


class Command(PruneCommand):
    help = "Delete registration log entries older than N days, in batches."
    model = RegistrationLogEntry
    date_field = "created_at"
    rows_called = "registration log entries"

    def batch_size(self) -> int:
        return BATCH
