"""An operator's recent calls on their edit page (users.signals.user_history asks)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from users.signals import HistoryTable, user_history

from .models import CallRecord, Direction

RECENT_CALLS = 10


@receiver(user_history, dispatch_uid="calls.recent_calls")
def recent_calls(sender: Any, user: Any, **kwargs: Any) -> HistoryTable:
    """The calls this operator made or took lately, as caller or as internal callee."""
    calls = CallRecord.objects.filter(install_id=user.install_id).filter(
        Q(pbx_user=user) | Q(direction=Direction.INTERNAL, other_party=user.extension)
    )
    rows = [_row(call, user) for call in calls.order_by("-started_at", "-pk")[:RECENT_CALLS]]
    more = (
        reverse("calls:log", args=[user.install_id])
        + "?"
        + urlencode({"extension": user.extension})
    )
    return HistoryTable(
        title="Recent calls",
        order=20,
        columns=("Started", "Direction", "With", "Result", "Duration", "Handset"),
        rows=rows,
        empty="No calls through the SIP edge yet.",
        more_url=more,
        more_label=f"All calls of {user.extension} in the Call log",
    )


def _row(call: CallRecord, user: Any) -> tuple[str, ...]:
    took_it = call.pbx_user_id != user.pk  # the callee of an internal call
    with_whom = call.extension if took_it else call.other_party
    direction = "internal, received" if took_it else call.get_direction_display()
    result = call.get_result_display() if call.result else "In progress"
    return (
        timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        direction,
        with_whom,
        result,
        f"{call.duration_seconds} s" if call.answered_at else "",
        call.handset_ip,
    )
