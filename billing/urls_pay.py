"""Card payments for customers: start Stripe Checkout for an order or an invoice, and the return page that waits for the webhook (under /pay/)."""

from django.urls import path  # noqa: F401

app_name = "billing_pay"
urlpatterns: list = []
