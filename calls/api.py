"""POST /api/sip/v1/calls/events: the SIP edge's call events, a batch at a time."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse

from registrations.api import EdgeAPIView, read_body
from registrations.api_forms import BadParams

from . import recording
from .events import parse_batch

logger = logging.getLogger(__name__)


class CallEventBatchView(EdgeAPIView):
    """The edge queues call events (start, answer, end) and sends them every few hundred ms.

    A batch is recorded whole or not at all; the edge sends a batch the portal did not take
    again, and events already recorded change nothing. A bad line is rejected alone.
    """

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            batch = parse_batch(read_body(request))
        except BadParams as error:
            return JsonResponse(
                {"ok": False, "reason": "bad_request", "detail": str(error)}, status=400
            )
        if batch.rejected:
            logger.warning(
                "SIP API: edge %s sent %d call events the portal cannot take: %s",
                self.edge,
                len(batch.rejected),
                "; ".join(batch.rejected[:5]),
            )
        opened = recording.record_batch(events=batch.events, edge=self.edge)
        return JsonResponse(
            {
                "ok": True,
                "events": len(batch.events),
                "opened": opened,
                "rejected": batch.rejected,
            }
        )
