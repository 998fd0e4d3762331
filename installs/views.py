from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.generic import ListView, UpdateView

from audit.models import Action, AuditEvent
from audit.trail import Actor, diff, record

from .forms import InstallSettingsForm
from .models import Install
from .scoping import InstallScopedMixin, installs_for


class InstallListView(LoginRequiredMixin, ListView):
    """Telephony Settings: the Phone System Installs of the administrator's accounts."""

    template_name = "installs/install_list.html"
    context_object_name = "installs"

    def get_queryset(self) -> QuerySet[Install]:
        return installs_for(self.request.user).order_by("account__name", "name")


class InstallSettingsView(InstallScopedMixin, UpdateView):
    form_class = InstallSettingsForm
    template_name = "installs/install_settings.html"

    def get_object(self, queryset: QuerySet[Install] | None = None) -> Install:
        self.before = {f: getattr(self.install, f) for f in InstallSettingsForm.Meta.fields}
        return self.install

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="settings", **kwargs)

    def form_valid(self, form: ModelForm) -> HttpResponse:
        with transaction.atomic():
            install = form.save()
            after = {f: getattr(install, f) for f in InstallSettingsForm.Meta.fields}
            if changes := diff(self.before, after):
                record(
                    actor=Actor.for_user(self.request.user),
                    action=Action.INSTALL_CHANGED,
                    install=install,
                    obj=install,
                    changes=changes,
                )
        messages.success(self.request, "Saved the install settings.")
        return redirect("installs:settings", install_pk=install.pk)


class AuditLogView(InstallScopedMixin, ListView):
    template_name = "installs/audit_log.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.filter(install=self.install)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="audit", **kwargs)
