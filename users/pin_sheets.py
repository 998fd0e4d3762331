"""A batch's new PINs as a CSV (`extension,name,pin`), downloadable once, never stored in clear.

The batch's result page shows the PINs and carries the sheet's key in its download form; the
session keeps only the sheet sealed under that key (`sealed`). The sealed sheet is removed
when it is downloaded (whether or not the key was right), when another batch replaces it, when
the administrator opens another Users page, or after `SHEET_SECONDS`; without it, the key on
a page left open is worth nothing. So each PIN exists in clear only in that one response and
that one download.
"""

import csv
import io
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from common.spreadsheet import escape_cell

from .batch import IssuedPin
from .sealed import seal, unseal

SESSION_KEY = "users.pin_sheet"
SHEET_SECONDS = 15 * 60
COLUMNS = ("extension", "name", "pin")


@dataclass(frozen=True)
class SheetTicket:
    """What the result page's download form sends back: which sheet, and its key."""

    sheet: str
    key: str


def sheet_csv(pins: Sequence[IssuedPin]) -> bytes:
    """The CSV, with a name a spreadsheet would run as a formula made inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for issued in pins:
        writer.writerow([issued.extension, escape_cell(issued.name), issued.pin])
    return out.getvalue().encode("utf-8")


def keep(
    session: SessionBase, *, install_pk: int, pins: Sequence[IssuedPin], now: float | None = None
) -> SheetTicket:
    """Put the sealed sheet in the session (replacing any other); return the page's ticket."""
    key, sealed = seal(sheet_csv(pins))
    sheet = secrets.token_urlsafe(16)
    session[SESSION_KEY] = {
        "sheet": sheet,
        "install": install_pk,
        "sealed": sealed,
        "at": time.time() if now is None else now,
    }
    return SheetTicket(sheet=sheet, key=key)


def take(
    session: SessionBase, *, install_pk: int, ticket: SheetTicket, now: float | None = None
) -> bytes | None:
    """The sheet's CSV, once: the sealed sheet leaves the session whatever the outcome.

    None if there is none, it is another install's or another batch's, it is older than
    `SHEET_SECONDS`, or the key does not open it.
    """
    stored = session.pop(SESSION_KEY, None)
    if not isinstance(stored, dict) or stored.get("install") != install_pk:
        return None
    if not constant_time_compare(str(stored.get("sheet", "")), ticket.sheet):
        return None
    age = (time.time() if now is None else now) - float(stored.get("at", 0))
    if not 0 <= age <= SHEET_SECONDS:
        return None
    return unseal(key=ticket.key, sealed=stored.get("sealed"))


def drop(session: SessionBase) -> None:
    """Forget any sheet not downloaded yet (the administrator has left its page)."""
    if SESSION_KEY in session:
        del session[SESSION_KEY]
