from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("", views.CallLogView.as_view(), name="log"),
    path("calls.csv", views.CallLogCsvView.as_view(), name="csv"),
]
