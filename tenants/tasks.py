from __future__ import annotations

from celery import shared_task

from tenants.services import handoff_purge, pool_top_up


@shared_task(name="tenants.pool_top_up")
def pool_top_up_task() -> int:
    return pool_top_up()


@shared_task(name="tenants.handoff_purge")
def handoff_purge_task() -> int:
    return handoff_purge()
