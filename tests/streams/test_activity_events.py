"""Events: every transition of quotes, orders and invoices leaves exactly one event with its
actor (run through the services, as the dashboard and the API run them); payments, refunds,
stock, customers and products leave theirs; whoever creates a document follows it."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.services.invoices import (
    credit_note_create_issued,
    invoice_create_for_order,
    invoice_issue,
)
from billing.services.payments import payment_record, payment_refund
from billing.services.periodic import invoices_mark_overdue
from catalog.services.products import product_create, products_archive
from catalog.services.projects import project_save
from catalog.services.stock import stock_adjust, stock_receive
from sales.models import Quote
from sales.services.customers import customer_create, customer_update
from sales.services.orders import order_transition
from sales.services.quotes import (
    quote_accept,
    quote_cancel,
    quote_convert,
    quote_decline,
    quote_revise,
    quote_send,
    quotes_expire,
)
from streams.models import Event, Follow, Importance
from streams.selectors import events_of
from streams.subjects import content_type_id
from tests.sales.factories import goods, place_order
from tests.streams.activity_support import (  # noqa: F401 (in_shop is a fixture)
    BASE_URL,
    draft_quote,
    in_shop,
    sent_quote,
    staff,
)

pytestmark = pytest.mark.usefixtures("in_shop")
ACCEPT = {"name": "Marie Curie", "accept_terms": True, "ip": "203.0.113.7"}


def _order(*steps, by=None):
    order = place_order((goods(f"B-{secrets.token_hex(3)}", stock="5"), 1))
    for step in steps:
        order_transition(order=order, action=step, by=by or staff("owner"), reason="test")
    return order


def _invoice(*, issued: bool = True):
    accountant = staff("accountant")
    invoice = invoice_create_for_order(order=_order(), by=accountant)
    return invoice_issue(invoice=invoice, by=accountant) if issued else invoice


def _accepted_without_stock():
    quote = sent_quote(stock="1", quantity="2")  # conversion fails: the quote stays accepted
    quote_accept(quote=quote, by=None, **ACCEPT)
    stock_receive(product=quote.lines.get().product, quantity="5", by=None)
    return Quote.objects.get(pk=quote.pk)


def _expired(quote):
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(1))
    quotes_expire()


# (given: makes the subject, when: runs the service as `actor` (or None), then: the
# transition events it leaves on the subject: verb, before, after, actor kind, by the actor?)
CASES = {
    "quote send": (draft_quote, "sales",
                   lambda q, u: quote_send(quote=q, by=u, base_url=BASE_URL),
                   [("send", "draft", "sent", "staff", True)]),
    "quote accepted online, converted": (
        sent_quote, None, lambda q, u: quote_accept(quote=q, by=None, **ACCEPT),
        [("accept", "sent", "accepted", "customer", False),
         ("convert", "accepted", "converted", "system", False)]),
    "quote acceptance recorded by staff": (
        sent_quote, "sales", lambda q, u: quote_accept(quote=q, by=u, **ACCEPT),
        [("accept", "sent", "accepted", "staff", True),
         ("convert", "accepted", "converted", "staff", True)]),
    "quote declined online": (
        sent_quote, None, lambda q, u: quote_decline(quote=q, reason="Too dear"),
        [("decline", "sent", "declined", "customer", False)]),
    "quote expires": (sent_quote, None, lambda q, u: _expired(q),
                      [("expire", "sent", "expired", "system", False)]),
    "quote cancelled": (draft_quote, "manager",
                        lambda q, u: quote_cancel(quote=q, by=u, reason="Duplicate"),
                        [("cancel", "draft", "cancelled", "staff", True)]),
    "quote revised": (sent_quote, "sales", lambda q, u: quote_revise(quote=q, by=u),
                      [("supersede", "sent", "superseded", "staff", True)]),
    "quote converted by staff": (_accepted_without_stock, "sales",
                                 lambda q, u: quote_convert(quote=q, by=u),
                                 [("convert", "accepted", "converted", "staff", True)]),
    "order confirm": (_order, "sales",
                      lambda o, u: order_transition(order=o, action="confirm", by=u),
                      [("confirm", "pending", "confirmed", "staff", True)]),
    "order start processing": (
        lambda: _order("confirm"), "warehouse",
        lambda o, u: order_transition(order=o, action="start_processing", by=u),
        [("start_processing", "confirmed", "processing", "staff", True)]),
    "order ship": (lambda: _order("confirm", "start_processing"), "warehouse",
                   lambda o, u: order_transition(order=o, action="ship", by=u,
                                                 tracking="6A1234"),
                   [("ship", "processing", "shipped", "staff", True)]),
    "order deliver": (lambda: _order("confirm", "start_processing", "ship"), "warehouse",
                      lambda o, u: order_transition(order=o, action="deliver", by=u),
                      [("deliver", "shipped", "delivered", "staff", True)]),
    "order cancel": (_order, "manager",
                     lambda o, u: order_transition(order=o, action="cancel", by=u,
                                                   reason="Changed their mind"),
                     [("cancel", "pending", "cancelled", "staff", True)]),
    "invoice issue": (lambda: _invoice(issued=False), "accountant",
                      lambda i, u: invoice_issue(invoice=i, by=u),
                      [("issue", "draft", "issued", "staff", True)]),
    "invoice part paid": (_invoice, "accountant",
                          lambda i, u: payment_record(invoice=i, method="cheque", amount="10",
                                                      by=u),
                          [("settle", "issued", "partially_paid", "staff", True)]),
    "invoice paid": (_invoice, "accountant",
                     lambda i, u: payment_record(invoice=i, method="bank_transfer",
                                                 amount=i.gross_total, by=u),
                     [("settle", "issued", "paid", "staff", True)]),
    "invoice overdue": (_invoice, None,
                        lambda i, u: invoices_mark_overdue(
                            today=i.due_date + timedelta(days=1)),
                        [("mark_overdue", "issued", "overdue", "system", False)]),
    "invoice closed by a credit note": (
        _invoice, "accountant",
        lambda i, u: credit_note_create_issued(invoice=i, by=u, reason="Wrong customer"),
        [("cancel", "issued", "cancelled", "staff", True)]),
}


def _last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("case", list(CASES))
def test_every_transition_leaves_exactly_one_event_with_its_actor(case):
    given, role, when, expected = CASES[case]
    subject = given()
    actor = staff(role) if role else None
    since = _last_event_id()
    when(subject, actor)
    events = list(events_of(subject).filter(pk__gt=since).exclude(before="", after="")
                  .order_by("id"))
    assert [(e.verb, e.before, e.after, e.actor_kind, e.actor_id == getattr(actor, "pk", None)
             and e.actor_id is not None) for e in events] == expected
    if actor is not None:
        assert all(e.actor_name == actor.get_full_name() for e in events)


def test_a_transition_says_what_its_service_was_told():
    shipping, cancelling = _order("confirm", "start_processing"), _order()
    order_transition(order=shipping, action="ship", by=staff("warehouse"), tracking="6A1234")
    order_transition(order=cancelling, action="cancel", by=staff("manager"),
                     reason="Out of stock")
    shipped = events_of(shipping).get(verb="ship")
    cancelled = events_of(cancelling).get(verb="cancel")
    assert shipped.data["tracking"] == "6A1234"
    assert cancelled.message == "Out of stock" and cancelled.importance == Importance.HIGH


def test_a_payment_is_one_event_with_its_amount_and_a_refund_its_own():
    accountant = staff("accountant")
    invoice = _invoice()
    payment = payment_record(invoice=invoice, method="cheque", amount=invoice.gross_total,
                             by=accountant)
    payment_refund(payment=payment, amount="20", reason="Scratched", by=accountant)
    events = list(events_of(invoice).order_by("id").values_list("verb", "data"))
    verbs = [verb for verb, _data in events]
    assert verbs == ["created", "issue", "settle", "credited", "refund"]
    settle = dict(events)["settle"]
    assert (settle["amount"], settle["method"]) == (str(invoice.gross_total), "cheque")
    assert dict(events)["refund"]["amount"] == "20.00"


def test_stock_receipts_and_adjustments_are_on_the_product_with_quantity_and_reason():
    clerk = staff("warehouse")
    bike = goods("BIKE-ST", stock="0")
    stock_receive(product=bike, quantity="12", by=clerk, reason="Supplier delivery")
    stock_adjust(product=bike, counted="10", by=clerk, reason="Inventory count")
    received, adjusted = events_of(bike).filter(verb__startswith="stock_").order_by("id")
    assert (received.verb, received.data["quantity"], received.data["reason"]) == (
        "stock_received", "12", "Supplier delivery")
    assert (adjusted.verb, Decimal(adjusted.data["delta"]), adjusted.actor) == (
        "stock_adjusted", Decimal("-2"), clerk)


def test_customers_and_products_made_or_changed_by_staff_are_events_and_followed():
    seller, manager = staff("sales"), staff("manager")
    customer = customer_create(data={"first_name": "Ada", "last_name": "Byron",
                                     "email": "ada@example.test"}, by=seller)
    customer_update(customer=customer, data={"phone": "0102030405"}, by=seller)
    customer_update(customer=customer, data={"phone": "0102030405"}, by=seller)  # no change
    assert list(events_of(customer).order_by("id").values_list("verb", "data")) == [
        ("created", {}), ("updated", {"fields": ["phone"]})]
    product = product_create(kind="service", data={"sku": "SRV-1", "name": "Fitting",
                                                   "net_price": Decimal("30")}, by=manager)
    products_archive(product_ids=[product.pk], by=manager)
    assert list(events_of(product).order_by("id").values_list("verb", "after")) == [
        ("created", ""), ("archived", "archived")]
    project = project_save(data={"name": "Les Terrasses"}, by=manager)
    quote = draft_quote(seller=seller)
    followed = set(Follow.objects.filter(user__in=[seller, manager]).values_list(
        "user_id", "subject_type_id", "subject_id"))
    assert followed == {
        (seller.pk, content_type_id(customer), customer.pk),
        (seller.pk, content_type_id(quote), quote.pk),
        (manager.pk, content_type_id(product), product.pk),
        (manager.pk, content_type_id(project), project.pk)}


def test_the_staff_member_who_makes_an_invoice_follows_it():
    accountant = staff("accountant")
    invoice = invoice_create_for_order(order=_order(), by=accountant)
    assert Follow.objects.filter(user=accountant, subject_type_id=content_type_id(invoice),
                                 subject_id=invoice.pk).exists()
