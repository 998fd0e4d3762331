from django.urls import path

from . import views

app_name = "handsets"
urlpatterns = [
    path("", views.HandsetSetupView.as_view(), name="setup"),
    path("y000000000000.cfg", views.DownloadConfigView.as_view(), name="download"),
    path("provisioning/", views.ProvisioningView.as_view(), name="provisioning"),
    path("provisioning/rotate/", views.RotateTokenView.as_view(), name="rotate"),
    path("<int:pk>/delete/", views.HandsetDeleteView.as_view(), name="delete"),
]
