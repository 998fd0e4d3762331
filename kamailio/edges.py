"""The SIP edges (Kamailio nodes) the portal can act on, and acting on all of them at once.

An edge is a `SipCredential`. The portal can reach one when it is active and has an RPC URL;
a handset may be registered on any edge, so a binding is removed from, and looked for on,
every one of them. The calls run side by side, so a dead edge costs one timeout, not one per
edge.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache

from common.outages import OutageLog

from . import rpc as kamailio_rpc
from .credentials import rpc_authorization
from .models import SipCredential
from .rpc import Binding, EdgeUnreachable

logger = logging.getLogger(__name__)

# How long a read location table is reused: about the dashboard's refresh interval, so any
# number of open dashboards cost each edge one `ul.dump` per interval.
TABLE_CACHE_SECONDS = 4
# After a failed removal, background removals (revoked access, new PIN) skip the edge this
# long, so a bulk change against a dead edge costs one timeout rather than one per user.
DOWN_SECONDS = 30

T = TypeVar("T")

_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


class _NotTried(EdgeUnreachable):
    pass


@dataclass(frozen=True)
class Edge:
    name: str
    rpc_url: str
    authorization: str = ""  # what the edge's RPC wants in the Authorization header

    @classmethod
    def of(cls, credential: SipCredential) -> Edge:
        return cls(
            name=credential.name,
            rpc_url=credential.rpc_url,
            authorization=rpc_authorization(credential),
        )


@dataclass(frozen=True)
class LocationTables:
    """What the edges' location tables hold, and which edges could not say."""

    bindings: tuple[Binding, ...]
    read: tuple[str, ...]  # edges whose table was read
    unreachable: tuple[str, ...]  # edges with an RPC URL that did not answer
    without_rpc: tuple[str, ...]  # active edges with no RPC URL

    @property
    def complete(self) -> bool:
        """Every active edge was read: a binding not listed here exists nowhere."""
        return bool(self.read) and not self.unreachable and not self.without_rpc


@dataclass(frozen=True)
class EndedCalls:
    ended: int  # calls the edges were told to end (each side gets a BYE)
    unreachable: tuple[str, ...]  # edges that could not be asked


def binding_aor(*, extension: str, domain: str) -> str:
    """The address of record Kamailio files a user's binding under (usrloc use_domain=1)."""
    return f"{extension}@{domain}".lower()


def active_edges() -> list[SipCredential]:
    return list(SipCredential.objects.filter(is_active=True).order_by("name"))


def rpc_edges() -> list[Edge]:
    return [Edge.of(credential) for credential in active_edges() if credential.rpc_url]


def remove_binding_everywhere(
    *, aor: str, edges: list[Edge] | None = None, skip_known_down: bool = False
) -> list[str]:
    """Remove the AoR's binding from every edge; returns the names of edges not reached.

    `skip_known_down` is for removals nobody waits for: an edge that failed moments ago is
    reported as not reached without another try.
    """
    edges = rpc_edges() if edges is None else edges

    def remove(edge: Edge) -> None:
        if skip_known_down and _known_down(edge):
            raise _NotTried("failed moments ago; not tried again yet")
        kamailio_rpc.remove_binding(rpc_url=edge.rpc_url, aor=aor, authorization=edge.authorization)

    outcomes = _on_each(edges, remove)
    unreachable = []
    for edge, (_, error) in zip(edges, outcomes, strict=True):
        if error is None:
            _mark_up(edge)
            _forget_table(edge)  # the next dashboard must not see the old binding
            continue
        if not isinstance(error, _NotTried):
            _mark_down(edge)
        logger.warning(
            "Could not remove the binding of %s on SIP edge %s: %s", aor, edge.name, error
        )
        unreachable.append(edge.name)
    return unreachable


def end_calls_everywhere(*, operator: str, edges: list[Edge] | None = None) -> EndedCalls:
    """End the answered calls of `operator` ("1001@acme.pbx.test") on every edge."""
    edges = rpc_edges() if edges is None else edges

    def end_all(edge: Edge) -> int:
        ended = 0
        for handle in kamailio_rpc.list_calls(
            rpc_url=edge.rpc_url, operator=operator, authorization=edge.authorization
        ):
            if handle.confirmed:
                kamailio_rpc.end_call(
                    rpc_url=edge.rpc_url, handle=handle, authorization=edge.authorization
                )
                ended += 1
        return ended

    ended, unreachable = 0, []
    for edge, (count, error) in zip(edges, _on_each(edges, end_all), strict=True):
        if error is None:
            ended += count or 0
            continue
        logger.warning(
            "Could not end the calls of %s on SIP edge %s: %s", operator, edge.name, error
        )
        unreachable.append(edge.name)
    return EndedCalls(ended=ended, unreachable=tuple(unreachable))


def fetch_tables_everywhere(*, edges: list[Edge] | None = None) -> list[str]:
    """Ask every edge to fetch the PBX table and locked list now; returns the edges not reached.

    An edge not reached still fetches them at its next periodic fetch (every few seconds).
    """
    edges = rpc_edges() if edges is None else edges

    def fetch(edge: Edge) -> None:
        if _known_down(edge):
            raise _NotTried("failed moments ago; not tried again yet")
        kamailio_rpc.fetch_tables_now(rpc_url=edge.rpc_url, authorization=edge.authorization)

    unreachable = []
    for edge, (_, error) in zip(edges, _on_each(edges, fetch), strict=True):
        if error is not None:
            logger.warning("Could not ask SIP edge %s for the PBX table now: %s", edge.name, error)
            unreachable.append(edge.name)
    return unreachable


def read_location_tables() -> LocationTables:
    """The live bindings of every edge with an RPC URL (each table reused for a few seconds)."""
    credentials = active_edges()
    edges = [Edge.of(credential) for credential in credentials if credential.rpc_url]

    def read_one(edge: Edge) -> list[Binding] | None:
        cached = _cached_table(edge)
        if cached is not None:
            return cached[1]
        try:
            bindings = kamailio_rpc.list_bindings(
                rpc_url=edge.rpc_url, authorization=edge.authorization
            )
        except EdgeUnreachable as error:
            logger.warning("Could not read the location table of SIP edge %s: %s", edge.name, error)
            bindings = None
        # Wrapped, so a failure (None) is cached too and a dead edge is not asked on every poll.
        _cache_table(edge, ("v1", bindings))
        return bindings

    bindings: list[Binding] = []
    read, unreachable = [], []
    for edge, (found, _) in zip(edges, _on_each(edges, read_one), strict=True):
        if found is None:
            unreachable.append(edge.name)
        else:
            read.append(edge.name)
            bindings.extend(found)
    return LocationTables(
        bindings=tuple(bindings),
        read=tuple(read),
        unreachable=tuple(unreachable),
        without_rpc=tuple(c.name for c in credentials if not c.rpc_url),
    )


def _on_each(
    edges: list[Edge], work: Callable[[Edge], T]
) -> list[tuple[T | None, Exception | None]]:
    """Run `work` for every edge side by side; (result, None) or (None, the EdgeUnreachable)."""

    def attempt(edge: Edge) -> tuple[T | None, Exception | None]:
        try:
            return work(edge), None
        except EdgeUnreachable as error:
            return None, error

    if len(edges) <= 1:
        return [attempt(edge) for edge in edges]
    with ThreadPoolExecutor(max_workers=min(len(edges), 8)) as pool:
        return list(pool.map(attempt, edges))


def forget_down_edges() -> None:
    """Forget which edges recently failed (tests: each starts with every edge reachable)."""
    with _down_lock:
        _down_until.clear()


# The table cache only spares the edges a `ul.dump` per dashboard poll: when the cache
# (Redis) is down, everything here works without it, and its failures are logged once per
# outage rather than per call.
_cache_outage = OutageLog(
    logger,
    failing="Cache unavailable (%s); reading edges directly",
    recovered="Cache available again",
)


def _cache_call(action: str, call: Callable[[], T]) -> T | None:
    try:
        result = call()
    except Exception as error:  # any backend's error: the cache is an optimisation here
        _cache_outage.failed(f"{action}: {error}", level=logging.WARNING)
        return None
    _cache_outage.working()
    return result


def _cached_table(edge: Edge) -> tuple | None:
    return _cache_call("get", lambda: cache.get(_table_key(edge)))


def _cache_table(edge: Edge, value: tuple) -> None:
    _cache_call("set", lambda: cache.set(_table_key(edge), value, TABLE_CACHE_SECONDS))


def _forget_table(edge: Edge) -> None:
    _cache_call("delete", lambda: cache.delete(_table_key(edge)))


def _table_key(edge: Edge) -> str:
    return "hotdesk:location:" + hashlib.sha256(edge.rpc_url.encode()).hexdigest()[:32]


def _known_down(edge: Edge) -> bool:
    with _down_lock:
        return _down_until.get(edge.rpc_url, 0.0) > time.monotonic()


def _mark_down(edge: Edge) -> None:
    with _down_lock:
        _down_until[edge.rpc_url] = time.monotonic() + DOWN_SECONDS


def _mark_up(edge: Edge) -> None:
    with _down_lock:
        _down_until.pop(edge.rpc_url, None)
