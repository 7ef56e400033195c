"""Milestones racing on real PostgreSQL with real threads: a billing milestone completed by
several people at once issues exactly one instalment invoice; shares added at once to an
empty schedule never sum past 100 %."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from django.db import connection
from django_tenants.utils import schema_context

from billing.models import Invoice, InvoiceStatus
from sales.models import Order
from streams.errors import MilestoneError
from streams.models import Milestone, MilestoneStatus
from streams.services.milestones import milestone_complete
from tenants.models import Shop
from tenants.services import shop_create_pooled
from tests.sales.factories import goods, place_order, staff
from tests.streams.milestones_support import LEGAL, a_milestone, events_of


def _race(n: int, work) -> list[str]:
    """Run `work(i)` in n threads released together; collect what each returned or raised."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except MilestoneError as exc:
            result = f"refused: {type(exc).__name__}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == n, "a thread hung"
    return outcomes


def _shop_with_an_order() -> tuple[Shop, int]:
    shop = shop_create_pooled()
    Shop.objects.filter(pk=shop.pk).update(**LEGAL)
    with schema_context(shop.schema_name):
        order = place_order((goods("LOT-A01", price="250000.00", stock="1"), 1))
    return shop, order.pk


def test_a_billing_milestone_completed_four_times_at_once_issues_one_invoice(
        committed, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    shop, order_id = _shop_with_an_order()
    with schema_context(shop.schema_name):
        foundations = a_milestone(Order.objects.get(pk=order_id), "Foundations",
                                  bill_percent=Decimal("35"))
        managers = [staff("manager") for _ in range(4)]

    def complete(i: int) -> str:
        with schema_context(shop.schema_name):
            milestone = milestone_complete(milestone=foundations, by=managers[i])
            return f"ok {milestone.billed_reference}"

    outcomes = _race(4, complete)

    assert Counter(o.split()[0] for o in outcomes) == {"ok": 1, "refused:": 3}, outcomes
    assert Counter(outcomes)["refused: MilestoneTransitionRefused"] == 3
    with schema_context(shop.schema_name):
        [invoice] = Invoice.objects.filter(order_id=order_id)
        assert (invoice.status, invoice.order_percent) == (InvoiceStatus.ISSUED, Decimal("35"))
        milestone = Milestone.objects.get(pk=foundations.pk)
        assert milestone.status == MilestoneStatus.COMPLETED
        assert milestone.billed_reference == invoice.number and f"ok {invoice.number}" in outcomes
        verbs = Counter(e.verb for e in events_of(milestone))
        assert (verbs["complete"], verbs["billed"]) == (1, 1)


def test_shares_added_at_once_to_an_empty_schedule_never_pass_100_percent(committed):
    shop, order_id = _shop_with_an_order()

    def add(i: int) -> str:
        with schema_context(shop.schema_name):
            a_milestone(Order.objects.get(pk=order_id), f"Stage {i}", bill_percent=Decimal("60"))
            return "ok"

    outcomes = _race(3, add)

    assert sorted(outcomes) == ["ok", "refused: MilestoneError", "refused: MilestoneError"]
    with schema_context(shop.schema_name):
        assert list(Milestone.objects.values_list("bill_percent", flat=True)) == [Decimal("60")]
