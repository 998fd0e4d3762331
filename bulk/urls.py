from django.urls import path

from . import views

app_name = "bulk"
urlpatterns = [
    path("", views.BulkIndexView.as_view(), name="index"),
    path("<slug:kind>.csv", views.ExportView.as_view(), name="export"),
    path("<slug:kind>/import/", views.ImportView.as_view(), name="import"),
]
