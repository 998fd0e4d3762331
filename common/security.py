"""The Content-Security-Policy header on every page the portal serves.

The portal's pages load their scripts, styles and images from the portal itself (Bootstrap
comes from XStatic through whitenoise, not a CDN), and have no inline script or style
attribute, so the policy can refuse everything else: an injected `<script>` or `style=`,
a page framing ours, a form posting elsewhere. Bootstrap's CSS draws its icons (the select's
arrow, the close button) as `data:` SVG images, hence `img-src 'self' data:`.

The SIP API (/api/sip/) is answered by `registrations.middleware.EdgeAPIMiddleware` before
this middleware runs and carries no policy: Kamailio renders nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Adds `POLICY` to every response that does not bring a policy of its own.

    Place it early in MIDDLEWARE (right after the SIP API's middleware), so that the answers
    of the middleware after it (a CSRF refusal, a redirect) carry the policy too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault(HEADER, POLICY)
        return response
