"""The Stripe webhook endpoint (platform host): signature checked with the SDK (forged or stale
-> 400, nothing changes), each event applied once (replays -> 200, no second effect), events in
any order reach the same end state, events for unknown accounts acknowledged and logged."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from itertools import count

import pytest
import stripe
from django.db import connection

from billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus, Refund, WebhookEvent
from sales.models import Order, OrderStatus
from tenants.models import Shop
from tests.conftest import in_schema
from tests.sales.factories import goods, place_order

SECRET = "whsec_test_secret"
ACCOUNT = "acct_1TestShop"
_ids = count(1)


@pytest.fixture
def hook(settings, platform_client):
    settings.STRIPE_WEBHOOK_SECRET = SECRET

    def post(event: dict, *, secret: str = SECRET, timestamp: int | None = None,
             signature: str | None = None):
        body = json.dumps(event)
        header = signature or stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp)
        return platform_client.post("/stripe/webhook/", data=body,
                                    content_type="application/json",
                                    HTTP_STRIPE_SIGNATURE=header)

    return post


@pytest.fixture
def card_order(in_shop):
    """A pending order waiting for its card payment (the Checkout Session was created)."""
    Shop.objects.filter(pk=in_shop.pk).update(stripe_account_id=ACCOUNT,
                                              stripe_charges_enabled=True)
    order = place_order((goods("BIKE", price="100.00", stock="5"), 1), payment_method="card")
    payment = Payment.objects.create(order=order, customer=order.customer, method="card",
                                     amount=order.gross_total, stripe_account=ACCOUNT,
                                     checkout_session_id="cs_test_123")
    connection.set_schema_to_public()
    yield order, payment
    connection.set_schema_to_public()


def event(kind: str, obj: dict, *, account: str = ACCOUNT) -> dict:
    return {"id": f"evt_test_{next(_ids)}", "object": "event", "type": kind, "account": account,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def completed(payment_status: str = "paid") -> dict:
    return event("checkout.session.completed", {
        "id": "cs_test_123", "object": "checkout.session", "payment_status": payment_status,
        "status": "complete", "payment_intent": "pi_test_123"})


def state(shop, order, payment) -> tuple:
    with in_schema(shop):
        order = Order.objects.get(pk=order.pk)
        payment = Payment.objects.get(pk=payment.pk)
        invoices = list(Invoice.objects.filter(order=order).values_list("status", "amount_paid"))
        return order.status, payment.status, invoices, Refund.objects.count()


def test_a_paid_checkout_confirms_the_order_and_invoices_it_once_whatever_the_replays(
        hook, card_order, shop):
    order, payment = card_order
    paid = completed()
    first = hook(paid)
    assert first.status_code == 200 and first.json()["outcome"] == "order paid"
    for _ in range(5):
        again = hook(paid)
        assert again.status_code == 200 and again.json()["outcome"] == "already handled"
    assert state(shop, order, payment) == (
        OrderStatus.CONFIRMED, PaymentStatus.SUCCEEDED,
        [(InvoiceStatus.PAID, order.gross_total)], 0)
    with in_schema(shop):
        assert WebhookEvent.objects.filter(event_id=paid["id"]).count() == 1


@pytest.mark.parametrize("trouble", ["forged", "other secret", "stale", "missing", "not json"])
def test_unsigned_forged_or_stale_events_are_refused_and_change_nothing(
        hook, card_order, shop, platform_client, trouble):
    order, payment = card_order
    paid = completed()
    if trouble == "forged":
        response = hook(paid, signature=f"t={int(time.time())},v1={'0' * 64}")
    elif trouble == "other secret":
        response = hook(paid, secret="whsec_someone_else")
    elif trouble == "stale":
        response = hook(paid, timestamp=int(time.time()) - 3600)
    elif trouble == "missing":
        response = platform_client.post("/stripe/webhook/", data=json.dumps(paid),
                                        content_type="application/json")
    else:
        header = stripe.WebhookSignature.generate_signature_header("not json", SECRET)
        response = platform_client.post("/stripe/webhook/", data="not json",
                                        content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert state(shop, order, payment) == (OrderStatus.PENDING, PaymentStatus.PENDING, [], 0)


def test_an_asynchronous_payment_reaches_the_same_end_in_either_order(hook, card_order, shop):
    order, payment = card_order
    succeeded = event("checkout.session.async_payment_succeeded", {
        "id": "cs_test_123", "object": "checkout.session", "payment_status": "paid",
        "payment_intent": "pi_test_123"})
    assert hook(succeeded).json()["outcome"] == "order paid"
    assert hook(completed("unpaid")).status_code == 200  # arrives late: changes nothing
    end = state(shop, order, payment)
    assert end[:2] == (OrderStatus.CONFIRMED, PaymentStatus.SUCCEEDED)
    failed = event("checkout.session.async_payment_failed", {
        "id": "cs_test_123", "object": "checkout.session", "payment_status": "unpaid"})
    assert hook(failed).json()["outcome"] == "already succeeded"
    assert state(shop, order, payment) == end, "a late failure never undoes a success"


def test_a_refund_reported_before_its_payment_is_retried_until_it_fits(hook, card_order, shop):
    order, payment = card_order
    refunded = event("charge.refunded", {
        "id": "ch_test_1", "object": "charge", "payment_intent": "pi_test_123",
        "metadata": {"payment": str(payment.pk)},
        "refunds": {"data": [{"id": "re_test_1", "amount": 1000, "status": "succeeded"}]}})
    early = hook(refunded)
    assert early.status_code == 503, "Stripe delivers it again later"
    assert hook(completed()).status_code == 200
    late = hook(refunded)
    assert late.status_code == 200 and "recorded 10.00" in late.json()["outcome"]
    with in_schema(shop):
        refund = Refund.objects.get()
        assert (refund.amount, refund.stripe_refund_id) == (Decimal("10.00"), "re_test_1")
        assert refund.credit_note.gross_total == Decimal("10.00")
    assert hook(refunded).json()["outcome"] == "already handled"


def test_a_failed_card_payment_leaves_the_order_waiting(hook, card_order, shop):
    order, payment = card_order
    hook(completed("unpaid"))
    failed = event("payment_intent.payment_failed", {
        "id": "pi_test_123", "object": "payment_intent",
        "last_payment_error": {"message": "Your card was declined."}})
    assert hook(failed).json()["outcome"] == "payment failed"
    with in_schema(shop):
        payment.refresh_from_db()
        assert payment.failure_message == "Your card was declined."
    assert state(shop, order, payment)[:2] == (OrderStatus.PENDING, PaymentStatus.FAILED)


def test_events_for_an_unknown_account_are_acknowledged_and_logged(hook, card_order, shop, caplog):
    order, payment = card_order
    stranger = completed()
    stranger["account"] = "acct_nobody"
    response = hook(stranger)
    assert response.status_code == 200 and response.json()["outcome"] == "unknown account"
    assert "acct_nobody" in caplog.text
    assert state(shop, order, payment)[:2] == (OrderStatus.PENDING, PaymentStatus.PENDING)
