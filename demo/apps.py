from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py load_demo`: a development tool, so it sits above every app it fills."""

    name = "demo"
    verbose_name = "Demo data"
