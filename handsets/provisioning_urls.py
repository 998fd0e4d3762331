"""The URLs handsets fetch their configuration from (outside the portal's login)."""

from django.urls import path, re_path

from . import views

app_name = "provisioning"
urlpatterns = [
    # The directory URL administrators paste into the handset; never served itself.
    path(
        "<int:install_pk>/<str:token>/",
        views.ProvisioningFileView.as_view(),
        name="directory",
        kwargs={"filename": ""},
    ),
    re_path(
        r"^(?P<install_pk>[0-9]+)/(?P<token>[A-Za-z0-9_-]+)/"
        r"(?P<filename>y000000000000\.cfg|[0-9A-Fa-f]{12}\.cfg)$",
        views.ProvisioningFileView.as_view(),
        name="file",
    ),
]
