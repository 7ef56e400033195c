"""The customer's quote page, reached by the signed link of the quote email (namespace
`sales_public`, under /q/)."""

from django.urls import path  # noqa: F401

app_name = "sales_public"
urlpatterns: list = []
