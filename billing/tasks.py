"""Billing's background work: refunds after a cancelled order, overdue invoices and their
reminders, unpaid card orders given up. Periodic tasks walk every active shop, each in its
own schema."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django_tenants.utils import schema_context

from billing.services.periodic import (
    invoices_mark_overdue,
    invoices_send_reminders,
    order_refund_after_cancel,
    orders_cancel_unpaid,
)
from tenants.models import Shop, ShopStatus

logger = logging.getLogger(__name__)


def _active_schemas() -> list[str]:
    return list(Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(schema_name="public")
                .values_list("schema_name", flat=True))


@shared_task(name="billing.daily")
def billing_daily_task() -> dict:
    """Overdue invoices, reminders and unpaid card orders, in every active shop."""
    totals = {"overdue": 0, "reminders": 0, "cancelled": 0}
    for schema in _active_schemas():
        with schema_context(schema):
            totals["overdue"] += invoices_mark_overdue()
            totals["reminders"] += invoices_send_reminders()
            totals["cancelled"] += orders_cancel_unpaid()
    return totals


@shared_task(name="billing.refund_cancelled_order")
def refund_cancelled_order_task(*, order_id: int) -> int:
    return order_refund_after_cancel(order_id=order_id)


def refund_cancelled_order_send(order_id: int) -> None:
    transaction.on_commit(lambda: refund_cancelled_order_task.delay(order_id=order_id),
                          robust=True)
