from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.views.generic import DeleteView
from django.views.generic.edit import FormView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin

from . import services
from .forms import TrustedRangeForm
from .models import TrustedRange


class TrustedRangeListView(InstallScopedMixin, FormView):
    """The Trusted IPs tab: the ranges, and the Add IP Range form at the foot of the list."""

    form_class = TrustedRangeForm
    template_name = "trustedips/trustedrange_list.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "install": self.install}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ranges = TrustedRange.objects.filter(install=self.install).select_related("added_by")
        return super().get_context_data(ranges=ranges, tab="trusted_ips", **kwargs)

    def form_valid(self, form: TrustedRangeForm) -> HttpResponseRedirect:
        network = form.cleaned_data["network"]
        covering = services.covering_range(install=self.install, network=network)
        trusted = services.add_range(
            install=self.install,
            network=network,
            description=form.cleaned_data["description"],
            actor=Actor.for_user(self.request.user),
        )
        messages.success(self.request, f"Added {trusted.network}.")
        if covering:
            messages.warning(
                self.request,
                f"{trusted.network} is inside {covering.network} ({covering.description}), "
                "which is already trusted.",
            )
        return redirect("trustedips:list", install_pk=self.install.pk)


class TrustedRangeDeleteView(InstallScopedMixin, DeleteView):
    template_name = "trustedips/trustedrange_confirm_delete.html"
    context_object_name = "trusted_range"

    def get_queryset(self) -> QuerySet[TrustedRange]:
        return TrustedRange.objects.filter(install=self.install)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="trusted_ips", **kwargs)

    def form_valid(self, form: Form) -> HttpResponseRedirect:
        services.remove_range(trusted=self.object, actor=Actor.for_user(self.request.user))
        messages.success(self.request, f"Removed {self.object.network}.")
        return redirect("trustedips:list", install_pk=self.install.pk)
