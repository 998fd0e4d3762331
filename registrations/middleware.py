"""Answering the SIP edge's API ahead of the browser middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, get_resolver, get_urlconf

from .api_urls import ROOT

API_PREFIX = "/" + ROOT


class EdgeAPIMiddleware:
    """Serves /api/sip/ straight from its view, ahead of the rest of MIDDLEWARE.

    Kamailio's requests carry their own Basic credential and need nothing that the browser
    middleware after this one does (sessions, CSRF, user authentication, messages, axes,
    static files, frame options); going through it was about a quarter of a check's time
    (docs/performance.md). Put it right after SecurityMiddleware, which still applies. An
    unknown API path is a JSON 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            match = get_resolver(get_urlconf()).resolve(request.path_info)
        except Resolver404:
            return JsonResponse({"allow": False, "reason": "not_found"}, status=404)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        # What CommonMiddleware would add: without it gunicorn answers in chunks.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response
