from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Call records"

    def ready(self) -> None:
        # They answer the dashboard's live_activity and the user page's user_history.
        from . import dashboard, user_page  # noqa: F401
