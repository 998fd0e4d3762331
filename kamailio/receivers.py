"""Telling the SIP edges about portal changes they would otherwise only see at their next fetch.

A PBX address decides where calls go and which address may ring the hot desks: when an
install's changes, every edge is asked to fetch the PBX table now (`edges.fetch_tables_everywhere`)
rather than within its periodic interval. Once the change has committed, and never for one
that is rolled back; an edge that cannot be asked fetches the table at its next interval anyway.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from installs.models import Install

from . import edges


@receiver(pre_save, sender=Install, dispatch_uid="kamailio.pbx_address_before")
def remember_pbx_address(sender: type[Install], instance: Install, **kwargs: Any) -> None:
    before = Install.objects.filter(pk=instance.pk).values_list("pbx_address", flat=True).first()
    instance._pbx_address_before = before  # type: ignore[attr-defined]


@receiver(post_save, sender=Install, dispatch_uid="kamailio.pbx_address_changed")
def push_changed_pbx_address(sender: type[Install], instance: Install, **kwargs: Any) -> None:
    before = getattr(instance, "_pbx_address_before", None) or ""
    if instance.pbx_address != before:
        transaction.on_commit(edges.fetch_tables_everywhere)


@receiver(post_delete, sender=Install, dispatch_uid="kamailio.pbx_address_removed")
def push_removed_pbx_address(sender: type[Install], instance: Install, **kwargs: Any) -> None:
    if instance.pbx_address:
        transaction.on_commit(edges.fetch_tables_everywhere)
