"""Tenant scoping for portal views, and what a member may do there.

Every portal view reaches installs through `installs_for(user)`, so an object in another
customer's account is simply not found (404) rather than forbidden (403, which would confirm
that it exists). Within their own account, a viewer (`accounts.models.Role.VIEWER`) sees
everything and changes nothing: every request but GET/HEAD/OPTIONS is a 403 for them, unless
the view only reads (`changes_nothing`, e.g. Explain).
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.views.generic.base import ContextMixin

from accounts.models import Membership, Role

from .models import Install

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def installs_for(user) -> QuerySet[Install]:
    """The installs a portal user administers: those of the accounts they are a member of."""
    if not user.is_authenticated:
        return Install.objects.none()
    return Install.objects.filter(account__memberships__user=user).select_related("account")


class InstallScopedMixin(LoginRequiredMixin, ContextMixin):
    """Resolve `install_pk` from the URL within the logged-in administrator's accounts."""

    install_url_kwarg = "install_pk"
    # A POST here only reads (Explain): viewers may send it.
    changes_nothing = False
    request: HttpRequest  # set by View.setup()
    kwargs: dict[str, Any]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Resolve the install before the method check, so another account's install is a 404
        # whatever the method (a 405 first would answer before the scope was ever applied).
        if request.user.is_authenticated:
            _ = self.install
            if request.method not in _READS and not self.changes_nothing and not self.can_change:
                raise PermissionDenied("Viewers see the account; they change nothing.")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def can_change(self) -> bool:
        """Whether the logged-in member administers (not just views) this install's account."""
        user_id = self.request.user.pk
        if user_id is None:  # anonymous: LoginRequiredMixin answers first
            return False
        return Membership.objects.filter(
            user_id=user_id, account_id=self.install.account_id, role=Role.ADMINISTRATOR
        ).exists()

    @cached_property
    def install(self) -> Install:
        return get_object_or_404(
            installs_for(self.request.user), pk=self.kwargs[self.install_url_kwarg]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("install", self.install)
        kwargs.setdefault("can_change", self.can_change)
        return super().get_context_data(**kwargs)
