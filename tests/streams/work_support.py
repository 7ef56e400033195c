"""Builders and fixtures of the work tests (tasks, tickets, my work): a programme to put tasks
on, staff with a role, customers with their own orders, clients signed in on the shop's host.
Imported by tests/streams/test_work*.py."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection
from django.test import Client

from catalog.models import Project
from sales.models import Customer, Order
from streams.models import Priority, Task, Ticket
from streams.services.work import task_create, ticket_raise
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import goods, place_order, registered, staff

__all__ = ["client_for", "customer_client", "customer_with_order", "in_shop", "project",
           "raise_ticket", "staff", "task"]


@pytest.fixture
def in_shop(shop, db):
    """The test body runs in the shop's schema (connection.tenant is the shop: emails name
    it and use its language)."""
    with in_schema(shop):
        connection.tenant = shop
        yield shop


def project(name: str = "Les Jardins") -> Project:
    return Project.objects.create(name=name, slug=f"p-{secrets.token_hex(4)}")


def task(subject=None, *, by=None, title: str = "Pour the slab", **extra) -> Task:
    return task_create(subject=subject or project(), title=title, by=by,
                       priority=extra.pop("priority", Priority.NORMAL), **extra)


def customer_with_order(email: str | None = None) -> tuple[Customer, Order]:
    """A registered customer and an order they placed."""
    email = email or f"client-{secrets.token_hex(3)}@example.test"
    customer = registered(email)
    product = goods(f"SKU-{secrets.token_hex(3)}")
    return customer, place_order((product, 1), customer=customer, email=email)


def raise_ticket(customer: Customer, order: Order, *, title: str = "Delivery date",
                 body: str = "When will it arrive?") -> Ticket:
    return ticket_raise(user=customer.user, subject=order, title=title, body=body)


def client_for(shop, user) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, user)


def customer_client(shop, customer: Customer) -> Client:
    return client_for(shop, customer.user)
