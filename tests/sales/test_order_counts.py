"""The per-status order counts the order list shows its total from are kept by PostgreSQL
(a trigger on sales_order): exact after every kind of write, never after a rollback, and under
concurrent transitions and checkouts."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django_tenants.utils import schema_context

from sales.models import Order, OrderStatus, OrderStatusCount, OrderStatusDelta
from sales.services.orders import order_counts_compact, order_transition
from tenants.services import shop_create_pooled
from tests.conftest import host_of, login
from tests.sales.factories import customer, goods, place_order, staff
from tests.sales.test_dashboard_orders import ORDERS, bulk_orders


def kept() -> dict[str, int]:
    """Each status's count as the list reads it: its row plus the deltas not folded in yet."""
    counts = Counter({row.status: row.count for row in OrderStatusCount.objects.all()})
    for delta in OrderStatusDelta.objects.all():
        counts[delta.status] += delta.change
    return {status: n for status, n in counts.items() if n}


def real() -> dict[str, int]:
    return dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by())


@pytest.mark.usefixtures("in_shop")
def test_every_kind_of_write_keeps_the_counts_exact(shop):
    bike = goods("BIKE", stock="50")
    first, second = place_order((bike, 1)), place_order((bike, 1))
    bulk_orders(30)  # a bulk insert (one statement) counts each row
    assert kept() == real() == {"pending": 32}
    order_transition(order=first, action="confirm", by=staff("sales"))
    order_transition(order=second, action="cancel", by=staff("manager"), reason="Duplicate")
    Order.objects.filter(number__startswith="C-BULK-0000").update(status=OrderStatus.SHIPPED)
    Order.objects.filter(number__startswith="C-BULK-0001").delete()
    assert kept() == real() == {"pending": 10, "confirmed": 1, "cancelled": 1, "shipped": 10}
    order_counts_compact()
    assert not OrderStatusDelta.objects.exists()
    assert kept() == real() == {"pending": 10, "confirmed": 1, "cancelled": 1, "shipped": 10}
    try:
        with transaction.atomic():
            bulk_orders(5, start=100)
            Order.objects.filter(status=OrderStatus.SHIPPED).update(status=OrderStatus.DELIVERED)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert kept() == real() == {"pending": 10, "confirmed": 1, "cancelled": 1, "shipped": 10}


@pytest.mark.usefixtures("in_shop")
def test_the_order_list_total_comes_from_the_counts_and_matches_a_count(shop):
    bulk_orders(40, who=customer("bulk@example.test", last_name="Bulk"))
    Order.objects.filter(number__in=["C-BULK-00001", "C-BULK-00002"]).update(
        status=OrderStatus.CONFIRMED)
    Order.objects.filter(number="C-BULK-00003").update(status=OrderStatus.PROCESSING)
    client = login(Client(HTTP_HOST=host_of(shop)), shop, staff("sales"))
    for params, expected in [({}, 40), ({"status": "confirmed"}, 2), ({"status": "to_ship"}, 3),
                             ({"status": "pending"}, 37), ({"q": "C-BULK-0000"}, 10),
                             ({"status": "to_ship", "q": "C-BULK-00001"}, 1)]:
        response = client.get(ORDERS, params)
        assert response.context["page"].count == expected, params
        assert len(response.context["rows"]) == min(expected, 25), params
    # Nothing counted by hand is trusted: the kept counts agree with a real count.
    assert sum(kept().values()) == Order.objects.count() == 40


def test_concurrent_checkouts_and_transitions_keep_the_counts_exact(committed):
    """Real threads on committed data: 8 checkouts while 8 pending orders are confirmed or
    cancelled by others and 3 more fold the deltas in; the counts are exact afterwards, and
    nobody waited for anybody into a deadlock."""
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        bike = goods("BIKE", stock="100")
        existing = [place_order((bike, 1)) for _ in range(8)]
        sales, manager = staff("sales"), staff("manager")
    barrier = threading.Barrier(19)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with schema_context(shop.schema_name):
                barrier.wait()
                if i >= 16:
                    order_counts_compact()
                elif i < 8:
                    place_order((bike, 1))
                elif i % 2:
                    order_transition(order=Order.objects.get(pk=existing[i - 8].pk),
                                     action="confirm", by=sales)
                else:
                    order_transition(order=Order.objects.get(pk=existing[i - 8].pk),
                                     action="cancel", by=manager, reason="Race")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(19)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with schema_context(shop.schema_name):
        assert kept() == real() == {"pending": 8, "confirmed": 4, "cancelled": 4}
        assert Counter(Order.objects.values_list("status", flat=True))["pending"] == 8
        assert Order.objects.aggregate(n=Count("pk"))["n"] == 16
        order_counts_compact()
        assert kept() == {"pending": 8, "confirmed": 4, "cancelled": 4}
        assert not OrderStatusDelta.objects.exists()


@pytest.mark.usefixtures("in_shop")
def test_the_periodic_task_folds_every_shops_deltas(shop):
    from sales.tasks import compact_order_counts_task

    bulk_orders(3)
    assert OrderStatusDelta.objects.exists()
    compact_order_counts_task()
    assert not OrderStatusDelta.objects.exists()
    assert kept() == real() == {"pending": 3}
