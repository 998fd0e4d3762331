from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin
from users.models import PbxUser

from . import dashboard, lockouts, log_rows, logouts, timed_logouts
from .evaluation import evaluate
from .explanations import EXPLANATIONS
from .forms import ExplainForm, LogFilterForm
from .models import HotDeskSession, RegistrationLogEntry
from .session_limits import DAILY_LOGOUT, session_end


class RegistrationLogView(InstallScopedMixin, ListView):
    """Every check and report for the install, newest first, filterable."""

    template_name = "registrations/registration_log.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[RegistrationLogEntry]:
        self.filters = LogFilterForm(self.request.GET or None)
        if not self.filters.is_bound:
            return log_rows.attempts(self.install)
        if not self.filters.is_valid():
            return RegistrationLogEntry.objects.none()
        return log_rows.attempts(self.install, **self.filters.cleaned_data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(
            filters=self.filters,
            tab="reglog",
            time_zone=timezone.get_current_timezone_name(),
            **kwargs,
        )
        rows = list(context["entries"])
        log_rows.mark_moves(rows)
        for row in rows:
            row.words, row.tone = log_rows.words(row), log_rows.tone(row)
        context["entries"] = rows
        return context


class ExplainView(InstallScopedMixin, FormView):
    changes_nothing = True  # a POST only asks
    form_class = ExplainForm
    template_name = "registrations/explain.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="explain", **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The Registration log links here with ?extension=...&source_ip=...: explain at once.
        if "extension" in request.GET:
            form = ExplainForm(request.GET)
            return self.form_valid(form) if form.is_valid() else self.form_invalid(form)
        return super().get(request, *args, **kwargs)

    def form_valid(self, form: ExplainForm) -> HttpResponse:
        extension, source_ip = form.cleaned_data["extension"], form.cleaned_data["source_ip"]
        evaluation = evaluate(
            domain=self.install.sip_domain, extension=extension, source_ip=source_ip
        )
        reason = evaluation.decision.reason
        last = log_rows.attempts(self.install, extension=extension, source_ip=source_ip).first()
        return self.render_to_response(
            self.get_context_data(
                form=form,
                decision=evaluation.decision,
                explanation=EXPLANATIONS[reason],
                last_attempt=last,
                last_words=log_rows.words(last) if last else "",
                advice=log_rows.advice(last) if last else "",
            )
        )


class UnlockView(InstallScopedMixin, View):
    def post(self, request: HttpRequest, install_pk: int, pk: int) -> HttpResponseRedirect:
        pbx_user = get_object_or_404(PbxUser.objects.filter(install=self.install), pk=pk)
        lockouts.unlock(pbx_user=pbx_user, actor=Actor.for_user(request.user))
        messages.success(request, f"Unlocked {pbx_user}.")
        return redirect("users:list", install_pk=self.install.pk)


@method_decorator(never_cache, name="dispatch")
class DashboardView(InstallScopedMixin, TemplateView):
    """Real Time Dashboard: who is hot-desking now, and how recent sessions ended."""

    template_name = "registrations/dashboard.html"
    refresh_seconds = 5

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        live = dashboard.live_sessions(install=self.install)
        find = self.request.GET.get("find", "")[:64]
        shown = dashboard.matching(live.sessions, find)
        desks = dashboard.desks(install=self.install, sessions=shown)
        doing = dashboard.activities(install=self.install, sessions=shown)
        limits = timed_logouts.limits_of(self.install)
        for session in shown:
            session.desk = desks.get(session.pk, "")  # type: ignore[attr-defined]
            session.activity = doing.get(session.extension)  # type: ignore[attr-defined]
            session.ends = session_end(logged_in_at=session.logged_in_at, limits=limits)  # type: ignore[attr-defined]
        page = Paginator(dashboard.history(install=self.install), dashboard.HISTORY_PAGE_SIZE)
        page_obj = page.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            tab="dashboard",
            live=shown,
            live_total=len(live.sessions),
            find=find,
            tables=live.tables,
            untracked=live.untracked,
            history=page_obj.object_list,
            page_obj=page_obj,
            paginator=page,
            is_paginated=page_obj.has_other_pages(),
            refresh_seconds=self.refresh_seconds,
            daily_logout=DAILY_LOGOUT,
            install_zone=self.install.zone,
            **kwargs,
        )


class DashboardLiveView(DashboardView):
    """The self-refreshing part of the dashboard, fetched by dashboard.js every few seconds."""

    template_name = "registrations/dashboard_live.html"


class ForceLogoutView(InstallScopedMixin, View):
    """Log a live session out now (the Log out buttons of the dashboard): the handset makes
    no new call; with end_calls=1, its answered calls end too."""

    def post(self, request: HttpRequest, install_pk: int, pk: int) -> HttpResponseRedirect:
        session = get_object_or_404(
            HotDeskSession.objects.filter(install=self.install).select_related(
                "install", "pbx_user__install"
            ),
            pk=pk,
        )
        # The session keeps the extension and name of a user removed since (pbx_user None).
        who = f"{session.extension} {session.user_name}".strip()
        end_calls = request.POST.get("end_calls") == "1"
        result = logouts.force_logout(
            session=session,
            actor=Actor.for_user(request.user),
            end_calls=end_calls,
            # Unless the administrator says so, the handset's refresh must not log back in.
            sticky=request.POST.get("let_back_in") != "1",
        )
        level, text = _logout_message(who, result)
        if end_calls and result.ended:
            text += " " + _calls_message(result)
        messages.add_message(request, level, text)
        return redirect("registrations:dashboard", install_pk=self.install.pk)


def _logout_message(who: str, result: logouts.LogoutResult) -> tuple[int, str]:
    if not result.ended:
        return messages.INFO, f"{who} was no longer logged in on that handset."
    if result.unreachable:
        return messages.WARNING, (
            f"Logged out {who} here, but {_edges_not_reached(result.unreachable)}: the "
            "handset stays registered there until its next refresh, which the portal then "
            "allows or denies as usual."
        )
    if not result.edges_tried:
        return messages.WARNING, (
            f"Logged out {who} here, but no SIP edge has an RPC URL: the handset stays "
            "registered until its next refresh, which the portal then allows or denies as usual."
        )
    return messages.SUCCESS, f"Logged out {who}: the handset's registration was removed at once."


def _calls_message(result: logouts.LogoutResult) -> str:
    ended = {0: "No call was in progress.", 1: "Ended 1 call."}.get(
        result.calls_ended, f"Ended {result.calls_ended} calls."
    )
    if result.calls_unreachable:
        return f"{ended} But {_edges_not_reached(result.calls_unreachable)}: calls there go on."
    return ended


def _edges_not_reached(names) -> str:
    if len(names) == 1:
        return f"the SIP edge {names[0]} could not be reached"
    return f"the SIP edges {', '.join(names[:-1])} and {names[-1]} could not be reached"
