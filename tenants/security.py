"""Response and request hardening for every host (platform and shops): the
Content-Security-Policy, and a bound on request bodies.

## Content-Security-Policy

The policy allows scripts, styles, fonts and requests from the page's own host only, and no
inline script or style at all: behaviour lives in static files (tenants/static/shopfleet/js/),
htmx runs without `eval` (`allowEval: false` in base.html's htmx-config) and without the style
element it would otherwise inject. An injected `<script>` or `onclick=` in some shop's content
would therefore not run.

Forms may post to this host only, with two exceptions Chromium needs because it applies
`form-action` to the redirects that follow a form post as well:
- on the platform host, signup answers with a redirect to the new shop's own host
  (`<sub>.BASE_DOMAIN`), so shop hosts are allowed there;
- on a shop host, the card payment answers with a redirect to Stripe's hosted Checkout page,
  so Stripe Checkout's origin (or the local stand-in's, STRIPE_API_BASE) is allowed there when
  card payments are configured.

## Request bodies
A request announcing a larger body than it may have is answered 413 before anything reads it:
with files (multipart), MAX_UPLOAD_REQUEST_BYTES (the largest upload, an image, and the form
around it; each upload is checked again, with its own message, by the code that reads it);
anything else (forms, JSON, Stripe's webhooks), DATA_UPLOAD_MAX_MEMORY_SIZE. Without this, a
file of any size would be written to a temporary file before a view could refuse it. WSGI
reads no more than Content-Length, so a body without one is read as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

HEADER = "Content-Security-Policy"
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@lru_cache(maxsize=16)
def _policy(*, extra_form_action: tuple[str, ...]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the small SVG icons Swagger UI and some components embed.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'", *extra_form_action],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def form_action_extra(request: HttpRequest) -> tuple[str, ...]:
    """The origins beyond 'self' that this host's forms may lead to (see the module docstring)."""
    shop = getattr(request, "tenant", None)
    if shop is None or shop.schema_name == settings.PUBLIC_SCHEMA_NAME:
        # Any port: development and the browser tests run on one (`sub.localhost:8000`).
        return (f"*.{settings.BASE_DOMAIN}:*",)
    if not settings.STRIPE_SECRET_KEY:
        return ()
    return (_origin(settings.STRIPE_API_BASE) or STRIPE_CHECKOUT_ORIGIN,)


def content_security_policy(request: HttpRequest) -> str:
    return _policy(extra_form_action=form_action_extra(request))


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that has none yet (a view may set a stricter one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = content_security_policy(request)
        return response


def body_limit(request: HttpRequest) -> int:
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return settings.MAX_UPLOAD_REQUEST_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestSizeLimitMiddleware:
    """413 for a body larger than this request may send (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads an unreadable length as no body at all
        limit = body_limit(request)
        if length <= limit:
            return self.get_response(request)
        message = _("This request is too large (%(size)s): the limit is %(limit)s. Nothing "
                    "was saved.") % {"size": filesizeformat(length),
                                     "limit": filesizeformat(limit)}
        if request.path.startswith(("/api/", "/stripe/")):
            return JsonResponse({"detail": message}, status=413)
        return render(request, "tenants/request_too_large.html", {"message": message},
                      status=413)
