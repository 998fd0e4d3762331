from django.urls import path

from . import views

app_name = "trustedips"
urlpatterns = [
    path("", views.TrustedRangeListView.as_view(), name="list"),
    path("<int:pk>/delete/", views.TrustedRangeDeleteView.as_view(), name="delete"),
]
