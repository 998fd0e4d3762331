from django.urls import path

from . import api

# Mounted by infinity.urls under the SIP edge's API (api/sip/v1/calls/).
app_name = "callapi"
urlpatterns = [
    path("events", api.CallEventBatchView.as_view(), name="events"),
]
