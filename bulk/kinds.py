"""The kinds of CSV the portal and the commands import and export, by URL name."""

from .imports import Kind
from .ranges import RANGES
from .users import USERS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (USERS, RANGES)}
