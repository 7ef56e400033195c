"""Helpers for the activity tests (events, timelines, feed, API): a shop that can issue
invoices, staff with a role, documents in a given state, many events at once."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from sales.services.quotes import quote_create, quote_line_input, quote_send
from streams.models import ActorKind, Event, Importance
from streams.subjects import content_type_id, subject_label
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import BASE_URL, customer, goods, staff

__all__ = ["BASE_URL", "client_for", "draft_quote", "in_shop", "many_events", "sent_quote",
           "staff"]

LEGAL = {"legal_name": "Alpha SAS", "legal_form": "SAS", "share_capital": "10 000 €",
         "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
         "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
         "bic": "BNPAFRPPXXX"}


@pytest.fixture
def in_shop(shop, db, settings, tmp_path):
    """The test body runs in the shop's schema, with the legal identity French invoices need
    (rolled back with the test) and issued PDFs kept in a temporary folder."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    type(shop).objects.filter(pk=shop.pk).update(**LEGAL)
    saved = {key: getattr(shop, key) for key in LEGAL}
    for key, value in LEGAL.items():
        setattr(shop, key, value)
    try:
        with in_schema(shop):
            connection.tenant = shop
            yield shop
    finally:
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)


def client_for(shop, user) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, user)


def draft_quote(*, seller=None, stock: str = "10", quantity: str = "2"):
    product = goods(f"Q-{secrets.token_hex(3)}", stock=stock)
    return quote_create(customer=customer(), by=seller or staff("sales"),
                        data={"valid_until": timezone.localdate() + timedelta(days=30)},
                        lines=[quote_line_input(product=product, quantity=quantity)])


def sent_quote(**kwargs):
    return quote_send(quote=draft_quote(**kwargs), by=staff("sales"), base_url=BASE_URL)


def many_events(subject, count: int, *, actor=None, verb: str = "confirm",
                importance: int = Importance.NORMAL, **extra) -> None:
    """`count` events about `subject` in one statement (as a long-lived order or a busy shop
    would have), spread over the last hours."""
    now = timezone.now()
    Event.objects.bulk_create([
        Event(subject_type_id=content_type_id(subject), subject_id=subject.pk,
              subject_label=subject_label(subject), verb=verb, before="pending",
              after="confirmed", actor=actor,
              actor_kind=ActorKind.STAFF if actor else ActorKind.SYSTEM,
              actor_name=actor.get_full_name() if actor else "", importance=importance,
              data={"tracking": f"T{n}"}, at=now - timedelta(minutes=n), **extra)
        for n in range(count)])
