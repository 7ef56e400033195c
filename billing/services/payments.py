"""Payments: money staff received (transfer, cheque, cash; partial allowed, over-payment
refused), card payments through Stripe Checkout on the merchant's connected account (pending
until the webhook confirms), and refunds (through Stripe for card payments) documented by a
credit note.

Money is never lost, counted twice or left unexplained: an invoice's `amount_paid` only moves
in the transaction that records the payment or the refund, under the invoice's row lock, and
the database refuses an invoice paid beyond what it is worth.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway as gateway
from billing.errors import BillingError, PaymentProviderError
from billing.models import (
    MANUAL_METHODS,
    PAYABLE,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from billing.services.invoices import (
    billing_settings,
    credit_amount_lines,
    credit_note_create,
    invoice_create_for_order,
    invoice_issue,
    shop_language,
)
from catalog.pricing import Line, currency_symbol, quantize, totals
from sales.models import Order, OrderStatus
from sales.services.orders import order_confirm
from streams.events import acting, record
from tenants.models import Shop

if TYPE_CHECKING:
    from tenants.accounts.models import User

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
CENTS = Decimal("100")


def _amount(value, *, field: str = "amount") -> Decimal:
    try:
        amount = quantize(Decimal(str(value).replace(",", ".").replace(" ", "")))
    except (ArithmeticError, ValueError) as exc:
        raise BillingError(_("Enter an amount, e.g. 120.50."), field=field) from exc
    if not amount.is_finite() or amount <= 0:
        raise BillingError(_("Enter an amount above zero."), field=field)
    return amount


def _money(amount: Decimal, currency: str) -> str:
    """1 234,56 € in French, 1,234.56 € in English: amounts in messages people read."""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{currency_symbol(currency)}"


def _shop() -> Shop:
    shop = connection.tenant
    if not isinstance(shop, Shop):
        shop = Shop.objects.get(schema_name=connection.schema_name)
    return shop


def _apply_to_invoice(invoice: Invoice, amount: Decimal, *, by: User | None, data: dict,
                      customer: bool = False) -> None:
    """Record money received on a locked invoice and let its state follow its balance: that
    transition (`settle`) is the payment's one event, its amount and method in its data."""
    invoice.amount_paid += amount
    with acting(by, customer=customer,
                data={**data, "amount": str(amount), "currency": invoice.currency}):
        invoice.settle(today=timezone.localdate())
    invoice.save()


# ---------------------------------------------------------------------------------------------
# Money received by staff
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def payment_record(*, invoice: Invoice, method: str, amount, by: User | None,
                   received_on: date | None = None, reference: str = "",
                   note: str = "") -> Payment:
    """A transfer, cheque or cash payment on an issued invoice. Partial payments are fine; a
    payment above what is still owed is refused and nothing is recorded."""
    if method not in MANUAL_METHODS:
        raise BillingError(_("Record a bank transfer, a cheque or cash here; card payments "
                             "arrive from Stripe."), field="method")
    amount = _amount(amount)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_credit_note or invoice.status not in PAYABLE:
        raise BillingError(_("%(invoice)s is %(state)s: it is not waiting for a payment.")
                           % {"invoice": invoice.reference,
                              "state": invoice.get_status_display().lower()})
    if amount > invoice.balance:
        raise BillingError(_("%(amount)s is more than what is still owed on %(invoice)s "
                             "(%(balance)s): nothing was recorded.") % {
            "amount": _money(amount, invoice.currency), "invoice": invoice.reference,
            "balance": _money(invoice.balance, invoice.currency)},
            field="amount")
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise BillingError(_("A payment cannot be received in the future."),
                           field="received_on")
    payment = Payment(invoice=invoice, order=invoice.order, customer=invoice.customer,
                      method=method, amount=amount, currency=invoice.currency,
                      received_on=received_on, reference=reference.strip()[:100],
                      note=note.strip(), created_by=by if by is not None and by.pk else None)
    payment.succeed()
    payment.save()
    _apply_to_invoice(invoice, amount, by=by, data={"method": method, "payment": payment.pk})
    return payment


# ---------------------------------------------------------------------------------------------
# Card payments (Stripe Checkout on the merchant's account)
# ---------------------------------------------------------------------------------------------
def cards_available(shop: Shop | None = None) -> bool:
    shop = shop or _shop()
    return bool(gateway.is_configured() and shop.stripe_account_id and shop.stripe_charges_enabled)


def _fee_cents(amount_cents: int) -> int:
    percent = Decimal(str(settings.STRIPE_FEE_PERCENT or "0"))
    return int((Decimal(amount_cents) * percent / CENTS).to_integral_value())


def _cents(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value())


@transaction.atomic
def card_checkout_start(*, base_url: str, success_path: str, cancel_path: str,
                        order: Order | None = None, invoice: Invoice | None = None,
                        by: User | None = None) -> Payment:
    """A pending card payment and its hosted Stripe Checkout page, for an order waiting for
    its payment or what is left to pay on an invoice. The customer is sent to `checkout_url`;
    the webhook, not the redirect back, records the money."""
    shop = _shop()
    if not cards_available(shop):
        raise BillingError(_("Card payments are not available: the shop has not connected "
                             "Stripe yet."))
    if (order is None) == (invoice is None):
        raise ValueError("pay one order or one invoice")
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.is_credit_note or invoice.status not in PAYABLE or invoice.balance <= 0:
            raise BillingError(_("%(invoice)s has nothing left to pay.")
                               % {"invoice": invoice.reference})
        amount, currency, customer = invoice.balance, invoice.currency, invoice.customer
        label = _("Invoice %(number)s") % {"number": invoice.number}
        email, target = customer.email, f"invoice-{invoice.pk}"
    else:
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.PENDING or order.payments.filter(
                status=PaymentStatus.SUCCEEDED).exists():
            raise BillingError(_("Order %(number)s is not waiting for a payment.")
                               % {"number": order.number})
        amount, currency, customer = order.gross_total, order.currency, order.customer
        label = _("Order %(number)s") % {"number": order.number}
        email, target = order.email, f"order-{order.pk}"
    payment = Payment.objects.create(
        invoice=invoice, order=order if order is not None else invoice.order, customer=customer,
        method=PaymentMethod.CARD, amount=amount, currency=currency,
        stripe_account=shop.stripe_account_id, created_by=by if by is not None and by.pk else None)
    cents = _cents(amount)
    metadata = {"shop": shop.schema_name, "payment": str(payment.pk), "target": target}
    try:
        session = gateway.checkout_session_create(
            account=shop.stripe_account_id, amount_cents=cents, currency=currency.lower(),
            description=f"{shop.name} — {label}", customer_email=email,
            success_url=f"{base_url}{success_path}".replace("{payment}", str(payment.pk)),
            cancel_url=f"{base_url}{cancel_path}".replace("{payment}", str(payment.pk)),
            metadata=metadata, application_fee_cents=_fee_cents(cents),
            idempotency_key=f"checkout-{shop.schema_name}-{payment.pk}")
    except gateway.GatewayError as exc:
        raise PaymentProviderError(_("The card payment could not start. %(reason)s")
                                   % {"reason": exc.message}) from exc
    payment.checkout_session_id = session.id
    payment.checkout_url = session.url
    payment.application_fee = Decimal(_fee_cents(cents)) / CENTS
    payment.save(update_fields=["checkout_session_id", "checkout_url", "application_fee"])
    return payment


def _invoice_paid_order(payment: Payment) -> None:
    """A card-paid order gets its invoice at once (setting `invoice_paid_orders`), issued and
    paid by this payment. If the shop's legal identity is incomplete the order stays paid
    without an invoice, and staff see why in its history."""
    if payment.invoice_id or not billing_settings().invoice_paid_orders:
        return
    try:
        with transaction.atomic():
            invoice = invoice_create_for_order(order=payment.order, by=None)
            invoice = invoice_issue(invoice=invoice, by=None)
            amount = min(payment.amount, invoice.balance)
            payment.invoice = invoice
            payment.save(update_fields=["invoice"])
            _apply_to_invoice(invoice, amount, by=None, customer=True,
                              data={"method": payment.method, "payment": payment.pk})
    except BillingError as exc:
        record(subject=payment.order, verb="invoice_not_issued", actor=None,
               message=exc.message)


def card_payment_succeeded(*, session_id: str, payment_intent: str | None) -> str:
    """The webhook says the money arrived. Idempotent: a payment already succeeded is left
    alone. Paying an order confirms it (and invoices it); paying an invoice settles it."""
    payment = (Payment.objects.select_for_update().filter(checkout_session_id=session_id)
               .first())
    if payment is None:
        return "unknown checkout session"
    if payment_intent and not payment.payment_intent_id:
        payment.payment_intent_id = payment_intent
    if payment.status == PaymentStatus.SUCCEEDED:
        payment.save(update_fields=["payment_intent_id"])
        return "already succeeded"
    if payment.status == PaymentStatus.FAILED:
        # A success reported after a failure (events out of order): the money is there.
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PENDING)
        payment.refresh_from_db()
        payment.payment_intent_id = payment.payment_intent_id or (payment_intent or "")
    payment.succeed()
    payment.save()
    if payment.invoice_id:
        invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
        amount = min(payment.amount, invoice.balance)
        if amount > 0:
            _apply_to_invoice(invoice, amount, by=None, customer=True,
                              data={"method": payment.method, "payment": payment.pk})
        if amount < payment.amount:
            record(subject=invoice, verb="overpaid", actor=None,
                   message=_("%(extra)s more than was owed arrived by card: refund it.")
                   % {"extra": _money(payment.amount - amount, payment.currency)})
        return "invoice paid"
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    record(subject=order, verb="payment", actor=None, customer=True,
           data={"amount": str(payment.amount), "currency": payment.currency,
                 "method": payment.method, "payment": payment.pk})
    if order.status == OrderStatus.PENDING:
        order_confirm(order=order, by=None)
    elif order.status == OrderStatus.CANCELLED:
        record(subject=order, verb="paid_after_cancel", actor=None,
               message=_("A card payment arrived after the order was cancelled: refund it."))
        return "order cancelled: refund needed"
    _invoice_paid_order(payment)
    return "order paid"


def card_payment_failed(*, session_id: str, message: str) -> str:
    payment = (Payment.objects.select_for_update().filter(checkout_session_id=session_id)
               .first())
    if payment is None:
        return "unknown checkout session"
    if payment.status != PaymentStatus.PENDING:
        return f"already {payment.status}"  # a failure never undoes a success
    payment.fail(message=message[:500])
    payment.save()
    return "payment failed"


def card_payment_intent_failed(*, payment_intent: str, message: str) -> str:
    payment = (Payment.objects.select_for_update().filter(payment_intent_id=payment_intent)
               .first())
    if payment is None:
        return "unknown payment intent"
    return card_payment_failed(session_id=payment.checkout_session_id, message=message)


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------
def _exact_credit_lines(invoice: Invoice, amount: Decimal, label: str):
    """Credit lines worth exactly `amount` incl. VAT (per-line rounding may miss by a cent:
    the last line's net is nudged until the totals match)."""
    lines = credit_amount_lines(invoice=invoice, amount=amount, label=label)
    for _attempt in range(5):
        gross = totals([Line(unit_net=li.unit_net, quantity=li.quantity,
                             rate_percent=li.tax_rate) for li in lines]).gross
        if gross == amount:
            return lines
        last = lines[-1]
        step = Decimal("0.01") if gross < amount else Decimal("-0.01")
        lines[-1] = type(last)(name=last.name, quantity=last.quantity,
                               unit_net=last.unit_net + step, tax_rate=last.tax_rate)
    return lines


@transaction.atomic
def payment_refund(*, payment: Payment, amount, reason: str, by: User | None,
                   made_at_stripe: str | None = None) -> Refund:
    """Give money back on a payment (full or partial): through Stripe for a card payment
    (idempotent), recorded for money returned by hand. The invoice it paid gets a credit note
    for the amount, issued at once. `made_at_stripe`: the id of a refund already made in the
    Stripe dashboard, recorded here without calling Stripe again."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_("Say why the money is refunded (printed on the credit note)."),
                           field="reason")
    amount = _amount(amount)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if amount > payment.refundable:
        raise BillingError(_("At most %(left)s can be refunded on this payment.")
                           % {"left": _money(payment.refundable, payment.currency)},
                           field="amount")
    refund = Refund.objects.create(payment=payment, amount=amount, reason=reason,
                                   created_by=by if by is not None and by.pk else None)
    payment.amount_refunded += amount
    payment.save(update_fields=["amount_refunded"])
    if payment.invoice_id:
        invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
        invoice.amount_paid -= amount
        invoice.save(update_fields=["amount_paid", "updated_at"])
        note = credit_note_create(invoice=invoice, by=by, reason=reason,
                                  lines=_exact_credit_lines(invoice, amount, reason[:150]))
        note = invoice_issue(invoice=note, by=by, check_role=False)
        refund.credit_note = note
        record(subject=invoice, verb="refund", actor=by, message=reason,
               data={"amount": str(amount), "currency": payment.currency,
                     "credit_note": note.number, "method": payment.method})
    if payment.order_id and payment.method == PaymentMethod.CARD:
        # A card payment made for an order: its refund is on the order's timeline too.
        record(subject=payment.order, verb="refund", actor=by, message=reason,
               data={"amount": str(amount), "currency": payment.currency,
                     "method": payment.method})
    if made_at_stripe:
        refund.stripe_refund_id = made_at_stripe
        refund.status = RefundStatus.SUCCEEDED
    elif payment.method == PaymentMethod.CARD:
        try:
            result = gateway.refund_create(
                account=payment.stripe_account, payment_intent=payment.payment_intent_id,
                amount_cents=_cents(amount), metadata={"refund": str(refund.pk)},
                idempotency_key=f"refund-{connection.schema_name}-{refund.pk}")
        except gateway.GatewayError as exc:
            raise PaymentProviderError(_("Stripe refused the refund, so nothing was refunded. "
                                         "%(reason)s") % {"reason": exc.message}) from exc
        refund.stripe_refund_id = result.id
        refund.status = (RefundStatus.SUCCEEDED if result.status == "succeeded"
                         else RefundStatus.FAILED if result.status == "failed"
                         else RefundStatus.PENDING)
    else:
        refund.status = RefundStatus.SUCCEEDED
    if refund.status == RefundStatus.SUCCEEDED:
        refund.succeeded_at = timezone.now()
    refund.save()
    return refund


def card_refund_confirmed(*, payment_intent: str, refunds: list[dict]) -> str:
    """`charge.refunded`: refunds Stripe confirms. Ours become succeeded; one made from the
    Stripe dashboard (unknown here) is recorded with its credit note, so the books agree."""
    payment = (Payment.objects.select_for_update().filter(payment_intent_id=payment_intent)
               .first())
    if payment is None:
        return "unknown payment intent"
    outcomes = []
    for data in refunds:
        refund_id, status = data.get("id"), data.get("status", "succeeded")
        amount = Decimal(int(data.get("amount", 0))) / CENTS
        refund = Refund.objects.select_for_update().filter(stripe_refund_id=refund_id).first()
        if refund is None:
            refund = Refund.objects.filter(payment=payment, stripe_refund_id__isnull=True,
                                           amount=amount).first()
        if refund is None:
            if status != "succeeded" or amount <= 0 or amount > payment.refundable:
                continue
            with shop_language():  # printed on the credit note
                reason = _("Refunded from the Stripe dashboard")
            made = payment_refund(payment=payment, amount=amount, by=None, reason=reason,
                                  made_at_stripe=refund_id)
            outcomes.append(f"recorded {made.amount}")
            continue
        if refund.status != RefundStatus.SUCCEEDED and status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
            refund.succeeded_at = timezone.now()
            refund.stripe_refund_id = refund.stripe_refund_id or refund_id
            refund.save()
            outcomes.append(f"confirmed {refund.amount}")
    return ", ".join(outcomes) or "nothing new"
