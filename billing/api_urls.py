"""Billing REST API routes (included under /api/v1/ in the `api` namespace)."""

urlpatterns: list = []
