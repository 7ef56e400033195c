"""The data migrations that folded the per-document history (QuoteEvent, OrderEvent,
InvoiceEvent) into streams events keep that history: who, when, what, which states, what was
said, on the right document's timeline. The old models are gone, so their rows are given to
the copy functions as the migration reads them."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as real_apps
from django.utils import timezone

from billing.services.invoices import invoice_create_for_order, invoice_issue
from streams.models import ActorKind, Event, Importance
from streams.selectors import events_of, timeline_page
from streams.subjects import content_type_id
from tests.sales.factories import goods, place_order
from tests.streams.activity_support import (  # noqa: F401 (in_shop is a fixture)
    draft_quote,
    in_shop,
    staff,
)

pytestmark = pytest.mark.usefixtures("in_shop")
sales_copy = importlib.import_module("sales.migrations.0004_history_to_streams")
billing_copy = importlib.import_module("billing.migrations.0004_history_to_streams")
AT = timezone.now() - timedelta(days=100)


class _Rows:
    """What `History.objects.order_by(...).values(...)` gave the migration: plain rows."""

    def __init__(self, rows):
        self.rows = rows

    def order_by(self, *args):
        return self

    def values(self, *args, **kwargs):
        return self

    def iterator(self, chunk_size=None):
        return iter(self.rows)


class _Apps:
    """The migration's app registry: today's models, plus the removed history models."""

    def __init__(self, **history):
        self.history = {name: type(name, (), {"objects": _Rows(rows)})
                        for name, rows in history.items()}

    def get_model(self, app_label, model_name):
        return self.history.get(model_name) or real_apps.get_model(app_label, model_name)


def _row(verb, *, at_days=0, **fields):
    return {"id": 0, "verb": verb, "from_status": "", "to_status": "", "by_id": None,
            "by_customer": False, "message": "", "data": {},
            "at": AT + timedelta(days=at_days), **fields}


def test_quote_and_order_history_becomes_their_timelines():
    seller = staff("sales")
    Event.objects.all().delete()  # only the copied rows from here on
    quote, order = draft_quote(seller=seller), place_order((goods("BIKE"), 1))
    Event.objects.all().delete()
    quote_rows = [
        _row("created", subject_id=quote.pk, by_id=seller.pk),
        _row("send", at_days=1, subject_id=quote.pk, by_id=seller.pk, from_status="draft",
             to_status="sent", data={"to": "marie@example.test"}),
        _row("accept", at_days=2, subject_id=quote.pk, by_customer=True, from_status="sent",
             to_status="accepted", data={"name": "Marie Curie"}),
    ]
    order_rows = [
        _row("placed", subject_id=order.pk, by_customer=True),
        _row("cancel", at_days=3, subject_id=order.pk, by_id=seller.pk, from_status="pending",
             to_status="cancelled", message="Out of stock"),
        _row("refund_failed", at_days=4, subject_id=order.pk, message="Stripe said no"),
    ]
    sales_copy.copy_history(_Apps(QuoteEvent=quote_rows, OrderEvent=order_rows), None)

    copied = list(events_of(quote).order_by("at").values_list(
        "verb", "before", "after", "actor_id", "actor_kind", "actor_name", "importance"))
    assert copied == [
        ("created", "", "", seller.pk, ActorKind.STAFF, seller.get_full_name(),
         Importance.NORMAL),
        ("send", "draft", "sent", seller.pk, ActorKind.STAFF, seller.get_full_name(),
         Importance.NORMAL),
        ("accept", "sent", "accepted", None, ActorKind.CUSTOMER, "", Importance.HIGH)]
    cancel = events_of(order).get(verb="cancel")
    assert (cancel.message, cancel.importance, cancel.at) == (
        "Out of stock", Importance.HIGH, AT + timedelta(days=3))
    assert events_of(order).get(verb="refund_failed").actor_kind == ActorKind.SYSTEM
    assert set(Event.objects.values_list("subject_label", flat=True)) == {
        f"Quote {quote.reference}", f"Order {order.number}"}
    # The timeline reads them like any event (words from today's registration).
    rows = timeline_page(subject_type_id=content_type_id(quote), subject_id=quote.pk).rows
    assert [(r["what"], r["who"], r["detail"]) for r in rows] == [
        ("Accepted", "The customer", "Signed by Marie Curie"),
        ("Sent to the customer", seller.get_full_name(), "To marie@example.test"),
        ("Quote created", seller.get_full_name(), "")]


def test_invoice_history_takes_the_names_new_events_have():
    accountant = staff("accountant")
    invoice = invoice_issue(invoice=invoice_create_for_order(
        order=place_order((goods("BIKE"), 1)), by=accountant), by=accountant)
    Event.objects.all().delete()
    rows = [
        _row("issue", invoice_id=invoice.pk, by_id=accountant.pk, from_status="draft",
             to_status="issued", data={"number": invoice.number}),
        _row("payment", at_days=1, invoice_id=invoice.pk, by_id=accountant.pk,
             from_status="issued", to_status="partially_paid",
             data={"amount": "10.00", "method": "cheque", "payment": 4}),
        _row("overdue", at_days=40, invoice_id=invoice.pk, from_status="partially_paid",
             to_status="overdue"),
        _row("credited", at_days=41, invoice_id=invoice.pk, from_status="overdue",
             to_status="cancelled", data={"credit_note": "A-2026-00001"}),
        _row("reminder", at_days=42, invoice_id=invoice.pk, data={"days_late": 7}),
    ]
    billing_copy.copy_history(_Apps(InvoiceEvent=rows), None)

    copied = list(events_of(invoice).order_by("at").values_list(
        "verb", "before", "after", "actor_kind", "importance"))
    assert copied == [
        ("issue", "draft", "issued", ActorKind.STAFF, Importance.NORMAL),
        ("settle", "issued", "partially_paid", ActorKind.STAFF, Importance.HIGH),
        ("mark_overdue", "partially_paid", "overdue", ActorKind.SYSTEM, Importance.HIGH),
        ("cancel", "overdue", "cancelled", ActorKind.SYSTEM, Importance.HIGH),
        ("reminder", "", "", ActorKind.SYSTEM, Importance.NORMAL)]
    assert events_of(invoice).first().subject_label == f"Invoice {invoice.number}"
    detail = timeline_page(subject_type_id=content_type_id(invoice), subject_id=invoice.pk)
    assert "Payment of 10.00\xa0€ · Cheque" in [row["detail"] for row in detail.rows]


def test_a_shop_without_history_gets_nothing_copied():
    Event.objects.all().delete()
    sales_copy.copy_history(_Apps(QuoteEvent=[], OrderEvent=[]), None)
    billing_copy.copy_history(_Apps(InvoiceEvent=[]), None)
    assert not Event.objects.exists()
