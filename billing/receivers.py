"""Billing's reactions to other apps' state changes, connected once in BillingConfig.ready():
a cancelled order gets what was paid by card back (after the cancellation commits)."""

from __future__ import annotations

from django_fsm.signals import post_transition

from billing.tasks import refund_cancelled_order_send
from sales.models import Order, OrderStatus


def _order_transition(sender, instance, name, source, target, **kwargs) -> None:
    if target == OrderStatus.CANCELLED:
        refund_cancelled_order_send(instance.pk)


def connect() -> None:
    post_transition.connect(_order_transition, sender=Order,
                            dispatch_uid="billing.order_cancelled")
