"""Content-Security-Policy on every response of every host (platform and shops).

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
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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
