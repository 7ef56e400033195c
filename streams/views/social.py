"""Dashboard views: social (see streams/urls_dashboard.py)."""

urlpatterns: list = []
