from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = "Hot-desk registrations"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to users.signals)
