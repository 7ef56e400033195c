"""Storefront: cart and checkout (shop host, namespace `sales_store`)."""

from django.urls import path  # noqa: F401

app_name = "sales_store"
urlpatterns: list = []
