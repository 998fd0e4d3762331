"""Writing the registration log and acting on the SIP edge's outcome reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from installs.models import Install
from trustedips.matching import is_trusted, normalise_source
from trustedips.models import TrustedRange
from users.models import PbxUser

from . import checklog, lockouts, permits, sessions
from .evaluation import Evaluation, find_user, trusted_networks
from .models import SESSION_EVENTS, STARTED, EventKind, RegistrationLogEntry
from .policy import Reason

LAST_USED_RESOLUTION = timedelta(minutes=1)
# A batch is read again and retried when another process changed the same users or logged the
# same report between our reads and our writes; three tries are plenty for that race.
_ATTEMPTS = 3


def log_check(*, evaluation: Evaluation, params: dict, edge: str) -> None:
    checklog.add(
        RegistrationLogEntry(
            created_at=timezone.now(),
            install_id=evaluation.install_id,
            kind=EventKind.CHECK,
            allowed=evaluation.decision.allow,
            reason=evaluation.decision.reason.value,
            edge=edge,
            **_request_fields(params),
        )
    )


def handle_report(*, params: dict, edge: str) -> bool:
    """Record one outcome report and act on it; False when it was a duplicate (no effect).

    A report is identified by the edge and the attempt id the edge gave the REGISTER
    transaction, never by anything the handset chose: the same report sent again is a
    duplicate, while every guess is an attempt of its own and counts, whatever its Call-ID
    and CSeq. An attempt whose permit was counted already because its outcome came too late
    (`permits.take`) is a duplicate too: a wrong PIN never counts twice.
    """
    if params["event"] != EventKind.AUTH_FAILED:
        return record_session_reports(reports=[params], edge=edge) == 1
    install, pbx_user = find_user(domain=params["domain"], extension=params["user"])
    now = timezone.now()
    try:
        with transaction.atomic():
            entry = RegistrationLogEntry.objects.create(
                install=install,
                kind=EventKind.AUTH_FAILED,
                allowed=False,
                reason=Reason.WRONG_PIN.value,
                edge=edge,
                contact=params["contact"],
                **_request_fields(params),
            )
            # Only a guess from inside a trusted network counts: nobody outside one can lock
            # a user out (the edge never asks for a digest check from elsewhere anyway).
            if pbx_user is not None and _is_trusted_source(
                params["ip"], pbx_user.install_id, pbx_user.install.trusted_ranges_version
            ):
                lockout = lockouts.record_failure(
                    pbx_user=pbx_user, source_ip=params["ip"], now=now
                )
                # For the log's words ("Wrong PIN, 2 of 5 before a lock").
                entry.locked = lockout.locked_at == now
                entry.wrong_pins = lockout.window_failures
                entry.save(update_fields=["locked", "wrong_pins"])
            # Its guess is counted now (or not at all), no longer in flight.
            permits.release(edge=edge, attempt=params["attempt"])
    except IntegrityError:
        return False
    return True


def record_batch(*, reports: Sequence[dict], settled: Sequence[str], edge: str) -> int:
    """Apply a batch of the edge's reports in their order; returns how many were new.

    Runs of `registered`/`unregistered` go through `record_session_reports` (a fixed number of
    queries a run); an `auth_failed` is one the edge could not deliver at once and sends again,
    counted on its own (`handle_report`); `started` ends the sessions whose bindings the edge
    lost as it (re)started. The guesses of `settled` attempts are given back.
    """
    recorded, run = 0, []
    for params in [*reports, None]:
        if params is not None and params["event"] in SESSION_EVENTS:
            run.append(params)
            continue
        if run or settled:
            recorded += record_session_reports(reports=run, edge=edge, settled=settled)
            run, settled = [], ()
        if params is None:
            break
        if params["event"] == STARTED:
            sessions.end_for_restarted_edge(edge=edge)
        else:
            recorded += handle_report(params=params, edge=edge)
    return recorded


def record_session_reports(
    *, reports: Sequence[dict], edge: str, settled: Sequence[str] = ()
) -> int:
    """Record `registered` and `unregistered` reports, in order; returns how many were new.

    The SIP edge queues these and sends them in batches, so this is written per batch: a
    handful of queries and one transaction however many reports it holds. Each report is
    logged, and for a known user a registration ends the run of wrong PINs, stamps the trusted
    range it came from and opens or refreshes the session (`sessions.apply_reports`); a
    de-registration closes it. A report already in the log (same edge, attempt and event) is a
    duplicate and changes nothing. Every attempt reported here, and each of `settled`, had a
    right digest or none at all: its guess permit is given back.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with transaction.atomic():
                permits.settle(
                    edge=edge, attempts=[*settled, *(params["attempt"] for params in reports)]
                )
                if not reports:
                    return 0
                return _record_session_reports(reports, edge=edge, now=timezone.now())
        except IntegrityError:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class _User(NamedTuple):
    pk: int
    install_id: int
    ranges_version: int
    registration_expiry: int


def _record_session_reports(reports: Sequence[dict], *, edge: str, now: datetime) -> int:
    fresh = _not_logged_yet(reports, edge=edge)
    if not fresh:
        return 0
    users = _users(fresh)
    installs = _install_ids({p["domain"] for p in fresh if (p["domain"], p["user"]) not in users})
    entries, edge_reports = [], []
    for params in fresh:
        user = users.get((params["domain"], params["user"]))
        entries.append(
            RegistrationLogEntry(
                created_at=now,
                install_id=user.install_id if user else installs.get(params["domain"]),
                kind=params["event"],
                allowed=True,
                reason=Reason.OK.value,
                edge=edge,
                contact=params["contact"],
                **_request_fields(params),
            )
        )
        if user is not None:
            edge_reports.append(
                sessions.EdgeReport(
                    pbx_user_id=user.pk,
                    install_id=user.install_id,
                    registered=params["event"] == EventKind.REGISTERED,
                    contact=params["contact"],
                    call_id=params["callid"],
                    cseq=params["cseq"],
                    source_ip=params["ip"],
                    source_port=params["port"],
                    proto=params["proto"],
                    user_agent=params["ua"],
                    expires=params["expires"] or user.registration_expiry,
                    edge=edge,
                )
            )
    RegistrationLogEntry.objects.bulk_create(entries)
    logins = [report for report in edge_reports if report.registered]
    if logins:
        lockouts.record_successes({report.pbx_user_id for report in logins})
        _mark_ranges_used(logins, users=users.values(), now=now)
    sessions.apply_reports(edge_reports, now=now)
    return len(fresh)


def _not_logged_yet(reports: Sequence[dict], *, edge: str) -> list[dict]:
    """The reports that are neither in the log already nor repeated earlier in `reports`."""
    seen = set(
        RegistrationLogEntry.objects.filter(edge=edge, attempt__in={p["attempt"] for p in reports})
        # As `reglog_report_once_per_attempt`, whose index this uses.
        .exclude(kind=EventKind.CHECK)
        .exclude(attempt="")
        .order_by()
        .values_list("attempt", "kind")
    )
    fresh = []
    for params in reports:
        key = (params["attempt"], params["event"])
        if key not in seen:
            seen.add(key)
            fresh.append(params)
    return fresh


def _users(reports: Sequence[dict]) -> dict[tuple[str, str], _User]:
    """The reported users that exist, by (domain, extension), in one query."""
    rows = PbxUser.objects.filter(
        install__sip_domain__in={p["domain"] for p in reports},
        extension__in={p["user"] for p in reports},
    ).values_list(
        "install__sip_domain",
        "extension",
        "pk",
        "install_id",
        "install__trusted_ranges_version",
        "install__registration_expiry",
    )
    return {(domain, extension): _User(*rest) for domain, extension, *rest in rows}


def _install_ids(domains: set[str]) -> dict[str, int]:
    if not domains:
        return {}
    return dict(Install.objects.filter(sip_domain__in=domains).values_list("sip_domain", "pk"))


def _is_trusted_source(ip: str, install_id: int, ranges_version: int) -> bool:
    source = normalise_source(ip)
    return source is not None and is_trusted(source, trusted_networks(install_id, ranges_version))


def _mark_ranges_used(
    logins: Iterable[sessions.EdgeReport], *, users: Iterable[_User], now: datetime
) -> None:
    """Stamp "last used" on the ranges logins came from, at most once a minute each.

    The ranges come parsed from the check's cache, and a range stamped less than a minute ago
    is left alone, so a morning login storm costs one small UPDATE per install and batch,
    mostly a no-op.
    """
    versions = {user.install_id: user.ranges_version for user in users}
    used: dict[int, set[str]] = {}
    for login in logins:
        source = normalise_source(login.source_ip)
        if source is None:
            continue
        for network in trusted_networks(login.install_id, versions[login.install_id]):
            if network.version == source.version and source in network:
                used.setdefault(login.install_id, set()).add(network.with_prefixlen)
    for install_id, networks in used.items():
        TrustedRange.objects.filter(install_id=install_id, network__in=networks).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


def _request_fields(params: dict) -> dict:
    """Log columns from parameters that `api_forms` has already bounded and normalised."""
    return {
        "domain": params["domain"],
        "extension": params["user"],
        "source_ip": params["ip"],
        "source_port": params["port"],
        "proto": params["proto"],
        "user_agent": params["ua"],
        "expires": params["expires"],
        "call_id": params["callid"],
        "cseq": params.get("cseq"),  # reports only
        "attempt": params["attempt"],
    }
