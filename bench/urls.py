from django.http import JsonResponse
from django.urls import include, path


def constant(request):
    """The baseline: what Django and gunicorn cost before any work of ours."""
    return JsonResponse({"allow": False, "reason": "baseline"})


urlpatterns = [
    path("bench/constant", constant),
    path("", include("infinity.urls")),
]
