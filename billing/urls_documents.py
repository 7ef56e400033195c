"""PDF documents (WeasyPrint; Factur-X for invoices and credit notes) for staff and customers (under /documents/)."""

from django.urls import path  # noqa: F401

app_name = "billing_documents"
urlpatterns: list = []
