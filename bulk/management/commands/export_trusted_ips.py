from bulk.commands import ExportCommand
from bulk.ranges import RANGES


class Command(ExportCommand):
    help = "Write the trusted IP ranges of an install as CSV (to a file, or stdout)."
    kind = RANGES
