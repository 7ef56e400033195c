"""Stripe webhook events: each one is applied in its shop's schema, in one transaction with the
row that records its id, so a replay finds the row and does nothing, and a failure leaves
neither. Handlers only move things forward (a failure never undoes a success), so events in
any order reach the same end state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from billing.models import Payment, WebhookEvent
from billing.services.payments import (
    card_payment_failed,
    card_payment_intent_failed,
    card_payment_succeeded,
    card_refund_confirmed,
)
from tenants.models import Shop

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """The event is about a payment this shop has not heard of yet (events out of order):
    answer an error so that Stripe delivers it again later, and record nothing."""


def _object(event: dict) -> dict:
    return (event.get("data") or {}).get("object") or {}


def _session_completed(event: dict) -> str:
    session = _object(event)
    if session.get("payment_status") == "paid":
        return card_payment_succeeded(session_id=session.get("id", ""),
                                      payment_intent=session.get("payment_intent"))
    # An asynchronous method (e.g. SEPA debit): the money is announced by another event.
    payment = Payment.objects.select_for_update().filter(
        checkout_session_id=session.get("id", "")).first()
    if payment is None:
        return "unknown checkout session"
    if session.get("payment_intent") and not payment.payment_intent_id:
        payment.payment_intent_id = session["payment_intent"]
        payment.save(update_fields=["payment_intent_id"])
    return "awaiting the asynchronous payment"


def _async_succeeded(event: dict) -> str:
    session = _object(event)
    return card_payment_succeeded(session_id=session.get("id", ""),
                                  payment_intent=session.get("payment_intent"))


def _async_failed(event: dict) -> str:
    session = _object(event)
    return card_payment_failed(session_id=session.get("id", ""),
                               message="The payment failed after checkout.")


def _intent_failed(event: dict) -> str:
    intent = _object(event)
    error = intent.get("last_payment_error") or {}
    return card_payment_intent_failed(payment_intent=intent.get("id", ""),
                                      message=error.get("message") or "The payment failed.")


def _charge_refunded(event: dict) -> str:
    charge = _object(event)
    intent = charge.get("payment_intent") or ""
    if not Payment.objects.filter(payment_intent_id=intent).exists():
        ours = (charge.get("metadata") or {}).get("payment")
        payment = Payment.objects.filter(pk=ours).first() if str(ours or "").isdigit() else None
        if payment is None or not payment.checkout_session_id:
            return "unknown payment intent"
        if not payment.payment_intent_id:
            raise RetryLater(f"refund before the payment of {payment.checkout_session_id}")
    refunds = (charge.get("refunds") or {}).get("data") or []
    return card_refund_confirmed(payment_intent=intent, refunds=refunds)


HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}


@transaction.atomic
def webhook_apply(*, event: dict) -> str:
    """Apply one verified event in the current shop's schema (once)."""
    created = event.get("created")
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event["id"], type=event.get("type", "")[:100],
                account=(event.get("account") or "")[:64],
                created=datetime.fromtimestamp(created, tz=UTC) if created else None)
    except IntegrityError:
        return "already handled"
    handler = HANDLERS.get(event.get("type", ""))
    outcome = handler(event) if handler else "ignored"
    record.outcome = outcome[:200]
    record.save(update_fields=["outcome"])
    return outcome


def webhook_receive(*, event: dict) -> str:
    """Route a verified event to its shop by the connected account it names. Events for an
    account no shop has (or for the platform itself) are acknowledged and logged."""
    account = event.get("account") or ""
    shop = Shop.objects.filter(stripe_account_id=account).first() if account else None
    if shop is None:
        logger.warning("stripe event %s (%s) for unknown account %r: acknowledged, ignored",
                       event.get("id"), event.get("type"), account)
        return "unknown account"
    with schema_context(shop.schema_name):
        outcome = webhook_apply(event=event)
    logger.info("stripe event %s (%s) for %s: %s", event.get("id"), event.get("type"),
                shop.schema_name, outcome)
    return outcome
