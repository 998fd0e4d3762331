from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin

from . import batch, pin_sheets, services
from .forms import BulkActionForm, PbxUserForm, PinSheetForm, UserListForm
from .listing import (
    apply_filters,
    apply_sort,
    safe_return_url,
    sort_headers,
    who_is_logged_in,
    with_states,
)
from .models import PbxUser
from .pins import generate_pin
from .signals import HistoryTable, user_history


class InstallUserMixin(InstallScopedMixin):
    """PBX users of the install named in the URL, and nothing else."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET":
            # Opening any Users page means the page of a batch's new PINs was left: its
            # one download goes with it (users/pin_sheets.py).
            pin_sheets.drop(request.session)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[PbxUser]:
        return PbxUser.objects.filter(install=self.install).select_related("install", "lockout")


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _some(users: list[PbxUser], shown: int = 10) -> str:
    """Which users, briefly: "1001, 1002 and 3 more"."""
    names = ", ".join(user.extension for user in users[:shown])
    return names + (f" and {len(users) - shown} more" if len(users) > shown else "")


def _count(number: int) -> str:
    return f"{number} user{'' if number == 1 else 's'}"


class UserListView(InstallUserMixin, ListView):
    """The Users tab: search, filters, sort, page size; bulk actions on the ticked rows (POST)."""

    template_name = "users/pbxuser_list.html"
    tab = "users"

    @cached_property
    def list_form(self) -> UserListForm:
        return UserListForm(self.request.GET)

    @cached_property
    def logged_in(self) -> dict[str, str]:
        return who_is_logged_in(self.install)

    def get_queryset(self) -> QuerySet[PbxUser]:
        options = self.list_form.options()
        queryset = with_states(super().get_queryset(), logged_in=self.logged_in)
        return apply_sort(apply_filters(queryset, options["filters"]), options["sort"])

    def get_paginate_by(self, queryset: QuerySet[PbxUser]) -> int:
        return self.list_form.options()["per_page"]

    def paginate_queryset(self, queryset: Any, page_size: int) -> tuple:
        # A page past the end (the last rows were just revoked away) shows the last page.
        paginator = Paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        page.object_list = list(page.object_list)
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        options = self.list_form.options()
        bulk_form = kwargs.pop("bulk_form", None) or BulkActionForm()
        context = super().get_context_data(
            tab=self.tab,
            filters=self.list_form,
            filtered=any(options["filters"].values()),
            headers=sort_headers(self.request.GET, current=options["sort"]),
            bulk_form=bulk_form,
            # Rows ticked before a refused action stay ticked.
            selected=set(bulk_form["users"].value() or []) if bulk_form.is_bound else set(),
            return_query=urlencode({"next": self.request.get_full_path()}),
            **kwargs,
        )
        context["rows"] = [
            (user, self.logged_in.get(user.extension)) for user in context["object_list"]
        ]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = BulkActionForm(request.POST)
        if not form.is_valid():
            self.object_list = self.get_queryset()
            return self.render_to_response(self.get_context_data(bulk_form=form))
        users = self.selected_users(form.cleaned_data["users"])
        actor = Actor.for_user(request.user)
        if form.cleaned_data["action"] == batch.BatchAction.NEW_PINS:
            return self.show_new_pins(batch.issue_new_pins(users=users, actor=actor))
        allowed = form.cleaned_data["action"] == batch.BatchAction.GRANT
        self.report(batch.set_access(users=users, allowed=allowed, actor=actor), allowed=allowed)
        return redirect(request.get_full_path())

    def selected_users(self, ids: list[int]) -> list[PbxUser]:
        users = list(super().get_queryset().filter(pk__in=ids).order_by("extension"))
        if len(users) != len(ids):
            # Another install's user, or nobody's: the answer a page of that user would give.
            raise Http404("No such user.")
        return users

    def show_new_pins(self, issued: list[batch.IssuedPin]) -> HttpResponse:
        # Rendered straight into this response; the session keeps only the sealed sheet for
        # the one download, whose key is on this page alone.
        ticket = pin_sheets.keep(self.request.session, install_pk=self.install.pk, pins=issued)
        context = {
            "install": self.install,
            "tab": self.tab,
            "issued": issued,
            "sheet_form": PinSheetForm(initial={"sheet": ticket.sheet, "key": ticket.key}),
            "minutes": pin_sheets.SHEET_SECONDS // 60,
            "return_url": self.request.get_full_path(),
        }
        return _no_store(
            TemplateResponse(self.request, "users/pbxuser_pins_generated.html", context)
        )

    def report(self, result: batch.AccessResult, *, allowed: bool) -> None:
        request = self.request
        if allowed and result.changed:
            messages.success(request, f"Gave Hot Desk Access to {_count(len(result.changed))}.")
        elif result.changed:
            messages.success(
                request,
                f"Revoked Hot Desk Access of {_count(len(result.changed))}; any of them logged "
                "in at a hot desk were logged out.",
            )
        if result.without_pin:
            messages.warning(
                request,
                f"Not given access, for want of a PIN: {_some(result.without_pin)}. "
                "Generate new PINs for them first.",
            )
        if result.unchanged:
            state = "had Hot Desk Access already" if allowed else "had no Hot Desk Access"
            messages.info(request, f"Unchanged: {_some(result.unchanged)} {state}.")


class PinSheetDownloadView(InstallScopedMixin, View):
    """A batch's new PINs as CSV, once (users/pin_sheets.py); afterwards a page says so."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PinSheetForm(request.POST)
        sheet = None
        if form.is_valid():
            ticket = pin_sheets.SheetTicket(**form.cleaned_data)
            sheet = pin_sheets.take(request.session, install_pk=self.install.pk, ticket=ticket)
        else:
            pin_sheets.drop(request.session)  # one attempt, however it was made
        if sheet is None:
            minutes = pin_sheets.SHEET_SECONDS // 60
            context = {"install": self.install, "tab": "users", "minutes": minutes}
            gone = TemplateResponse(request, "users/pbxuser_pins_gone.html", context, status=410)
            return _no_store(gone)
        response = HttpResponse(sheet, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{self.install.sip_domain}-new-pins.csv"'
        )
        return _no_store(response)


class ReturnToListMixin(InstallUserMixin):
    """Save, Cancel and Remove go back to the list as it was: its search, filters and sort."""

    @cached_property
    def return_url(self) -> str:
        candidate = self.request.POST.get("next") or self.request.GET.get("next")
        return safe_return_url(self.request, install=self.install, candidate=candidate)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            return_url=self.return_url,
            return_query=urlencode({"next": self.return_url}),
            **kwargs,
        )


class UserFormMixin(ReturnToListMixin):
    model = PbxUser
    template_name: str | None = "users/pbxuser_form.html"
    tab = "users"

    def get_form_class(self) -> type[PbxUserForm]:
        return PbxUserForm

    def get_form_kwargs(self) -> dict[str, Any]:
        # A mixin: ModelFormMixin, which has get_form_kwargs(), follows it in the views' MRO.
        return {**super().get_form_kwargs(), "install": self.install}  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab=self.tab, **kwargs)

    def form_invalid(self, form: "ModelForm[PbxUser]") -> HttpResponse:
        # A refused PIN is shown in its field again (PbxUserForm.full_clean): no caching.
        return _no_store(super().form_invalid(form))  # type: ignore[misc]

    def form_valid(self, form: "ModelForm[PbxUser]") -> HttpResponse:
        user = form.instance
        generated = (
            generate_pin(extension=user.extension)
            if self.request.POST.get("generate_pin")
            else None
        )
        services.save_user(
            user=user,
            pin=generated or form.cleaned_data["pin"],
            actor=Actor.for_user(self.request.user),
            before=getattr(self, "before", None),
        )
        if generated:
            # Rendered straight into this response and never put in a message, session or
            # URL: this page is the only time the PIN exists outside the operator's head.
            context = {
                "install": self.install,
                "pbx_user": user,
                "pin": generated,
                "tab": self.tab,
                "return_url": self.return_url,
            }
            return _no_store(
                TemplateResponse(self.request, "users/pbxuser_pin_generated.html", context)
            )
        messages.success(self.request, f"Saved user {user}.")
        return redirect(self.return_url)


class UserCreateView(UserFormMixin, CreateView):
    pass


class UserUpdateView(UserFormMixin, UpdateView):
    def get_object(self, queryset: QuerySet[PbxUser] | None = None) -> PbxUser:
        user = super().get_object(queryset)
        # Taken before the form writes the submitted values onto the instance.
        self.before = services.snapshot(user)
        return user

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        tables: list[HistoryTable] = []
        for _, answer in user_history.send(sender=PbxUser, user=self.object):
            if isinstance(answer, HistoryTable):
                tables.append(answer)
        tables.sort(key=lambda table: table.order)
        return super().get_context_data(history=tables, **kwargs)


class UserDeleteView(ReturnToListMixin, DeleteView):
    template_name = "users/pbxuser_confirm_delete.html"
    context_object_name = "pbx_user"

    def form_valid(self, form: Form) -> HttpResponseRedirect:
        services.delete_user(user=self.object, actor=Actor.for_user(self.request.user))
        messages.success(self.request, f"Removed user {self.object}.")
        return redirect(self.return_url)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="users", **kwargs)
