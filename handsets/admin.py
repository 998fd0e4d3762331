from django.contrib import admin
from django.http import HttpRequest

from .models import Handset, ProvisioningFetch


@admin.register(Handset)
class HandsetAdmin(admin.ModelAdmin):
    list_display = [
        "desk",
        "display_mac",
        "model",
        "install",
        "last_fetched_at",
        "last_fetched_from",
    ]
    search_fields = ["desk", "mac", "install__sip_domain"]
    readonly_fields = ["last_fetched_at", "last_fetched_from", "added_by_label"]


@admin.register(ProvisioningFetch)
class ProvisioningFetchAdmin(admin.ModelAdmin):
    list_display = ["fetched_at", "install", "filename", "source_ip", "handset"]
    list_filter = ["filename"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ProvisioningFetch | None = None
    ) -> bool:
        return False
