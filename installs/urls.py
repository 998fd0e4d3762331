from django.urls import include, path

from . import views

app_name = "installs"
urlpatterns = [
    path("", views.InstallListView.as_view(), name="list"),
    path("<int:install_pk>/settings/", views.InstallSettingsView.as_view(), name="settings"),
    path("<int:install_pk>/audit/", views.AuditLogView.as_view(), name="audit"),
]

# The tabs of one install, each app under its own namespace.
install_tabs = [
    path("<int:install_pk>/users/", include("users.urls")),
    path("<int:install_pk>/trusted-ips/", include("trustedips.urls")),
    path("<int:install_pk>/registrations/", include("registrations.urls")),
    path("<int:install_pk>/handsets/", include("handsets.urls")),
    path("<int:install_pk>/bulk/", include("bulk.urls")),
]
