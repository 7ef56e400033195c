"""Customer accounts on the storefront: sign-up, sign-in, orders, quotes, addresses
(namespace `sales_account`, under /account/)."""

from django.urls import path  # noqa: F401

app_name = "sales_account"
urlpatterns: list = []
