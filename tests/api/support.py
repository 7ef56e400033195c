"""Test support for the API suite: a WSGI app that stays in the test's transaction, clients
carrying a staff token, and a small shop's worth of data to point detail endpoints at."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from PIL import Image

from billing.services.invoices import invoice_create_for_order, invoice_issue
from billing.services.payments import card_checkout_start, card_payment_succeeded, payment_record
from catalog.models import Project
from catalog.services.categories import category_save, product_type_save, spec_definition_add
from catalog.services.images import product_image_add
from sales.services.customers import address_save
from sales.services.orders import order_confirm
from sales.services.quotes import quote_create, quote_line_input, quote_send
from streams.models import Event, Follow, FollowLevel, Notification
from streams.services.milestones import milestone_create
from streams.services.social import comment_create, follow_set
from streams.services.work import task_create, ticket_raise
from streams.subjects import content_type_id
from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.models import Shop
from tests.conftest import host_of, in_schema, owner_of
from tests.sales import factories

LEGAL = {"legal_name": "Alpha SAS", "legal_form": "SAS", "share_capital": "10 000 €",
         "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
         "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
         "bic": "BNPAFRPPXXX"}


def token_for(shop: Shop, user: User | None = None, name: str = "tests") -> str:
    with in_schema(shop):
        return api_token_create(user=user or owner_of(shop), name=name)[1]


def api_client(shop: Shop, user: User | None = None) -> Client:
    """A client on `shop`'s host carrying a staff token of `user` (the owner by default)."""
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {token_for(shop, user)}")


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI application, in-process. Like Django's test client, it leaves the
    database connection alone between requests, so every request runs inside the test's
    transaction (and is rolled back with it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def legal_shop(shop, db, settings, tmp_path) -> Iterator[Shop]:
    """The test shop with the legal identity French invoices need (rolled back with the test),
    issued PDFs and uploads in temporary folders."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # django-tenants' storage caches the media root it first saw.
    storages["default"].__dict__.pop("relative_media_root", None)
    Shop.objects.filter(pk=shop.pk).update(**LEGAL)
    saved = {key: getattr(shop, key) for key in LEGAL}
    for key, value in LEGAL.items():
        setattr(shop, key, value)
    try:
        yield shop
    finally:
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)
        storages["default"].__dict__.pop("relative_media_root", None)


def png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@dataclass
class Seeded:
    """Ids of real rows, by the collection their detail path starts with (`quotes`), plus the
    second path parameter of nested resources."""

    ids: dict[str, list[int]] = field(default_factory=dict)
    nested: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, collection: str, *rows) -> None:
        self.ids.setdefault(collection, []).extend(row.pk for row in rows)


STRIPE_ACCOUNT = "acct_1ApiFuzzShop"


def card_payment(invoice, stripe) -> object:
    """A card payment of what is left on `invoice`, really paid on the local Stripe server
    (so refunding it goes through Stripe), recorded as the webhook would."""
    Shop.objects.filter(pk=connection.tenant.pk).update(stripe_account_id=STRIPE_ACCOUNT,
                                                        stripe_charges_enabled=True)
    connection.tenant.stripe_account_id = STRIPE_ACCOUNT
    connection.tenant.stripe_charges_enabled = True
    payment = card_checkout_start(base_url=factories.BASE_URL, success_path="/paid/",
                                  cancel_path="/cancelled/", invoice=invoice)
    assert stripe.pay(payment.checkout_session_id).paid
    intent = stripe.session(payment.checkout_session_id)["payment_intent"]
    card_payment_succeeded(session_id=payment.checkout_session_id, payment_intent=intent)
    return payment


def seed(shop: Shop, stripe=None) -> Seeded:
    """One of each kind of object the API serves, in several states where the state decides
    what an action does (a draft and a sent quote, a draft and an issued invoice...). With
    `stripe` (the local Stripe server), a card payment too."""
    seeded = Seeded()
    with in_schema(shop):
        connection.tenant = shop
        owner = owner_of(shop)
        manager = factories.staff("manager")
        category = category_save(name="Bikes")
        product_type = product_type_save(name="Bike")
        spec = spec_definition_add(product_type=product_type, label="Frame size", kind="text")
        bike = factories.goods("BIKE", stock="50", category=category, product_type=product_type)
        setup = factories.service("SETUP")
        lot = factories.lot("A01")
        project = Project.objects.get(slug="jardins")
        image = product_image_add(product=bike, upload=png(), alt="A bike", by=owner)
        seeded.add("categories", category)
        seeded.add("product-types", product_type)
        seeded.add("products", bike, setup, lot)
        seeded.add("projects", project)
        seeded.nested["images"] = {"product_pk": bike.pk, "id": image.pk}
        seeded.nested["specs"] = {"id": product_type.pk, "code": spec.code}

        customer = factories.registered(f"paul-{secrets.token_hex(3)}@example.test")
        address = address_save(customer=customer, data=dict(factories.ADDRESS),
                               default_billing=True)
        seeded.add("customers", customer)
        seeded.nested["addresses"] = {"id": customer.pk, "address_id": address.pk}

        draft = quote_create(customer=customer, by=owner,
                             lines=[quote_line_input(product=bike, quantity="2")])
        sent = quote_send(quote=quote_create(customer=customer, by=owner, lines=[
            quote_line_input(product=setup, quantity="1")]), by=owner,
            base_url=factories.BASE_URL)
        seeded.add("quotes", draft, sent)
        seeded.nested["lines"] = {"id": draft.pk, "line_id": draft.lines.first().pk}

        pending = factories.place_order((bike, 1), customer=customer, email=customer.email)
        confirmed = order_confirm(order=factories.place_order((bike, 2)), by=owner)
        seeded.add("orders", pending, confirmed)

        draft_invoice = invoice_create_for_order(order=pending, by=owner)
        issued = invoice_issue(invoice=invoice_create_for_order(order=confirmed, by=owner),
                               by=owner)
        payment = payment_record(invoice=issued, method="bank_transfer",
                                 amount=Decimal("100.00"), by=owner)
        seeded.add("invoices", draft_invoice, issued)
        seeded.add("payments", payment)
        if stripe is not None:
            by_card = invoice_issue(invoice=invoice_create_for_order(
                order=order_confirm(order=factories.place_order((bike, 1)), by=owner),
                by=owner), by=owner)
            seeded.add("payments", card_payment(by_card, stripe))

        milestone = milestone_create(subject=project, by=owner, data={"name": "Foundations"})
        task = task_create(subject=project, title="Pour the slab", by=owner)
        ticket = ticket_raise(user=customer.user, subject=pending, title="Delivery date",
                              body="When will it arrive?")
        seeded.add("milestones", milestone)
        seeded.add("tasks", task)
        seeded.add("tickets", ticket)

        customer_type = content_type_id(customer)
        follow_set(user=owner, subject_type_id=customer_type, subject_id=customer.pk,
                   level=FollowLevel.ALL)
        comment = comment_create(by=owner, subject_type_id=customer_type,
                                 subject_id=customer.pk, body="Called back about the quote.")
        comment_create(by=manager, subject_type_id=customer_type, subject_id=customer.pk,
                       body="Their delivery address changed.")
        seeded.add("comments", comment)
        seeded.add("follows", *Follow.objects.filter(user=owner))
        seeded.add("notifications", *Notification.objects.filter(recipient=owner)[:3])
        seeded.add("events", *Event.objects.order_by("-pk")[:3])
        seeded.add("staff", owner, manager)
    return seeded
