from django.urls import path

from . import api

app_name = "sipapi"
urlpatterns = [
    path("register/check", api.CheckView.as_view(), name="check"),
    path("register/event", api.EventView.as_view(), name="event"),
    path("register/events", api.EventBatchView.as_view(), name="events"),
]
