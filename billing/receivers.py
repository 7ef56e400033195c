"""Billing's reactions to other apps' state changes, connected once in BillingConfig.ready():
a cancelled order gets what was paid by card back (after the cancellation commits); a
completed milestone of an order bills its share of the order (in the completing transaction).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm.signals import post_transition

from billing.errors import BillingError
from billing.services.invoices import invoice_create_for_order, invoice_issue
from billing.tasks import refund_cancelled_order_send
from sales.models import Order, OrderStatus
from streams.errors import MilestoneBillingRefused
from streams.events import record
from streams.models import Milestone
from streams.signals import milestone_completed
from streams.subjects import content_type_id


def _order_transition(sender, instance, name, source, target, **kwargs) -> None:
    if target == OrderStatus.CANCELLED:
        refund_cancelled_order_send(instance.pk)


def _milestone_completed(sender, milestone: Milestone, by=None, **kwargs) -> None:
    """The instalment of a billing schedule: the milestone's share of its order, invoiced and
    issued now (numbered in this transaction). A refusal of billing (more than 100 % of the
    order invoiced, an incomplete legal identity, a cancelled order) refuses the completion:
    the error reaches streams as its own type, with billing's message, and everything rolls
    back. The milestone row is locked by the completing transaction: one invoice per
    milestone, however many completions race."""
    if milestone.bill_percent is None or milestone.billed_at is not None:
        return
    if milestone.subject_type_id != content_type_id(Order):
        return
    order = Order.objects.filter(pk=milestone.subject_id).first()
    if order is None:
        raise MilestoneBillingRefused(_("The order this milestone bills no longer exists."))
    try:
        invoice = invoice_create_for_order(order=order, by=by, percent=milestone.bill_percent)
        # The user may complete milestones: billing the share is part of that action.
        invoice = invoice_issue(invoice=invoice, by=by, check_role=False)
    except BillingError as exc:
        raise MilestoneBillingRefused(exc.message) from exc
    now = timezone.now()
    Milestone.objects.filter(pk=milestone.pk).update(billed_at=now,
                                                     billed_reference=invoice.number)
    milestone.billed_at, milestone.billed_reference = now, invoice.number
    # The event carries where the invoice is (its kind and id), so the schedule links to it
    # without streams knowing invoices.
    record(subject=milestone, verb="billed",
           data={"invoice": invoice.number, "invoice_id": invoice.pk,
                 "invoice_type": content_type_id(invoice), "percent": milestone.bill_percent,
                 "order": order.number})


def connect() -> None:
    post_transition.connect(_order_transition, sender=Order,
                            dispatch_uid="billing.order_cancelled")
    milestone_completed.connect(_milestone_completed, sender=Milestone,
                                dispatch_uid="billing.milestone_completed")
