from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from installs.scoping import InstallScopedMixin

from . import recording
from .forms import CallLogFilterForm
from .log import calls_of, write_csv
from .models import CallRecord


class _FilteredCalls(InstallScopedMixin):
    def filtered_calls(self) -> QuerySet[CallRecord]:
        # Calls whose end can no longer come are closed before anyone reads them.
        recording.close_stale_calls(now=timezone.now())
        self.filters = CallLogFilterForm(self.request.GET or None)
        if not self.filters.is_bound:
            return calls_of(self.install)
        if not self.filters.is_valid():
            return CallRecord.objects.none()
        return calls_of(self.install, **self.filters.cleaned_data)


class CallLogView(_FilteredCalls, ListView):
    """Every call through the edges for the install, newest first, filterable, with a total."""

    template_name = "calls/call_log.html"
    context_object_name = "calls"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[CallRecord]:
        return self.filtered_calls().select_related("pbx_user")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            filters=self.filters,
            tab="calls",
            time_zone=timezone.get_current_timezone_name(),
            csv_query=self.request.GET.urlencode(),
            **kwargs,
        )


class CallLogCsvView(_FilteredCalls, View):
    """What the Call log's filter shows, every page of it, as CSV."""

    def get(self, request: HttpRequest, install_pk: int) -> HttpResponse:
        calls = self.filtered_calls()
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="calls-{self.install.sip_domain}-{stamp}.csv"'
        )
        write_csv(response, calls.iterator(chunk_size=2000))
        return response
