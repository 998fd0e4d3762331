from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import FormView, ListView

from accounts.mixins import InstallScopedMixin
from audit.trail import Actor
from users.models import PbxUser

from . import lockouts
from .evaluation import evaluate
from .explanations import EXPLANATIONS
from .forms import ExplainForm, LogFilterForm
from .models import RegistrationLogEntry


class RegistrationLogView(InstallScopedMixin, ListView):
    """Every check and report for the install, newest first, filterable."""

    template_name = "registrations/registration_log.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        entries = RegistrationLogEntry.objects.filter(install=self.install)
        self.filters = LogFilterForm(self.request.GET or None)
        if self.filters.is_valid():
            wanted = self.filters.cleaned_data
            if wanted["extension"]:
                entries = entries.filter(extension=wanted["extension"].strip())
            if wanted["decision"]:
                entries = entries.filter(allowed=wanted["decision"] == "allow")
            if wanted["reason"]:
                entries = entries.filter(reason=wanted["reason"])
        return entries

    def get_context_data(self, **kwargs):
        return super().get_context_data(filters=self.filters, tab="reglog", **kwargs)


class ExplainView(InstallScopedMixin, FormView):
    form_class = ExplainForm
    template_name = "registrations/explain.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(tab="explain", **kwargs)

    def form_valid(self, form):
        evaluation = evaluate(
            domain=self.install.sip_domain,
            extension=form.cleaned_data["extension"],
            source_ip=form.cleaned_data["source_ip"],
        )
        reason = evaluation.decision.reason
        return self.render_to_response(
            self.get_context_data(
                form=form, decision=evaluation.decision, explanation=EXPLANATIONS[reason]
            )
        )


class UnlockView(InstallScopedMixin, View):
    def post(self, request, install_pk: int, pk: int):
        pbx_user = get_object_or_404(PbxUser.objects.filter(install=self.install), pk=pk)
        lockouts.unlock(pbx_user=pbx_user, actor=Actor.for_user(request.user))
        messages.success(request, f"Unlocked {pbx_user}.")
        return redirect("users:list", install_pk=self.install.pk)
