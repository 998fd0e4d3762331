from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Call records"

    def ready(self) -> None:
        from . import dashboard  # noqa: F401 (answers the dashboard's live_activity)
