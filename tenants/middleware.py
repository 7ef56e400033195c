"""Request routing by host: the platform (public schema) or one shop (its schema)."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import ShopStatus

# Paths a refused shop still answers: health checks for the load balancer, assets for the page.
ALWAYS_OPEN_PREFIXES = ("/healthz", "/static/")


class ShopMiddleware(TenantMainMiddleware):
    """Selects the schema from the Host header. An unknown host gets a plain "no shop here"
    page, never the platform or another shop."""

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        return request.get_host().split(":")[0].lower().rstrip(".")

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return super().process_request(request)
        except DatabaseError:
            if request.path == "/healthz":
                return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
            raise

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        response = render(request, "tenants/no_shop.html", {"hostname": hostname}, status=404)
        return response


class ShopAvailabilityMiddleware:
    """A suspended or archived shop refuses its storefront, dashboard and API; its data stays."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        shop = getattr(request, "tenant", None)
        if (
            shop is not None
            and shop.schema_name != settings.PUBLIC_SCHEMA_NAME
            and shop.status != ShopStatus.ACTIVE
            and not request.path.startswith(ALWAYS_OPEN_PREFIXES)
        ):
            return shop_unavailable_response(request, shop)
        return self.get_response(request)


def shop_unavailable_response(request: HttpRequest, shop) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "shop_unavailable", "message": "This shop is not available."}},
            status=503,
        )
    response = render(
        request,
        "tenants/shop_unavailable.html",
        {"unavailable_shop": shop, "archived": shop.status == ShopStatus.ARCHIVED},
        status=503,
    )
    response["Retry-After"] = "3600"
    return response


class ShopLocaleMiddleware(LocaleMiddleware):
    """The visitor's explicit choice (language cookie) wins; otherwise a shop speaks its own
    locale, whatever the browser says; the platform site follows the browser."""

    def process_request(self, request: HttpRequest) -> None:
        supported = {code for code, _name in settings.LANGUAGES}
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        shop = getattr(request, "tenant", None)
        if chosen in supported:
            language = chosen
        elif shop is not None and shop.schema_name != settings.PUBLIC_SCHEMA_NAME:
            language = shop.locale if shop.locale in supported else settings.LANGUAGE_CODE
        else:
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
