"""Streams' background work. Periodic tasks walk every active shop, each in its own schema
(tenant-schemas-celery runs a queued task in its shop's schema; beat has no shop)."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from streams.services.milestones import milestones_mark_overdue
from tenants.models import Shop, ShopStatus


def _active_schemas() -> list[str]:
    return list(Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(schema_name="public")
                .values_list("schema_name", flat=True))


@shared_task(name="streams.milestones_overdue")
def milestones_overdue_task() -> int:
    """Milestones past their planned end marked delayed (once each), in every active shop."""
    delayed = 0
    for schema in _active_schemas():
        with schema_context(schema):
            delayed += milestones_mark_overdue()
    return delayed
