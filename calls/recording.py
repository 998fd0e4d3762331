"""Recording a batch of call events: one transaction, the same few queries for 5 or 500 calls.

Events are applied in the edge's order. A `start` opens a record under the operator the edge
names (the one hot-desked on the handset at that moment, by the edge's binding), an `answer`
stamps when the call was taken, an `end` closes it with its result. The same event sent again
(a re-sent batch) changes nothing: a record is known by (edge, ref), and answered/ended stay
as first reported. `started` (the edge restarted, forgetting its calls) closes that edge's
calls still in progress, and any call longer than the longest the edge allows is closed too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from installs.models import Install
from users.models import PbxUser

from .events import ANSWER, END, START, STARTED, CallEvent
from .models import CallRecord, ClosedBy, Result
from .results import result_of

_CHANGED_FIELDS = ["answered_at", "ended_at", "duration_seconds", "result", "sip_code"]


def longest_call() -> timedelta:
    """After this long without an end, a call is closed by the portal (the edge's own limit on
    a dialog, HOTDESK_CALL_MAX_SECONDS, plus a margin for the end event to arrive)."""
    return timedelta(seconds=settings.HOTDESK_CALL_MAX_SECONDS + 300)


@transaction.atomic
def record_batch(*, events: Sequence[CallEvent], edge: str, now: datetime | None = None) -> int:
    """Apply `events` from `edge` in order; returns how many records were opened."""
    now = now or timezone.now()
    # The edge sends `started` first after a restart (its queue starts empty), so closing the
    # calls it forgot before anything else never touches a call of this batch.
    for event in events:
        if event.kind == STARTED:
            close_calls_of_restarted_edge(edge=edge, restarted_at=event.at)
    known = {
        record.ref: record
        for record in CallRecord.objects.filter(
            edge=edge, ref__in={event.ref for event in events if event.ref}
        )
    }
    opened = _open_records(events, edge=edge, known=known)
    opened_count = len(opened)
    changed: dict[str, CallRecord] = {}
    for event in events:
        record = opened.get(event.ref) or known.get(event.ref)
        if record is None or not _apply(record, event):
            continue
        if event.ref not in opened:
            changed[event.ref] = record
    _flush(opened, changed)
    close_stale_calls(now=now)
    return opened_count


def _open_records(
    events: Sequence[CallEvent], *, edge: str, known: dict[str, CallRecord]
) -> dict[str, CallRecord]:
    """New (unsaved) records for the batch's starts, each under its install and operator."""
    starts = [event for event in events if event.kind == START and event.ref not in known]
    installs = {
        install.sip_domain: install
        for install in Install.objects.filter(sip_domain__in={event.domain for event in starts})
    }
    users = {
        (user.install_id, user.extension): user
        for user in PbxUser.objects.filter(
            install__in=installs.values(), extension__in={event.extension for event in starts}
        )
    }
    opened: dict[str, CallRecord] = {}
    for event in starts:
        install = installs.get(event.domain)
        if install is None or event.ref in opened:
            continue  # an install removed since; the first start of a ref wins
        user = users.get((install.pk, event.extension))
        opened[event.ref] = CallRecord(
            install=install,
            edge=edge,
            ref=event.ref,
            sip_call_id=event.sip_call_id,
            direction=event.direction,
            pbx_user=user,
            extension=event.extension,
            user_name=user.name if user else "",
            other_party=event.other_party,
            handset_ip=event.handset_ip,
            user_agent=event.user_agent,
            started_at=event.at,
        )
    return opened


def _apply(record: CallRecord, event: CallEvent) -> bool:
    """Apply an answer or end to `record` in memory; whether anything changed."""
    if event.kind == ANSWER and record.answered_at is None and record.ended_at is None:
        record.answered_at = max(event.at, record.started_at)
        return True
    if event.kind == END and record.ended_at is None:
        record.ended_at = max(event.at, record.started_at)
        record.sip_code = event.sip_code if record.answered_at is None else 200
        record.result = result_of(
            answered=record.answered_at is not None,
            sip_code=event.sip_code,
            cancelled=event.cancelled,
        )
        record.duration_seconds = _duration(record)
        return True
    return False


def _duration(record: CallRecord) -> int:
    if record.answered_at is None or record.ended_at is None:
        return 0
    return round((record.ended_at - record.answered_at).total_seconds())


def _flush(opened: dict[str, CallRecord], changed: dict[str, CallRecord]) -> None:
    # Known refs were left out of `opened`, so nothing here conflicts but a concurrent batch
    # of the same edge (which sends one at a time): ignore_conflicts keeps its rows.
    CallRecord.objects.bulk_create(opened.values(), ignore_conflicts=True)
    CallRecord.objects.bulk_update(changed.values(), _CHANGED_FIELDS)


def close_calls_of_restarted_edge(*, edge: str, restarted_at: datetime) -> int:
    """The edge restarted and forgot its calls: close the ones it had in progress."""
    return _close(
        CallRecord.objects.filter(edge=edge, ended_at__isnull=True, started_at__lte=restarted_at),
        at=restarted_at,
        closed_by=ClosedBy.EDGE_RESTART,
    )


def close_stale_calls(*, now: datetime) -> int:
    """Close calls whose end never arrived within the longest call the edge allows."""
    return _close(
        CallRecord.objects.filter(ended_at__isnull=True, started_at__lt=now - longest_call()),
        at=now,
        closed_by=ClosedBy.TIMEOUT,
    )


@transaction.atomic
def _close(calls, *, at: datetime, closed_by: ClosedBy) -> int:
    """Close `calls` at `at`: answered ones stay answered (ended at `at`, a guess of when),
    the others failed. Rare, so two queries whatever the count; its own transaction, as the
    pages that call it have none."""
    stale = list(calls.select_for_update())
    for record in stale:
        record.ended_at = max(at, record.started_at)
        record.result = Result.ANSWERED if record.answered_at else Result.FAILED
        record.closed_by = closed_by
        record.duration_seconds = _duration(record)
    CallRecord.objects.bulk_update(stale, [*_CHANGED_FIELDS, "closed_by"])
    return len(stale)
