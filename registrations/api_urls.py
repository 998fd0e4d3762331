from django.urls import path

from . import api

# Everything under it is the SIP edge's, answered ahead of the browser middleware
# (registrations.middleware); infinity.urls mounts this version of the API at ROOT + "v1/".
ROOT = "api/sip/"

app_name = "sipapi"
urlpatterns = [
    path("register/check", api.CheckView.as_view(), name="check"),
    path("register/event", api.EventView.as_view(), name="event"),
    path("register/events", api.EventBatchView.as_view(), name="events"),
    path("pbx", api.PbxTableView.as_view(), name="pbx"),
    path("locked", api.LockedTableView.as_view(), name="locked"),
    path("sessions/tick", api.SessionTickView.as_view(), name="session_tick"),
]
