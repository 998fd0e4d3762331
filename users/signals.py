"""Signals other apps listen to, so this app never imports them.

`pin_changed` and `access_revoked` let the registrations app clear a lockout and end live
hot-desk sessions the moment an administrator acts, not at the next re-registration;
`user_history` lets the rooms above show a user's recent sessions and calls on their page;
`logged_in_now` lets the Users tab show, filter and sort by who is logged in at a hot desk,
which only registrations/ knows.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.dispatch import Signal

pin_changed = Signal()  # sender=PbxUser, user=..., actor=...
access_revoked = Signal()  # sender=PbxUser, user=..., actor=...
# What the user's edit page shows of their history (recent sessions, recent calls): sent with
# user=...; each receiver returns a `HistoryTable`.
user_history = Signal()
# Who is logged in at a hot desk of an install right now, for the Users tab: sent once per page
# with install=...; each receiver returns a mapping extension -> where (the handset, in words,
# "" if unknown), or a set of extensions. Answer from the database in one query: the tab lists
# hundreds of users and must not wait for the SIP edges.
logged_in_now = Signal()


@dataclass(frozen=True)
class HistoryTable:
    """One table of a user's recent history, already in words, for the user's edit page."""

    title: str
    order: int  # tables are shown by this, lowest first
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]] = ()
    empty: str = "Nothing yet."
    more_url: str = ""  # where the whole of it is (a filtered log), if anywhere
    more_label: str = ""
