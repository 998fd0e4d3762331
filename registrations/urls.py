from django.urls import path

from . import views

app_name = "registrations"
urlpatterns = [
    path("", views.RegistrationLogView.as_view(), name="log"),
    path("explain/", views.ExplainView.as_view(), name="explain"),
    path("unlock/<int:pk>/", views.UnlockView.as_view(), name="unlock"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/live/", views.DashboardLiveView.as_view(), name="dashboard_live"),
    path("dashboard/<int:pk>/logout/", views.ForceLogoutView.as_view(), name="force_logout"),
]
