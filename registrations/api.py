"""The HTTP API that Kamailio's http_client calls for every hot-desk REGISTER.

Only adapts HTTP to `evaluation.evaluate` and `recording`; it holds no rule of its own. It is
authenticated by per-edge HTTP Basic credentials (never a portal session) and exempt from CSRF,
which protects browser sessions and does not apply here.
"""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from common.django_internals import in_transaction, skip_health_check
from common.outages import OutageLog
from kamailio.credentials import authenticate

from . import call_tables, recording, timed_logouts
from .api_forms import (
    BadParams,
    form_params,
    is_deregistration,
    parse_check,
    parse_event,
    parse_session_batch,
    query_params,
)
from .evaluation import evaluate_attempt

logger = logging.getLogger(__name__)


def read_body(request: HttpRequest) -> bytes:
    """The request body, read here rather than through request.POST: its errors (too many
    fields, too large) would be Django's HTML 400 instead of this API's JSON."""
    try:
        return request.body
    except RequestDataTooBig:
        raise BadParams("body: too large") from None


# During an outage every check fails alike: a line as it starts and one as it ends.
_database = OutageLog(
    logger,
    failing="SIP API: the database is unavailable (%s); answering 503",
    recovered="SIP API: the database is available again",
)


def _unavailable() -> JsonResponse:
    # Kamailio fails closed on any 5xx: the phone gets 503 with Retry-After.
    return JsonResponse({"allow": False, "reason": "unavailable"}, status=503)


def _bad_request(error: BadParams) -> JsonResponse:
    return JsonResponse({"allow": False, "reason": "bad_request", "detail": str(error)}, status=400)


@method_decorator(csrf_exempt, name="dispatch")
class EdgeAPIView(View):
    edge: str  # the name of the SIP edge that called, once authenticated

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        connection = connections[DEFAULT_DB_ALIAS]
        # Spare the edge API Django's probe of a kept connection before each request
        # (CONN_HEALTH_CHECKS): a SELECT 1 round trip that cost a fifth of a login's portal CPU
        # on PostgreSQL (docs/performance.md). Django has no public switch per view; if the
        # attribute goes away, the probe simply runs again. A connection the database dropped
        # fails the first query instead, and the request is answered once more on a new one.
        # That is safe for every handler here: a check writes nothing but its batched log
        # entry, and each report is one transaction, applied whole or not at all, whose repeat
        # would be a duplicate.
        skip_health_check(connection)
        try:
            try:
                response = self._answer(request, *args, **kwargs)
            except (OperationalError, InterfaceError):
                if in_transaction(connection):
                    raise
                if not _database.down:
                    logger.warning("SIP API: lost the database connection; answering on a new one")
                connection.close()
                response = self._answer(request, *args, **kwargs)
        except DatabaseError as error:
            _database.failed(error)
            return _unavailable()
        _database.working()
        return response

    def _answer(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        edge = authenticate(
            request.headers.get("Authorization", ""), request.META.get("REMOTE_ADDR", "")
        )
        if edge is None:
            logger.warning("SIP API: rejected credentials from %s", request.META.get("REMOTE_ADDR"))
            response = JsonResponse({"allow": False, "reason": "unauthorized"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="hotdesk-sip-api"'
            return response
        self.edge = edge
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> JsonResponse:
        response = super().http_method_not_allowed(request, *args, **kwargs)
        return JsonResponse(
            {"allow": False, "reason": "method_not_allowed"},
            status=405,
            headers={"Allow": response["Allow"]},
        )


class CheckView(EdgeAPIView):
    """GET register/check: may this REGISTER pass? 200 with the HA1, or 403 with the reason.

    The reason in a 403 is the one the handset may see (`Reason.public`); the log keeps the
    real one.
    """

    def get(self, request: HttpRequest) -> JsonResponse:
        try:
            params = parse_check(query_params(request))
        except BadParams as error:
            return _bad_request(error)
        evaluation = evaluate_attempt(
            domain=params["domain"],
            extension=params["user"],
            source_ip=params["ip"],
            deregistration=is_deregistration(params),
            edge=self.edge,
            attempt=params["attempt"],
            call_id=params["callid"],
        )
        recording.log_check(evaluation=evaluation, params=params, edge=self.edge)
        decision = evaluation.decision
        if decision.allow:
            return JsonResponse(
                {
                    "allow": True,
                    "ha1": decision.ha1,
                    "reason": decision.reason.value,
                    "expires": evaluation.max_expires,
                }
            )
        return JsonResponse({"allow": False, "reason": decision.reason.public}, status=403)


class EventView(EdgeAPIView):
    """POST register/event: what happened after the check (registered, unregistered, wrong PIN)."""

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            params = parse_event(
                form_params(read_body(request).decode("utf-8", "replace"), what="form")
            )
        except BadParams as error:
            return _bad_request(error)
        recorded = recording.handle_report(params=params, edge=self.edge)
        return JsonResponse({"ok": True, "duplicate": not recorded})


class EventBatchView(EdgeAPIView):
    """POST register/events: the edge's reports, one form per line.

    How the shipped Kamailio config reports sessions (and wrong PINs it could not deliver at
    once): queued in shared memory and sent by one timer process every 100 ms, so a login
    storm costs the portal one request per batch.
    """

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            batch = parse_session_batch(read_body(request))
        except BadParams as error:
            return _bad_request(error)
        if batch.rejected:
            logger.warning(
                "SIP API: edge %s sent %d report lines the portal cannot take: %s",
                self.edge,
                len(batch.rejected),
                "; ".join(batch.rejected[:5]),
            )
        recorded = recording.record_batch(
            reports=batch.reports, settled=batch.settled, edge=self.edge
        )
        return JsonResponse(
            {
                "ok": True,
                "recorded": recorded,
                "duplicates": len(batch.reports) - recorded,
                "settled": len(batch.settled),
                "rejected": batch.rejected,
            }
        )


class SessionTickView(EdgeAPIView):
    """POST sessions/tick: end the logins whose install's logout time has come.

    The edges call it with their periodic table fetch, so the logout times need no cron job
    of their own (registrations.timed_logouts).
    """

    def post(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"ok": True, "ended": timed_logouts.end_due_sessions()})


class LockedTableView(EdgeAPIView):
    """GET locked: the users locked after wrong PINs now, `domain|extension` a line."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(call_tables.locked_table(), content_type="text/plain; charset=utf-8")


class PbxTableView(EdgeAPIView):
    """GET pbx: every install's PBX, a `domain|sip URI|IP,IP` line each (call_tables)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(call_tables.pbx_table(), content_type="text/plain; charset=utf-8")
