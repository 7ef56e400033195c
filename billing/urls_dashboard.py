"""Staff dashboard for billing: invoices, credit notes, payments, billing settings, Stripe (under /dashboard/billing/)."""

from django.urls import path  # noqa: F401

app_name = "billing_dashboard"
urlpatterns: list = []
