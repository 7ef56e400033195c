"""The customer's invoices in their storefront account (under /account/invoices/)."""

from django.urls import path  # noqa: F401

app_name = "billing_account"
urlpatterns: list = []
