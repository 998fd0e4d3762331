from django.apps import AppConfig


class HandsetsConfig(AppConfig):
    name = "handsets"
    verbose_name = "Handsets and provisioning"

    def ready(self) -> None:
        from . import desks  # noqa: F401 (names the dashboard's desks)
