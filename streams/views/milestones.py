"""Dashboard views: milestones (see streams/urls_dashboard.py)."""

urlpatterns: list = []
