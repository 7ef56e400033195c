"""A shop's host (<sub>.BASE_DOMAIN): storefront, staff dashboard, API."""

from django.conf import settings
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from catalog.views.images import tenant_media
from tenants.accounts.api import ApiNotFoundView
from tenants.views import public

api_v1 = [
    path("", include("tenants.accounts.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("catalog.api_images_urls")),
    path("", include("sales.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("streams.api_urls")),
    # Last: any other address under /api/v1/ answers the API's JSON 404, not the HTML page.
    re_path(r"^.*$", ApiNotFoundView.as_view(), name="not_found"),
]

urlpatterns = [
    path("", include("catalog.urls_storefront")),
    path("", include("sales.urls_storefront")),
    path("account/invoices/", include("billing.urls_account")),
    path("account/tickets/", include("streams.urls_account")),
    path("account/", include("sales.urls_account")),
    path("pay/", include("billing.urls_pay")),
    path("documents/", include("billing.urls_documents")),
    path("q/", include("sales.urls_public")),
    path("accounts/", include("tenants.accounts.urls")),
    path("dashboard/", include("tenants.accounts.dashboard_urls")),
    path("dashboard/catalog/", include("catalog.urls_dashboard")),
    path("dashboard/catalog/images/", include("catalog.urls_images")),
    path("dashboard/catalog/csv/", include("catalog.urls_csv")),
    path("dashboard/sales/", include("sales.urls_dashboard")),
    path("dashboard/billing/", include("billing.urls_dashboard")),
    path("dashboard/activity/", include("streams.urls_dashboard")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # The schema and its docs describe the API, not a shop's data: readable without a token.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]),
         name="api_schema"),
    # The split view serves Swagger UI's init script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api_schema", permission_classes=[AllowAny],
        template_name="api/swagger_ui.html"), name="api_docs"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", public.healthz, name="healthz"),
    # This shop's uploaded files only (MEDIA_ROOT/<schema>/...). A CDN or object storage can
    # take over in production; the view stays correct either way.
    re_path(r"^media/(?P<path>.+)$", tenant_media, name="tenant_media"),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("_bench/reference/", public.bench_reference, name="bench_reference"))
