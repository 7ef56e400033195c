"""Storefront pages (shop host). The catalog arrives with its issue; the shell is here now."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def storefront_home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/storefront_home.html", {"products": []})
