"""Billing pages of the staff dashboard."""

from __future__ import annotations

from django.http import HttpRequest


def billing_widget(request: HttpRequest) -> str | None:
    """Dashboard home: revenue this month, outstanding, overdue (filled in with the pages)."""
    return None
