from django.urls import path  # noqa: F401

app_name = "catalog_dashboard"
urlpatterns: list = []
