from calls.models import CallRecord
from common.commands import PruneCommand


class Command(PruneCommand):
    help = "Delete call records that started more than N days ago, in batches."
    model = CallRecord
    date_field = "started_at"
    rows_called = "call records"
