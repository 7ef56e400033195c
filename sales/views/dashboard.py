"""Dashboard pages for sales: orders, quotes, customers, shipping methods."""

from __future__ import annotations

from django.http import HttpRequest


def sales_widget(request: HttpRequest) -> dict | None:
    """Dashboard home: open quotes, orders to ship, today's sales (filled in by the dashboard
    pages' work)."""
    return None
