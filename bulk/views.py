"""Import / Export tab: CSV export, and import as a dry run first, applied only on confirmation.

The preview keeps the uploaded file on the server until it is applied (`pending`): sealed in
the session, its key only in the preview page's Apply form, so a PIN in the file is never
stored in clear and the administrator does not choose the file again. Apply plans the kept
file afresh and applies it only if the plan's fingerprint (an HMAC of the file and of the
planned actions, see `imports.fingerprint`) is the one the preview showed: what is applied is
exactly what the administrator saw. A file that was altered, replaced by a newer preview or
kept longer than `pending.PENDING_SECONDS` is not applied; the page asks for it again.
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

from . import pending
from .forms import ApplyForm, ImportForm
from .imports import ImportPlan, Kind, RowAction, RowPlan, fingerprint, run_import
from .kinds import KINDS

CHOOSE_AGAIN = (
    "This preview has expired or was replaced by a newer one, so nothing was imported. "
    "Choose the file again to preview it."
)


class KindMixin:
    kwargs: dict[str, Any]  # set by View.setup()

    @cached_property
    def kind(self) -> Kind:
        try:
            return KINDS[self.kwargs["kind"]]
        except KeyError:
            raise Http404("No such kind of file.") from None


def _auto_id(kind: str) -> str:
    # The tab shows one upload form per kind: each needs ids of its own (id_users_file, ...).
    return f"id_{kind}_%s"


def _sections(forms: dict) -> list[tuple[Kind, ImportForm]]:
    return [
        (kind, forms.get(name) or ImportForm(auto_id=_auto_id(name)))
        for name, kind in KINDS.items()
    ]


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

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _ = self.kind
        if "apply" in request.POST and "pending" in request.POST:
            return self.apply_kept_file()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "auto_id": _auto_id(self.kind.name)}

    def form_invalid(self, form: ImportForm) -> HttpResponse:
        context = {"install": self.install, "tab": "bulk"}
        context["sections"] = _sections({self.kind.name: form})
        return self.response_class(self.request, "bulk/index.html", context, status=400)

    def form_valid(self, form: ImportForm) -> HttpResponse:
        expected = form.cleaned_data["fingerprint"]
        return self.plan_and_maybe_apply(
            data=form.cleaned_data["file"].read(),
            name=getattr(form.cleaned_data["file"], "name", ""),
            expected=expected,
            wants_apply="apply" in self.request.POST and bool(expected),
        )

    def apply_kept_file(self) -> HttpResponse:
        form = ApplyForm(self.request.POST)
        kept = None
        if form.is_valid():
            ticket = pending.PendingTicket(
                pending=form.cleaned_data["pending"], key=form.cleaned_data["key"]
            )
            kept = pending.take(
                self.request.session, install_pk=self.install.pk, kind=self.kind.name, ticket=ticket
            )
        if kept is None:
            again = ImportForm.asking_again(CHOOSE_AGAIN, auto_id=_auto_id(self.kind.name))
            return self.form_invalid(again)
        return self.plan_and_maybe_apply(
            data=kept.data,
            name=kept.name,
            expected=form.cleaned_data["fingerprint"],
            wants_apply=True,
        )

    def plan_and_maybe_apply(
        self, *, data: bytes, name: str, expected: str, wants_apply: bool
    ) -> HttpResponse:
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
            pending.forget(self.request.session, install_pk=self.install.pk, kind=self.kind.name)
            counts = plan.counts
            messages.success(
                self.request,
                f"Imported {self.kind.title.lower()}: {counts['create']} created, "
                f"{counts['update']} updated, {counts['unchanged']} unchanged.",
            )
            return redirect("bulk:index", install_pk=self.install.pk)
        response = self.render_to_response(
            self.get_context_data(
                form=None,  # the upload form is not shown again; the page has its own
                tab="bulk",
                kind=self.kind,
                plan=plan,
                rows=_errors_first(plan),
                # The preview differs from the one confirmed: the file, or the install, changed.
                stale=wants_apply and not plan.has_errors,
                apply_form=self.keep_for_apply(plan, data=data, name=name),
                fingerprint=fingerprint(plan, install=self.install, data=data),
                keep_minutes=pending.PENDING_SECONDS // 60,
                upload_name=name,
            )
        )
        response["Cache-Control"] = "no-store"
        return response

    def keep_for_apply(self, plan: ImportPlan, *, data: bytes, name: str) -> ApplyForm | None:
        """Keep a file that can be applied; forget any older one of this kind either way."""
        session, install_pk, kind = self.request.session, self.install.pk, self.kind.name
        if plan.has_errors or not plan.changes:
            pending.forget(session, install_pk=install_pk, kind=kind)
            return None
        ticket = pending.keep(session, install_pk=install_pk, kind=kind, data=data, name=name)
        return ApplyForm(
            initial={
                "pending": ticket.pending,
                "key": ticket.key,
                "fingerprint": fingerprint(plan, install=self.install, data=data),
            }
        )


def _errors_first(plan: ImportPlan) -> list[RowPlan]:
    """The rows to show: those in error first (what needs fixing), then in file order."""
    return sorted(plan.rows, key=lambda row: (row.action is not RowAction.ERROR, row.line))
