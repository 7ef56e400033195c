"""The platform host (BASE_DOMAIN): public site, signup, platform console, admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from billing.views.webhook import stripe_webhook
from tenants.views import public

urlpatterns = [
    path("", public.home, name="home"),
    path("pricing/", public.pricing, name="pricing"),
    path("signup/", public.signup, name="signup"),
    path("signup/check-subdomain/", public.signup_check_subdomain, name="signup_check_subdomain"),
    path("console/", include("tenants.urls_console")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", public.healthz, name="healthz"),
    # Stripe Connect: one endpoint for every shop's events (routed by their `account`).
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("_bench/reference/", public.bench_reference, name="bench_reference"))
