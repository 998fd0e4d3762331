"""The page for a refused form (CSRF failure), in the portal's layout.

Django's own CSRF page renders without the request, so it could show neither the portal's
header nor who is logged in; this one is `403_csrf.html`, which extends base.html and leads
back to Telephony Settings. It names no reason: the log has it (django.security.csrf).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a POST without a valid CSRF token: 403 and a page that says what to do."""
    return render(request, "403_csrf.html", status=403)
