from django.apps import AppConfig


class KamailioConfig(AppConfig):
    name = "kamailio"
    verbose_name = "Kamailio SIP edges"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the signal handlers)
