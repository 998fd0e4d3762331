from django.apps import AppConfig


class HandsetsConfig(AppConfig):
    name = "handsets"
    verbose_name = "Handsets and provisioning"
