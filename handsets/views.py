import logging
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.forms import Form
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DeleteView, FormView, TemplateView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin

from . import provisioning, services, yealink
from .forms import HandsetForm, KeySettingsForm
from .models import Handset, ProvisioningFetch
from .readiness import readiness_problems

logger = logging.getLogger("handsets.provisioning")

CFG_CONTENT_TYPE = "text/plain; charset=utf-8"
RECENT_FETCHES = 20


class HandsetSetupView(InstallScopedMixin, FormView):
    """Handset Setup: where the key goes, the exact lines, and how to enter them by hand."""

    form_class = KeySettingsForm
    template_name = "handsets/setup.html"

    def get_initial(self) -> dict[str, Any]:
        return KeySettingsForm.initial_for(services.unsaved_profile(self.install))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        profile = services.unsaved_profile(self.install)
        return super().get_context_data(
            tab="handsets",
            section="setup",
            profile=profile,
            config_text=profile.render(),
            filename=yealink.COMMON_FILENAME,
            problems=readiness_problems(self.install),
            default_line_key=yealink.DEFAULT_LINE_KEY,
            **kwargs,
        )

    def form_valid(self, form: KeySettingsForm) -> HttpResponseRedirect:
        services.save_key_settings(
            install=self.install,
            line_key=form.cleaned_data["line_key"],
            label=form.cleaned_data["label"],
            handset_family=form.cleaned_data["handset_family"],
            actor=Actor.for_user(self.request.user),
        )
        messages.success(
            self.request,
            "Saved the hot-desk key. Provisioned handsets get it next time they check.",
        )
        return redirect("handsets:setup", install_pk=self.install.pk)


class DownloadConfigView(InstallScopedMixin, View):
    """The same lines as a `.cfg` file, named as a Yealink phone would ask for it."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        text = services.unsaved_profile(self.install).render()
        response = HttpResponse(text, content_type=CFG_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{yealink.COMMON_FILENAME}"'
        return response


class ProvisioningView(InstallScopedMixin, FormView):
    """The provisioning URL, the handset registry, and the latest fetches."""

    form_class = HandsetForm
    template_name = "handsets/provisioning.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "install": self.install}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        profile = services.profile_for(self.install)
        base_path = reverse(
            "provisioning:directory", kwargs={"install_pk": self.install.pk, "token": profile.token}
        )
        return super().get_context_data(
            tab="handsets",
            section="provisioning",
            profile=profile,
            provisioning_url=self.request.build_absolute_uri(base_path),
            common_filename=yealink.COMMON_FILENAME,
            handsets=Handset.objects.filter(install=self.install),
            fetches=ProvisioningFetch.objects.filter(install=self.install).select_related(
                "handset"
            )[:RECENT_FETCHES],
            **kwargs,
        )

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **response_kwargs)
        # The page carries the provisioning token: keep it out of shared caches and history.
        response["Cache-Control"] = "no-store"
        return response

    def form_valid(self, form: HandsetForm) -> HttpResponseRedirect:
        handset = services.register_handset(
            install=self.install,
            mac=form.cleaned_data["mac"],
            desk=form.cleaned_data["desk"],
            model=form.cleaned_data["model"],
            actor=Actor.for_user(self.request.user),
        )
        messages.success(self.request, f"Registered {handset}: it is served {handset.filename}.")
        return redirect("handsets:provisioning", install_pk=self.install.pk)


class RotateTokenView(InstallScopedMixin, TemplateView):
    """Confirm, then replace the provisioning token: the old URL stops working at once."""

    template_name = "handsets/rotate_confirm.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="handsets", section="provisioning", **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
        services.rotate_token(install=self.install, actor=Actor.for_user(request.user))
        messages.success(
            request,
            "Issued a new provisioning URL. The old one no longer works: update your handsets "
            "or DHCP option 66.",
        )
        return redirect("handsets:provisioning", install_pk=self.install.pk)


class HandsetDeleteView(InstallScopedMixin, DeleteView):
    template_name = "handsets/handset_confirm_delete.html"
    context_object_name = "handset"

    def get_queryset(self) -> QuerySet[Handset]:
        return Handset.objects.filter(install=self.install)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="handsets", section="provisioning", **kwargs)

    def form_valid(self, form: Form) -> HttpResponseRedirect:
        services.remove_handset(handset=self.object, actor=Actor.for_user(self.request.user))
        messages.success(self.request, f"Removed {self.object}.")
        return redirect("handsets:provisioning", install_pk=self.install.pk)


class ProvisioningFileView(View):
    """What a handset fetches: the common file, or its own `<mac>.cfg`. No login, no session.

    Order matters: an unknown install or wrong token is a 404 before anything else, so only a
    holder of the current URL ever learns whether a source is trusted.
    """

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, install_pk: int, token: str, filename: str) -> HttpResponse:
        profile = provisioning.find_profile(install_pk=install_pk, token=token)
        if profile is None:
            raise Http404("No such provisioning file.")
        handset = None
        if filename != yealink.COMMON_FILENAME:
            mac = yealink.canonical_mac(filename.removesuffix(".cfg"))
            handset = (
                Handset.objects.filter(install=profile.install, mac=mac).first() if mac else None
            )
            if handset is None:
                raise Http404("No such provisioning file.")
        address = provisioning.client_address(request)
        source = provisioning.trusted_source(install=profile.install, address=address)
        if source is None:
            logger.warning(
                "Provisioning: refused %s of %s to %r (outside its trusted ranges)",
                filename,
                profile.install.sip_domain,
                address,
            )
            return HttpResponseForbidden("This address is not in the install's trusted ranges.\n")
        provisioning.record_fetch(
            profile=profile,
            filename=filename,
            source=str(source),
            user_agent=request.headers.get("User-Agent", ""),
            handset=handset,
        )
        response = HttpResponse(profile.render(handset=handset), content_type=CFG_CONTENT_TYPE)
        response["Cache-Control"] = "no-store"
        return response
