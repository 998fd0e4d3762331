from django.apps import AppConfig


class TrustedIpsConfig(AppConfig):
    name = "trustedips"
    verbose_name = "Trusted IP ranges"

    def ready(self) -> None:
        from . import signals  # noqa: F401
