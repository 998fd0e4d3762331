from bulk.commands import ImportCommand
from bulk.ranges import RANGES


class Command(ImportCommand):
    help = "Import trusted IP ranges from CSV (a file, or stdin): a dry run unless --apply."
    kind = RANGES
