from common.commands import PruneCommand
from handsets.models import ProvisioningFetch


class Command(PruneCommand):
    help = "Delete the records of configuration files served to handsets older than N days."
    model = ProvisioningFetch
    date_field = "fetched_at"
    rows_called = "provisioning fetches"
