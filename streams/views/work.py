"""Dashboard views: work (see streams/urls_dashboard.py)."""

from django.http import HttpResponse
from django.urls import path


def my_work(request):  # placeholder until the page lands
    return HttpResponse("")


urlpatterns: list = [path("my-work/", my_work, name="my_work")]
account_urlpatterns: list = []
