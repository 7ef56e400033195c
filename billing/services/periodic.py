"""Billing's periodic work in one shop: invoices past their due date become overdue, overdue
invoices get reminders on the days the shop chose, card orders left unpaid are cancelled (their
stock goes back), and a cancelled order's card payments are refunded."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from billing.services.invoices import billing_settings, shop_language
from billing.services.payments import payment_refund
from sales.emails import deliver
from sales.errors import SalesError
from sales.models import Order, OrderStatus
from sales.services.orders import order_cancel
from streams.events import record

logger = logging.getLogger(__name__)


def invoices_mark_overdue(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    count = 0
    ids = list(Invoice.objects.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        due_date__lt=today).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if invoice is None or invoice.status not in (InvoiceStatus.ISSUED,
                                                         InvoiceStatus.PARTIALLY_PAID):
                continue
            invoice.mark_overdue()  # streams records the transition (automatic)
            invoice.save()
            count += 1
    return count


def invoices_send_reminders(*, today: date | None = None, base_url: str = "") -> int:
    """One reminder per scheduled day after the due date (e.g. 7, 15, 30), never two for the
    same step, sent after the step is recorded."""
    today = today or timezone.localdate()
    schedule = billing_settings().reminder_schedule
    if not schedule:
        return 0
    sent = 0
    for invoice in Invoice.objects.filter(status=InvoiceStatus.OVERDUE).select_related("customer"):
        late = (today - invoice.due_date).days
        due_steps = sum(1 for day in schedule if day <= late)
        if due_steps <= invoice.reminders_sent:
            continue
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if locked.reminders_sent >= due_steps:
                continue
            locked.reminders_sent = due_steps
            locked.last_reminder_at = timezone.now()
            locked.save(update_fields=["reminders_sent", "last_reminder_at", "updated_at"])
            record(subject=locked, verb="reminder", actor=None, data={"days_late": late})
            context = {"invoice": locked, "days_late": late, "base_url": base_url}
            to = [invoice.customer.email]
            transaction.on_commit(lambda c=context, t=to: deliver("billing/email/invoice_reminder", to=t,
                                                                  context=c), robust=True)
        sent += 1
    return sent


def orders_cancel_unpaid(*, now=None) -> int:
    """Card orders whose payment never arrived within the shop's delay are cancelled: their
    stock is released for other buyers."""
    now = now or timezone.now()
    limit = now - timedelta(hours=billing_settings().unpaid_checkout_hours)
    stale = list(Order.objects.filter(status=OrderStatus.PENDING, payment_method=PaymentMethod.CARD,
                                      placed_at__lt=limit)
                 .exclude(payments__status=PaymentStatus.SUCCEEDED)
                 .values_list("pk", flat=True))
    cancelled = 0
    with shop_language():  # the customer reads it on their order
        reason = _("Not paid within %(hours)d hours.") % {
            "hours": billing_settings().unpaid_checkout_hours}
    for pk in stale:
        try:
            order_cancel(order=Order(pk=pk), by=None, reason=reason)
        except SalesError as exc:  # paid or changed meanwhile
            logger.info("unpaid order %s kept: %s", pk, exc.message)
            continue
        cancelled += 1
    return cancelled


def order_refund_after_cancel(*, order_id: int) -> int:
    """Refund what was paid by card on a cancelled order; money paid by hand is left to staff
    (said in the order's history)."""
    order = Order.objects.filter(pk=order_id, status=OrderStatus.CANCELLED).first()
    if order is None:
        return 0
    refunded = 0
    for payment in Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED):
        if payment.refundable <= 0:
            continue
        if payment.method != PaymentMethod.CARD:
            record(subject=order, verb="refund_by_hand", actor=None,
                   message=_("%(amount)s received by %(method)s: give it back and "
                             "record the refund.") % {"amount": payment.refundable,
                                                      "method": payment.get_method_display()})
            continue
        try:
            with shop_language():  # printed on the credit note
                reason = order.cancel_reason or _("Order cancelled")
            payment_refund(payment=payment, amount=payment.refundable, by=None, reason=reason)
        except BillingError as exc:
            record(subject=order, verb="refund_failed", actor=None, message=exc.message)
            logger.warning("refund of payment %s in %s failed: %s", payment.pk,
                           connection.schema_name, exc.message)
            continue
        refunded += 1
    return refunded
