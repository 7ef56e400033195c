"""Streams' background work. Periodic tasks walk every active shop, each in its own schema
(tenant-schemas-celery runs a queued task in its shop's schema; beat has no shop)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from streams.services.milestones import milestones_mark_overdue
from streams.services.social import digest_send
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


@shared_task(name="streams.email_digest")
def email_digest_task() -> int:
    """The daily email of unread notifications to the staff who asked for it, in every
    active shop (links on the shop's own address, text in the shop's language)."""
    # Production serves shops over https only (secure cookies); development over http.
    scheme = "https" if settings.SESSION_COOKIE_SECURE else "http"
    sent = 0
    shops = Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(schema_name="public")
    for shop in shops:
        domain = shop.get_primary_domain()
        if domain is None:
            continue
        with schema_context(shop.schema_name):
            sent += digest_send(base_url=f"{scheme}://{domain.domain}", shop_name=shop.name,
                                language=shop.locale or "en")
    return sent
