"""Writing the registration log and acting on the SIP edge's outcome reports."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from trustedips.models import TrustedRange

from . import checklog, lockouts, sessions
from .evaluation import Evaluation, find_user, trusted_networks
from .models import EventKind, RegistrationLogEntry
from .policy import Reason, is_trusted, normalise_source

LAST_USED_RESOLUTION = timedelta(minutes=1)


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

    A retransmitted report (same Call-ID, CSeq and event) hits the log's unique constraint and
    is ignored as a whole, so a wrong PIN is never counted twice.
    """
    kind = params["event"]
    install, pbx_user = find_user(domain=params["domain"], extension=params["user"])
    reason = Reason.WRONG_PIN if kind == EventKind.AUTH_FAILED else Reason.OK
    now = timezone.now()
    try:
        with transaction.atomic():
            RegistrationLogEntry.objects.create(
                install=install,
                kind=kind,
                allowed=kind != EventKind.AUTH_FAILED,
                reason=reason.value,
                edge=edge,
                contact=params.get("contact") or "",
                **_request_fields(params),
            )
            if pbx_user is not None:
                _apply(kind=kind, pbx_user=pbx_user, params=params, now=now)
    except IntegrityError:
        return False
    return True


def _apply(*, kind: str, pbx_user, params: dict, now) -> None:
    source = normalise_source(params["ip"])
    trusted = source is not None and is_trusted(
        source, trusted_networks(pbx_user.install_id, pbx_user.install.trusted_ranges_version)
    )
    if kind == EventKind.AUTH_FAILED:
        # Only a guess from inside a trusted network counts: nobody outside one can lock a
        # user out (the edge never asks for a digest check from elsewhere anyway).
        if trusted:
            lockouts.record_failure(pbx_user=pbx_user, source_ip=params["ip"], now=now)
    elif kind == EventKind.REGISTERED:
        lockouts.record_success(pbx_user=pbx_user)
        sessions.registered(
            pbx_user=pbx_user,
            contact=params.get("contact") or "",
            call_id=params["callid"],
            source_ip=params["ip"],
            source_port=params.get("port"),
            proto=params.get("proto") or "",
            user_agent=params.get("ua") or "",
            expires=params.get("expires") or pbx_user.install.registration_expiry,
            now=now,
        )
        if source is not None:
            _mark_ranges_used(install=pbx_user.install, source=source, now=now)
    elif kind == EventKind.UNREGISTERED:
        sessions.unregistered(pbx_user=pbx_user, now=now)


def _mark_ranges_used(*, install, source, now) -> None:
    """Stamp "last used" on the ranges a login came from, at most once a minute each.

    The ranges come parsed from the check's cache, and a range stamped less than a minute ago
    is left alone, so a morning login storm costs one small UPDATE per login, mostly a no-op.
    """
    networks = trusted_networks(install.pk, install.trusted_ranges_version)
    used = [n.with_prefixlen for n in networks if n.version == source.version and source in n]
    if used:
        TrustedRange.objects.filter(install=install, network__in=used).filter(
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
    }
