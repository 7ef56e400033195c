"""A card payment end to end, against the local Stripe server (tests/support/stripe_server.py),
with no browser: a customer checks out with Card, pays on Stripe's hosted page, and the signed
events Stripe sent reach the platform's webhook endpoint (POST /stripe/webhook/ on the platform
host); the order is confirmed, invoiced and paid, the fee recorded; staff refund part of it from
the dashboard, through Stripe on the shop's connected account, and the credit note follows.
A declined card leaves everything waiting and the customer tries again; a delayed (SEPA) debit
waits until its money settles.

No live server runs here, so the local Stripe server sends its events nowhere and records them;
`Webhook.deliver()` posts each recorded event body, signed with the platform's webhook secret as
Stripe signs it, to the real endpoint through the test client, as Stripe's delivery would.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from billing.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from sales.models import Order, OrderStatus
from tenants.models import Shop
from tests.conftest import host_of, login
from tests.sales.factories import goods, pickup, registered, staff
from tests.support.stripe_server import LocalStripe

pytestmark = pytest.mark.django_db
ACCOUNT = "acct_1CardFlowShop"
FEE_PERCENT = Decimal("1.5")
GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000002"
SEPA_IBAN = "FR1420041010050500013M02606"
DETAILS = {"email": "paul@example.test", "first_name": "Paul", "last_name": "Langevin",
           "billing_line1": "12 rue des Écoles", "billing_postal_code": "75005",
           "billing_city": "Paris", "billing_country": "FR", "shipping_choice": "same"}


class Webhook:
    """Stripe's deliveries to the platform: each event the local server recorded, posted once
    to /stripe/webhook/ on the platform host with a valid Stripe-Signature."""

    def __init__(self, stripe: LocalStripe, shop: Shop):
        self.stripe, self.shop = stripe, shop
        self.client = Client(HTTP_HOST="localhost")  # BASE_DOMAIN: the platform's host
        self.posted: set[str] = set()

    def deliver(self) -> list[tuple[str, int, str]]:
        """(event type, HTTP status, outcome) of every event not delivered yet, oldest first."""
        answers = []
        for sent in self.stripe.deliveries():
            if sent["id"] in self.posted:
                continue
            # Nothing was sent (no URL), so nothing was signed: sign the recorded body now.
            body, header = self.stripe.sign(sent["body"])
            response = self.client.post("/stripe/webhook/", data=body,
                                        content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=header)
            self.posted.add(sent["id"])
            answers.append((sent["type"], response.status_code, response.json().get("outcome")))
        # The platform host's request left the connection on the public schema.
        connection.set_tenant(self.shop)
        return answers


@pytest.fixture
def cards(in_shop, stripe_settings, settings) -> LocalStripe:
    """The platform talks to the local Stripe server and the shop's connected account may take
    charges (the platform keeps 1.5 % of each card payment)."""
    settings.STRIPE_FEE_PERCENT = FEE_PERCENT
    Shop.objects.filter(pk=in_shop.pk).update(stripe_account_id=ACCOUNT,
                                              stripe_charges_enabled=True)
    in_shop.stripe_account_id, in_shop.stripe_charges_enabled = ACCOUNT, True
    yield stripe_settings
    in_shop.stripe_account_id, in_shop.stripe_charges_enabled = None, False


@pytest.fixture
def webhook(cards, in_shop) -> Webhook:
    return Webhook(cards, in_shop)


@pytest.fixture
def customer_client(shop, in_shop) -> Client:
    """Paul, signed in on the shop's storefront."""
    return login(Client(HTTP_HOST=host_of(shop)), shop, registered(DETAILS["email"]).user)


def html(response) -> str:
    return response.content.decode()


def check_out_with_card(client: Client, *, price: str = "100.00") -> tuple[Order, str]:
    """A bike (price excl. VAT, 20 %) into the cart, picked up at the shop, paid by Card:
    returns the order and where placing it sent the customer."""
    bike = goods("BIKE", stock="5", price=price)
    client.post("/cart/add/", {"product": bike.pk, "quantity": "1"})
    details = client.post("/checkout/", {**DETAILS, "shipping_method": pickup().pk,
                                         "payment_method": "card"})
    assert details.status_code == 302, html(details)
    review = html(client.get("/checkout/review/"))
    key = re.search(r'name="checkout_key" value="([^"]+)"', review).group(1)
    total = re.search(r'name="expected_gross_total" value="([^"]+)"', review).group(1)
    placed = client.post("/checkout/place/", {"checkout_key": key,
                                              "expected_gross_total": total})
    assert placed.status_code == 302
    return Order.objects.get(checkout_key=key), placed["Location"]


def to_stripe(client: Client, order: Order, stripe: LocalStripe) -> Payment:
    """The order's payment page sends the customer on to Stripe's hosted page."""
    response = client.get(f"/pay/order/{order.number}/")
    assert response.status_code == 303
    assert response["Location"].startswith(stripe.api_base + "/pay/cs_")
    return Payment.objects.get(checkout_url=response["Location"])


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def paid_order(client: Client, cards: LocalStripe, webhook: Webhook) -> tuple[Order, Payment]:
    order, _next = check_out_with_card(client)
    payment = to_stripe(client, order, cards)
    assert cards.pay(payment.checkout_session_id, GOOD_CARD).paid
    assert webhook.deliver() == [("checkout.session.completed", 200, "order paid")]
    return fresh(order), fresh(payment)


# ---------------------------------------------------------------------------------------------
# Paid by card
# ---------------------------------------------------------------------------------------------
def test_a_card_payment_confirms_the_order_and_issues_its_paid_invoice(
        cards, webhook, customer_client, shop):
    order, next_url = check_out_with_card(customer_client)
    assert next_url == f"/pay/order/{order.number}/"
    assert (order.status, order.payment_method, order.gross_total) == (
        OrderStatus.PENDING, "card", Decimal("120.00"))

    payment = to_stripe(customer_client, order, cards)
    session = cards.session(payment.checkout_session_id)
    assert session["stripe_account"] == ACCOUNT
    assert session["amount_total"] == 12_000
    assert session["payment_intent_data"]["application_fee_amount"] == 180  # 1.5 % of 120.00

    back = cards.pay(payment.checkout_session_id, GOOD_CARD)
    return_url = f"http://{host_of(shop)}/pay/return/{payment.pk}/"
    assert back.paid and back.redirect_url == return_url
    waiting = customer_client.get(f"/pay/return/{payment.pk}/")
    assert "Processing your payment…" in html(waiting), "coming back pays nothing by itself"
    assert fresh(order).status == OrderStatus.PENDING

    assert webhook.deliver() == [("checkout.session.completed", 200, "order paid")]

    order, payment = fresh(order), fresh(payment)
    intent = cards.session(payment.checkout_session_id)["payment_intent"]
    assert order.status == OrderStatus.CONFIRMED
    assert (payment.status, payment.amount, payment.payment_intent_id) == (
        PaymentStatus.SUCCEEDED, Decimal("120.00"), intent)
    assert payment.application_fee == Decimal("1.80")
    at_stripe = cards.payment_intent(intent)
    assert (at_stripe["status"], at_stripe["amount"], at_stripe["application_fee_amount"]) == (
        "succeeded", 12_000, 180)
    invoice = Invoice.objects.get(order=order)
    assert payment.invoice_id == invoice.pk
    assert invoice.kind == DocumentKind.INVOICE and invoice.number.startswith("F-")
    assert (invoice.status, invoice.gross_total, invoice.amount_paid, invoice.balance) == (
        InvoiceStatus.PAID, Decimal("120.00"), Decimal("120.00"), Decimal("0.00"))
    assert WebhookEvent.objects.get().outcome == "order paid"

    page = html(customer_client.get(f"/pay/return/{payment.pk}/"))
    assert "Paid — thank you" in page and order.number in page
    assert f'href="/account/invoices/{invoice.pk}/"' in page
    assert "hx-trigger" not in page


def test_a_replayed_completed_event_changes_nothing(cards, webhook, customer_client):
    order, payment = paid_order(customer_client, cards, webhook)
    [completed] = cards.deliveries("checkout.session.completed")

    body, header = cards.sign(completed["body"])
    again = webhook.client.post("/stripe/webhook/", data=body, content_type="application/json",
                                HTTP_STRIPE_SIGNATURE=header)
    connection.set_tenant(webhook.shop)

    assert (again.status_code, again.json()["outcome"]) == (200, "already handled")
    assert Invoice.objects.filter(order=order).count() == 1
    assert fresh(Invoice.objects.get(order=order)).amount_paid == Decimal("120.00")


# ---------------------------------------------------------------------------------------------
# Refunded from the dashboard
# ---------------------------------------------------------------------------------------------
def test_staff_refund_part_of_it_through_stripe_and_a_credit_note_follows(
        cards, webhook, customer_client, shop):
    order, payment = paid_order(customer_client, cards, webhook)
    invoice = Invoice.objects.get(order=order)
    accountant = login(Client(HTTP_HOST=host_of(shop)), shop, staff("accountant"))
    page_url = f"/dashboard/billing/invoices/{invoice.pk}/"
    refund_url = f"{page_url}payments/{payment.pk}/refund/"
    assert refund_url in html(accountant.get(page_url))

    response = accountant.post(refund_url, {f"refund-{payment.pk}-amount": "50.00",
                                            f"refund-{payment.pk}-reason": "Scratched frame"})

    assert response.status_code == 302 and response["Location"] == page_url
    refund = Refund.objects.select_related("credit_note").get(payment=payment)
    assert refund.amount == Decimal("50.00") and refund.stripe_refund_id.startswith("re_")
    # The refund was made at Stripe, on the shop's connected account, for 50.00 of the charge.
    [refunded] = cards.events("charge.refunded")
    charge = refunded["data"]["object"]
    assert refunded["account"] == ACCOUNT
    assert (charge["payment_intent"], charge["amount"], charge["amount_refunded"]) == (
        payment.payment_intent_id, 12_000, 5_000)
    assert [(r["id"], r["amount"]) for r in charge["refunds"]["data"]] == [
        (refund.stripe_refund_id, 5_000)]

    assert webhook.deliver() == [("charge.refunded", 200, "nothing new")]

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.succeeded_at is not None
    note = refund.credit_note
    assert (note.kind, note.status, note.credited_invoice_id) == (
        DocumentKind.CREDIT_NOTE, InvoiceStatus.ISSUED, invoice.pk)
    assert note.gross_total == Decimal("50.00") and note.number
    assert note.reason == "Scratched frame"
    assert list(Invoice.objects.filter(credited_invoice=invoice)) == [note], "one credit note"
    invoice = fresh(invoice)
    assert (invoice.gross_total, invoice.amount_paid, invoice.amount_credited,
            invoice.balance, invoice.status) == (
        Decimal("120.00"), Decimal("70.00"), Decimal("50.00"), Decimal("0.00"),
        InvoiceStatus.PAID)
    payment = fresh(payment)
    assert (payment.amount_refunded, payment.refundable) == (Decimal("50.00"), Decimal("70.00"))
    page = html(accountant.get(page_url))
    assert "Scratched frame" in page and f'href="/dashboard/billing/invoices/{note.pk}/"' in page


# ---------------------------------------------------------------------------------------------
# A declined card, then another try
# ---------------------------------------------------------------------------------------------
def test_a_declined_card_leaves_the_order_waiting_and_the_customer_tries_again(
        cards, webhook, customer_client):
    order, _next = check_out_with_card(customer_client)
    payment = to_stripe(customer_client, order, cards)

    declined = cards.pay(payment.checkout_session_id, DECLINED_CARD)

    assert (declined.paid, declined.status, declined.error) == (
        False, 402, "Your card was declined.")
    assert webhook.deliver() == []  # Stripe sends nothing: the page stays open
    assert fresh(order).status == OrderStatus.PENDING
    assert fresh(payment).status == PaymentStatus.PENDING
    assert not Invoice.objects.filter(order=order).exists()

    # Back in the shop without paying: "Try the card again" leads to the same Stripe page.
    cancelled = html(customer_client.get(f"/pay/cancelled/{payment.pk}/"))
    assert "You have not paid" in cancelled
    assert f'href="/pay/order/{order.number}/"' in cancelled
    assert to_stripe(customer_client, order, cards) == payment
    assert cards.pay(payment.checkout_session_id, GOOD_CARD).paid
    assert webhook.deliver() == [("checkout.session.completed", 200, "order paid")]

    assert fresh(order).status == OrderStatus.CONFIRMED
    assert fresh(payment).status == PaymentStatus.SUCCEEDED
    assert Invoice.objects.get(order=order).status == InvoiceStatus.PAID


# ---------------------------------------------------------------------------------------------
# A delayed (SEPA) debit
# ---------------------------------------------------------------------------------------------
def test_a_delayed_debit_waits_until_its_money_settles(cards, webhook, customer_client):
    order, _next = check_out_with_card(customer_client)
    payment = to_stripe(customer_client, order, cards)

    assert cards.pay(payment.checkout_session_id, iban=SEPA_IBAN).paid
    assert webhook.deliver() == [
        ("checkout.session.completed", 200, "awaiting the asynchronous payment")]

    payment = fresh(payment)
    assert payment.status == PaymentStatus.PENDING and payment.payment_intent_id.startswith("pi_")
    assert fresh(order).status == OrderStatus.PENDING
    assert not Invoice.objects.filter(order=order).exists()
    assert "Processing your payment…" in html(customer_client.get(f"/pay/return/{payment.pk}/"))

    assert cards.settle(payment.checkout_session_id) == "succeeded"
    assert webhook.deliver() == [
        ("checkout.session.async_payment_succeeded", 200, "order paid")]

    assert fresh(payment).status == PaymentStatus.SUCCEEDED
    assert fresh(order).status == OrderStatus.CONFIRMED
    assert Invoice.objects.get(order=order).status == InvoiceStatus.PAID
    assert "Paid — thank you" in html(customer_client.get(f"/pay/return/{payment.pk}/"))
