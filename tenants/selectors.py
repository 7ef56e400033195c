"""Reads about shops that views and the API share."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from tenants.models import PlatformAuditLog, Shop, ShopStatus


def shops_for_console(
    *, q: str = "", status: str = "", plan_code: str = "", sort: str = "-created_at"
) -> QuerySet[Shop]:
    qs = (
        Shop.objects.exclude(status=ShopStatus.POOLED)
        .exclude(schema_name="public")
        .select_related("plan")
        .prefetch_related("domains")
    )
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(domains__domain__icontains=q) | Q(owner_email__icontains=q)
        ).distinct()
    if status:
        qs = qs.filter(status=status)
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    return qs.order_by(sort, "-pk")


def shop_get_for_console(*, pk: int) -> Shop | None:
    return (
        Shop.objects.exclude(schema_name="public")
        .select_related("plan")
        .prefetch_related("domains")
        .filter(pk=pk)
        .first()
    )


def shop_usage(*, shop: Shop) -> dict[str, int]:
    """Counts shown in the console. Apps declare counters on their AppConfig as
    `usage_counters = {"products": "catalog.selectors.product_count"}` (a callable run in the
    shop's schema), so this module never imports a domain app."""
    counters: dict[str, str] = {"staff": "tenants.accounts.selectors.staff_count"}
    for config in apps.get_app_configs():
        counters.update(getattr(config, "usage_counters", {}))
    usage = {"staff": 0, "products": 0, "orders": 0}
    with schema_context(shop.schema_name):
        for label, path in counters.items():
            usage[label] = import_string(path)()
    return usage


def audit_for(*, shop: Shop | None = None, limit: int | None = None
              ) -> QuerySet[PlatformAuditLog]:
    qs = PlatformAuditLog.objects.select_related("shop").prefetch_related("shop__domains")
    if shop is not None:
        qs = qs.filter(shop=shop)
    return qs[:limit] if limit else qs
