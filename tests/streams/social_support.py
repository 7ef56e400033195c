"""Builders and fixtures of the social tests (follows, notifications, comments): staff with a
role, a customer record to follow and comment on (a tracked kind every role may view),
clients signed in on the shop's host. Imported by tests/streams/test_social*.py."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory

from sales.models import Customer
from streams.models import Follow, FollowLevel
from streams.subjects import content_type_id
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import customer, staff

__all__ = ["client_for", "follow", "in_shop", "panel_html", "staff", "subject", "url_of"]


@pytest.fixture
def in_shop(shop, db):
    """The test body runs in the shop's schema (connection.tenant is the shop)."""
    with in_schema(shop):
        connection.tenant = shop
        yield shop


def subject(name: str = "Curie") -> Customer:
    return customer(email=f"c-{secrets.token_hex(4)}@example.test", last_name=name)


def url_of(obj) -> tuple[int, int]:
    return content_type_id(obj), obj.pk


def follow(user, obj, level: str = FollowLevel.ALL) -> Follow:
    ct, pk = url_of(obj)
    return Follow.objects.create(user=user, subject_type_id=ct, subject_id=pk, level=level)


def client_for(shop, user) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, user)


def panel_html(obj, user) -> str:
    """The `{% streams_panel %}` block of an object's page as `user` sees it."""
    request = RequestFactory().get("/dashboard/sales/customers/1/")
    request.user = user
    request.htmx = False
    return Template("{% load streams_tags %}{% streams_panel subject %}").render(
        Context({"subject": obj, "request": request, "user": user}))
