from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from catalog.services.csv_io import import_job_run
from catalog.services.stock import lots_release_expired_options
from tenants.models import Shop, ShopStatus


@shared_task(name="catalog.release_expired_options")
def release_expired_options_task() -> int:
    """Every active shop, each in its own schema and transaction."""
    released = 0
    for schema in Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(
            schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema):
            released += lots_release_expired_options()
    return released


@shared_task(name="catalog.import_job_run")
def import_job_run_task(job_id: int) -> str:
    """A CSV import queued from the dashboard; runs in the shop's schema (tenant-schemas-celery)."""
    return import_job_run(job_id=job_id).state
