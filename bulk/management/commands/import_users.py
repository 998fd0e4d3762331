from bulk.commands import ImportCommand
from bulk.users import USERS


class Command(ImportCommand):
    help = "Import users from CSV (a file, or stdin): a dry run unless --apply."
    kind = USERS
