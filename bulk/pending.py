"""An import file kept between its preview and its confirmation, so Apply needs no new upload.

The preview keeps the file in the session sealed (`users.sealed`: the session holds the
ciphertext, the preview page's Apply form holds the key), compressed, for `PENDING_SECONDS`.
A users file may carry PINs: they are never in the session (the database) in clear, and a page
left open is worth nothing once its file has gone from the session. One file per install and
kind: a newer preview replaces the older, whose Apply then finds nothing and says so.
"""

import secrets
import time
import zlib
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from users.sealed import seal, unseal

SESSION_KEY = "bulk.pending_imports"
PENDING_SECONDS = 30 * 60
# Previews left behind (other installs, other tabs) expire rather than pile up in the session.
MAX_PENDING = 4


@dataclass(frozen=True)
class PendingTicket:
    """What the preview's Apply form sends back: which kept file, and the key that opens it."""

    pending: str
    key: str


@dataclass(frozen=True)
class PendingFile:
    data: bytes
    name: str


def _slot(install_pk: int, kind: str) -> str:
    return f"{install_pk}:{kind}"


def keep(
    session: SessionBase,
    *,
    install_pk: int,
    kind: str,
    data: bytes,
    name: str,
    now: float | None = None,
) -> PendingTicket:
    """Keep `data` sealed in the session until applied; return the preview page's ticket."""
    key, sealed = seal(zlib.compress(data))
    ticket = PendingTicket(pending=secrets.token_urlsafe(16), key=key)
    slots = dict(session.get(SESSION_KEY) or {})
    slots.pop(_slot(install_pk, kind), None)
    slots[_slot(install_pk, kind)] = {
        "pending": ticket.pending,
        "sealed": sealed,
        "name": name[:200],
        "at": time.time() if now is None else now,
    }
    while len(slots) > MAX_PENDING:
        slots.pop(next(iter(slots)))  # the oldest: dicts keep insertion order
    session[SESSION_KEY] = slots
    return ticket


def take(
    session: SessionBase,
    *,
    install_pk: int,
    kind: str,
    ticket: PendingTicket,
    now: float | None = None,
) -> PendingFile | None:
    """The file previewed, taken out of the session; None if expired, replaced or altered."""
    stored = forget(session, install_pk=install_pk, kind=kind)
    if not isinstance(stored, dict):
        return None
    if not constant_time_compare(str(stored.get("pending", "")), ticket.pending):
        return None
    age = (time.time() if now is None else now) - float(stored.get("at", 0))
    if not 0 <= age <= PENDING_SECONDS:
        return None
    packed = unseal(key=ticket.key, sealed=stored.get("sealed"))
    if packed is None:
        return None
    try:
        data = zlib.decompress(packed)
    except zlib.error:  # cannot happen to what `keep` sealed; never a 500 if it did
        return None
    return PendingFile(data=data, name=str(stored.get("name", "")))


def forget(session: SessionBase, *, install_pk: int, kind: str) -> object:
    """Drop the kept file of this install and kind, if any; return what was kept."""
    slots = dict(session.get(SESSION_KEY) or {})
    stored = slots.pop(_slot(install_pk, kind), None)
    if stored is not None:
        session[SESSION_KEY] = slots
    return stored
