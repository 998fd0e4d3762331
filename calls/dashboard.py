"""The call each operator on the Real Time Dashboard is on now (registrations.dashboard asks)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from registrations.dashboard import Activity, live_activity
from registrations.timed_logouts import busy_operators

from . import recording
from .models import CallRecord, Direction


@receiver(live_activity, dispatch_uid="calls.calls_in_progress")
def calls_in_progress(
    sender: Any, *, install: Any, extensions: list[str], **kwargs: Any
) -> dict[str, Activity]:
    """{extension: the call in progress}, for each operator on either side of one (the
    callee of an internal call too); the newest call wins."""
    recording.close_stale_calls(now=timezone.now())
    calls = CallRecord.objects.filter(install=install, ended_at__isnull=True).filter(
        Q(extension__in=extensions) | Q(direction=Direction.INTERNAL, other_party__in=extensions)
    )
    found: dict[str, Activity] = {}
    for call in calls.order_by("started_at", "pk"):
        since = call.answered_at or call.started_at
        found[call.extension] = Activity(what=describe(call, as_operator=True), since=since)
        if call.direction == Direction.INTERNAL and call.other_party in extensions:
            found[call.other_party] = Activity(what=describe(call, as_operator=False), since=since)
    return found


def describe(call: CallRecord, *, as_operator: bool) -> str:
    """The call as one operator's side of it reads: whom with, which way, ringing or talking."""
    other = call.other_party if as_operator else call.extension
    direction = call.get_direction_display().split(" (")[0].lower()
    if call.answered_at is not None:
        return f"On a call with {other} ({direction})"
    calling = as_operator and call.direction != Direction.IN
    return f"Calling {other} ({direction})" if calling else f"{other} is calling ({direction})"


@receiver(busy_operators, dispatch_uid="calls.busy_operators")
def operators_on_a_call(
    sender: Any, *, install_ids: list[int], **kwargs: Any
) -> set[tuple[int, str]]:
    """(install_id, extension) of everyone on either side of a call in progress: their
    install's logout time waits for the call to end."""
    recording.close_stale_calls(now=timezone.now())
    busy: set[tuple[int, str]] = set()
    calls = CallRecord.objects.filter(install_id__in=install_ids, ended_at__isnull=True)
    for install_id, extension, other, direction in calls.values_list(
        "install_id", "extension", "other_party", "direction"
    ):
        busy.add((install_id, extension))
        if direction == Direction.INTERNAL:
            busy.add((install_id, other))
    return busy
