from django.urls import path

from . import views

app_name = "installs"
urlpatterns = [
    path("", views.InstallListView.as_view(), name="list"),
    path("<int:install_pk>/settings/", views.InstallSettingsView.as_view(), name="settings"),
    path("<int:install_pk>/audit/", views.AuditLogView.as_view(), name="audit"),
]
