from common.commands import PruneCommand
from registrations.models import RegistrationLogEntry


class Command(PruneCommand):
    help = "Delete registration log entries older than N days, in batches."
    model = RegistrationLogEntry
    date_field = "created_at"
    rows_called = "registration log entries"
