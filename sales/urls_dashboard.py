"""Staff dashboard for sales: orders, quotes, customers, shipping methods (namespace
`sales_dashboard`, under /dashboard/sales/)."""

from django.urls import path  # noqa: F401

app_name = "sales_dashboard"
urlpatterns: list = []
