from bulk.commands import ExportCommand
from bulk.users import USERS


class Command(ExportCommand):
    help = "Write the users of an install as CSV (to a file, or stdout)."
    kind = USERS
