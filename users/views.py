from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.forms import Form, ModelForm
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from audit.trail import Actor
from installs.scoping import InstallScopedMixin

from . import services
from .forms import PbxUserForm, UserSearchForm
from .models import PbxUser
from .pins import generate_pin
from .signals import HistoryTable, user_history


class InstallUserMixin(InstallScopedMixin):
    """PBX users of the install named in the URL, and nothing else."""

    def get_queryset(self) -> QuerySet[PbxUser]:
        return PbxUser.objects.filter(install=self.install).select_related("install", "lockout")


class UserListView(InstallUserMixin, ListView):
    template_name = "users/pbxuser_list.html"
    paginate_by = 50
    tab = "users"

    def get_queryset(self) -> QuerySet[PbxUser]:
        queryset = super().get_queryset()
        self.search = UserSearchForm(self.request.GET or None)
        if self.search.is_valid() and (q := self.search.cleaned_data["q"].strip()):
            queryset = queryset.filter(Q(extension__startswith=q) | Q(name__icontains=q))
        return queryset.order_by("extension")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(search=self.search, tab=self.tab, **kwargs)


class UserFormMixin(InstallUserMixin):
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
            response = TemplateResponse(
                self.request,
                "users/pbxuser_pin_generated.html",
                {"install": self.install, "pbx_user": user, "pin": generated, "tab": self.tab},
            )
            response["Cache-Control"] = "no-store"
            return response
        messages.success(self.request, f"Saved user {user}.")
        return redirect("users:list", install_pk=self.install.pk)


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


class UserDeleteView(InstallUserMixin, DeleteView):
    template_name = "users/pbxuser_confirm_delete.html"
    context_object_name = "pbx_user"

    def form_valid(self, form: Form) -> HttpResponseRedirect:
        services.delete_user(user=self.object, actor=Actor.for_user(self.request.user))
        messages.success(self.request, f"Removed user {self.object}.")
        return redirect("users:list", install_pk=self.install.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab="users", **kwargs)
