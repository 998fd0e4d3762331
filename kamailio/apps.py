from django.apps import AppConfig


class KamailioConfig(AppConfig):
    name = "kamailio"
    verbose_name = "Kamailio SIP edges"
