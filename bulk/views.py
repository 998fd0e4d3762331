"""Import / Export tab: CSV export, and import as a dry run first, applied only on confirmation.

Between the preview and the confirmation the server keeps nothing: not the file, not its
PINs, not even their digests. The preview page carries only a fingerprint (an HMAC of the
file and of the planned actions, see `imports.fingerprint`), and the confirmation uploads the
same file again. The import is then planned afresh and applied only if the fingerprint still
matches, so what is applied is exactly what the administrator saw, and a PIN exists on the
server only for the length of a request, never in a session, a log or a page.
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, TemplateView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin

from .forms import ImportForm
from .imports import Kind, fingerprint, run_import
from .kinds import KINDS


class KindMixin:
    kwargs: dict[str, Any]  # set by View.setup()

    @cached_property
    def kind(self) -> Kind:
        try:
            return KINDS[self.kwargs["kind"]]
        except KeyError:
            raise Http404("No such kind of file.") from None


def _sections(forms: dict) -> list[tuple[Kind, ImportForm]]:
    return [(kind, forms.get(name) or ImportForm()) for name, kind in KINDS.items()]


class BulkIndexView(InstallScopedMixin, TemplateView):
    template_name = "bulk/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="bulk", sections=_sections({}), **kwargs)


class ExportView(InstallScopedMixin, KindMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{self.kind.filename(self.install)}"'
        )
        self.kind.export(install=self.install, out=response)
        return response


class ImportView(InstallScopedMixin, KindMixin, FormView):
    form_class = ImportForm
    template_name = "bulk/import_preview.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
        _ = self.kind  # an unknown kind is a 404 whatever the method
        return redirect("bulk:index", install_pk=self.install.pk)

    def form_invalid(self, form: ImportForm) -> HttpResponse:
        context = {"install": self.install, "tab": "bulk"}
        context["sections"] = _sections({self.kind.name: form})
        return self.response_class(self.request, "bulk/index.html", context, status=400)

    def form_valid(self, form: ImportForm) -> HttpResponse:
        data = form.cleaned_data["file"].read()
        expected = form.cleaned_data["fingerprint"]
        wants_apply = "apply" in self.request.POST and bool(expected)
        plan = run_import(
            self.kind,
            install=self.install,
            data=data,
            actor=Actor.for_user(self.request.user),
            apply=wants_apply,
            confirmed=lambda plan: constant_time_compare(
                fingerprint(plan, install=self.install, data=data), expected
            ),
        )
        if plan.applied:
            counts = plan.counts
            messages.success(
                self.request,
                f"Imported {self.kind.title.lower()}: {counts['create']} created, "
                f"{counts['update']} updated, {counts['unchanged']} unchanged.",
            )
            return redirect("bulk:index", install_pk=self.install.pk)
        response = self.render_to_response(
            self.get_context_data(
                tab="bulk",
                kind=self.kind,
                plan=plan,
                # The preview differs from the one confirmed: the file, or the install, changed.
                stale=wants_apply and not plan.has_errors,
                fingerprint=fingerprint(plan, install=self.install, data=data),
                form=form,
                upload_name=getattr(form.cleaned_data["file"], "name", ""),
            )
        )
        response["Cache-Control"] = "no-store"
        return response
