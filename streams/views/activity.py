"""Dashboard views: activity (see streams/urls_dashboard.py)."""

from django.http import HttpResponse
from django.urls import path


def feed(request):  # placeholder until the feed lands
    return HttpResponse("")


urlpatterns: list = [path("", feed, name="feed")]
