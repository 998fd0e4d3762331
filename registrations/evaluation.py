"""Load the facts for one REGISTER and hand them to the pure decision.

This is the only place that turns database rows into `policy` facts; the HTTP API, the
Explain form and `check_registration` all come through `evaluate`, so they cannot disagree.

It sits in every REGISTER, so it reads everything it needs about the user (the user, its
install and its lock state) in one query, and keeps each install's parsed trusted ranges in
process memory keyed by `Install.trusted_ranges_version`, which that same query returns: a
range added or removed in any process is seen by the very next check, with no second query.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from django.db import connections, router
from django.utils import timezone

from common.django_internals import compiled_sql
from installs.models import Install
from trustedips.models import TrustedRange
from users.models import PbxUser

from . import permits
from .dbtime import aware_utc
from .policy import Decision, IPNetwork, LockFacts, Reason, UserFacts, decide


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    install_id: int | None
    pbx_user_id: int | None
    # The install's registration expiry: the longest binding the edge is to grant.
    max_expires: int | None = None


_networks_lock = threading.Lock()
_networks: dict[int, tuple[int, tuple[IPNetwork, ...]]] = {}


class _UserRow(NamedTuple):
    """What the check reads of one user, in one row. Each field is named after the ORM path
    it is read from (`_UserFactsQuery.COLUMNS`): adding a fact is adding a field here."""

    pk: int
    install_id: int
    hot_desk_access: bool
    pin_ha1: str
    logged_out_call_id: str
    install__trusted_ranges_version: int
    install__registration_expiry: int
    lockout__locked_until: datetime | None
    lockout__locked_indefinitely: bool


class _UserFactsQuery:
    """The one query of the check, compiled by the ORM once per process and database.

    Building and compiling a queryset costs more CPU than running it, and this runs for every
    REGISTER; the SQL text is the ORM's own, so it is right for PostgreSQL and SQLite alike.
    """

    _DOMAIN, _EXTENSION = "\x00domain\x00", "\x00extension\x00"
    COLUMNS = _UserRow._fields

    def __init__(self, alias: str) -> None:
        queryset = (
            PbxUser.objects.using(alias)
            .filter(install__sip_domain=self._DOMAIN, extension=self._EXTENSION)
            .order_by()
            .values_list(*self.COLUMNS)[:1]
        )
        self.sql, params = compiled_sql(queryset, alias)
        self.slots = tuple(params)
        assert set(self.slots) == {self._DOMAIN, self._EXTENSION}, self.slots

    def run(self, alias: str, *, domain: str, extension: str) -> _UserRow | None:
        values = {self._DOMAIN: domain, self._EXTENSION: extension}
        with connections[alias].cursor() as cursor:
            cursor.execute(self.sql, [values[slot] for slot in self.slots])
            row = cursor.fetchone()
        if row is None:
            return None
        user = _UserRow._make(row)
        # A plain cursor gives SQLite's 0/1 and, without the ORM, naive datetimes.
        return user._replace(
            hot_desk_access=bool(user.hot_desk_access),
            lockout__locked_until=aware_utc(user.lockout__locked_until),
            lockout__locked_indefinitely=bool(user.lockout__locked_indefinitely),
        )


_compiled: dict[str, _UserFactsQuery] = {}


def _user_facts(*, domain: str, extension: str) -> _UserRow | None:
    alias = router.db_for_read(PbxUser)
    query = _compiled.get(alias)
    if query is None:
        query = _compiled[alias] = _UserFactsQuery(alias)
    return query.run(alias, domain=domain, extension=extension)


def forget_cached_networks() -> None:
    """Drop every parsed range (tests: a rolled-back transaction can reuse an install id)."""
    with _networks_lock:
        _networks.clear()


def trusted_networks(install_id: int, version: int) -> tuple[IPNetwork, ...]:
    """The install's trusted networks, parsed once per version of its ranges."""
    cached = _networks.get(install_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    networks = tuple(
        ipaddress.ip_network(text)
        for text in TrustedRange.objects.filter(install_id=install_id)
        .order_by()
        .values_list("network", flat=True)
    )
    with _networks_lock:
        _networks[install_id] = (version, networks)
    return networks


def evaluate(
    *,
    domain: str,
    extension: str,
    source_ip: str,
    deregistration: bool = False,
    now: datetime | None = None,
    call_id: str = "",
) -> Evaluation:
    """Decide a REGISTER for `extension`@`domain` from `source_ip`, reading current state."""
    domain = domain.strip().lower()
    row = _user_facts(domain=domain, extension=extension)
    if row is None:
        install = (
            Install.objects.filter(sip_domain=domain)
            .values_list("pk", "trusted_ranges_version")
            .first()
        )
        install_id = install[0] if install else None
        decision = decide(
            domain_known=install is not None,
            user=None,
            # The source is judged before the extension: an outsider must get the same
            # answer whether the extension exists or not.
            trusted_networks=trusted_networks(*install) if install else (),
            lock=None,
            source_ip=source_ip,
            now=now or timezone.now(),
        )
        return Evaluation(decision=decision, install_id=install_id, pbx_user_id=None)
    decision = decide(
        domain_known=True,
        user=UserFacts(
            extension=extension,
            hot_desk_access=row.hot_desk_access,
            pin_ha1=row.pin_ha1,
            logged_out_call_id=row.logged_out_call_id,
        ),
        trusted_networks=trusted_networks(row.install_id, row.install__trusted_ranges_version),
        lock=LockFacts(
            locked_until=row.lockout__locked_until, indefinite=row.lockout__locked_indefinitely
        ),
        source_ip=source_ip,
        now=now or timezone.now(),
        deregistration=deregistration,
        call_id=call_id,
    )
    return Evaluation(
        decision=decision,
        install_id=row.install_id,
        pbx_user_id=row.pk,
        max_expires=row.install__registration_expiry,
    )


def evaluate_attempt(
    *,
    domain: str,
    extension: str,
    source_ip: str,
    edge: str,
    attempt: str,
    deregistration: bool = False,
    call_id: str = "",
) -> Evaluation:
    """`evaluate` for a REGISTER the edge is about to check a digest for.

    An allow hands the edge the user's HA1, which lets it check one guess; so an allow also
    takes that guess from the user's lockout budget (`permits.take`), under the lock
    where the count is kept. With no guess left, the answer is `locked`.
    """
    evaluation = evaluate(
        domain=domain,
        extension=extension,
        source_ip=source_ip,
        deregistration=deregistration,
        call_id=call_id,
    )
    if (
        not evaluation.decision.allow
        or evaluation.pbx_user_id is None
        or evaluation.install_id is None
    ):
        return evaluation
    grant = permits.take(
        attempt=permits.Attempt(
            pbx_user_id=evaluation.pbx_user_id,
            install_id=evaluation.install_id,
            domain=domain.strip().lower(),
            extension=extension,
            edge=edge,
            attempt=attempt,
            source_ip=source_ip,
        )
    )
    if grant is permits.Grant.GRANTED:
        return evaluation
    # Too late: the edge answered the phone 503 already and checks nothing; say so in the log.
    reason = Reason.LOCKED if grant is permits.Grant.REFUSED else Reason.TOO_LATE
    return replace(evaluation, decision=Decision(False, reason))


def find_user(*, domain: str, extension: str) -> tuple[Install | None, PbxUser | None]:
    """The install of a SIP domain and its user with that extension (either may be None)."""
    domain = domain.strip().lower()
    pbx_user = (
        PbxUser.objects.select_related("install")
        .filter(install__sip_domain=domain, extension=extension)
        .first()
    )
    if pbx_user is not None:
        return pbx_user.install, pbx_user
    return Install.objects.filter(sip_domain=domain).first(), None
