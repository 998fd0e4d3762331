"""Tenant scoping for portal views.

Every portal view reaches installs through `installs_for(user)`, so an object in another
customer's account is simply not found (404) rather than forbidden (403, which would confirm
that it exists).
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.views.generic.base import ContextMixin

from .models import Install


def installs_for(user) -> QuerySet[Install]:
    """The installs a portal user administers: those of the accounts they are a member of."""
    if not user.is_authenticated:
        return Install.objects.none()
    return Install.objects.filter(account__memberships__user=user).select_related("account")


class InstallScopedMixin(LoginRequiredMixin, ContextMixin):
    """Resolve `install_pk` from the URL within the logged-in administrator's accounts."""

    install_url_kwarg = "install_pk"
    request: HttpRequest  # set by View.setup()
    kwargs: dict[str, Any]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Resolve the install before the method check, so another account's install is a 404
        # whatever the method (a 405 first would answer before the scope was ever applied).
        if request.user.is_authenticated:
            _ = self.install
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def install(self) -> Install:
        return get_object_or_404(
            installs_for(self.request.user), pk=self.kwargs[self.install_url_kwarg]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("install", self.install)
        return super().get_context_data(**kwargs)
