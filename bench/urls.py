from django.http import JsonResponse
from django.urls import include, path

from registrations import api_urls


def constant(request):
    """The baseline: what Django and gunicorn cost before any work of ours.

    Under the SIP API's prefix, so that it is served the way the check is (ahead of the
    browser middleware, `registrations.middleware`).
    """
    return JsonResponse({"allow": False, "reason": "baseline"})


urlpatterns = [
    path(f"{api_urls.ROOT}bench/constant", constant),
    path("", include("infinity.urls")),
]
