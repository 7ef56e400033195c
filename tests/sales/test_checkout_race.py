"""Checkouts racing on real PostgreSQL with real threads: no oversell, no double order, numbers
unique; two simultaneous acceptances of a quote make exactly one order."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from catalog.models import StockLevel
from catalog.services.stock import stock_audit
from sales.errors import IllegalTransition, SalesError
from sales.models import Order, Quote, QuoteStatus
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.checkout import checkout_place_order
from sales.services.quotes import quote_accept, quote_create, quote_line_input, quote_send
from tenants.services import shop_create_pooled
from tests.sales.factories import BASE_URL, checkout_input, customer, goods, staff


def _race(n: int, work) -> list[str]:
    """Run `work(i)` in n threads released together; collect what each returned or raised."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except (SalesError, IllegalTransition) as exc:
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


def test_fifty_concurrent_checkouts_for_ten_units_make_exactly_ten_orders(committed):
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        bike = goods("BIKE", stock="10")
        carts = []
        for _ in range(50):
            cart = cart_get_or_create(session={}, customer=None)
            cart_add(cart=cart, product=bike, quantity=1)
            carts.append(cart)

    def buy(i: int) -> str:
        with schema_context(shop.schema_name):
            order = checkout_place_order(cart=carts[i], customer=None,
                                         data=checkout_input(email=f"buyer{i}@example.test"),
                                         base_url=BASE_URL)
            return f"ok {order.number}"

    outcomes = _race(50, buy)
    placed = [o for o in outcomes if o.startswith("ok")]
    assert len(placed) == 10, Counter(o.split()[0] for o in outcomes)
    assert len(set(placed)) == 10, "order numbers are unique"
    assert Counter(outcomes)["refused: SalesError"] == 40
    with schema_context(shop.schema_name):
        level = StockLevel.objects.get(pk=bike.pk)
        assert (level.on_hand, level.reserved) == (10, 10)
        assert Order.objects.count() == 10
        numbers = sorted(Order.objects.values_list("number", flat=True))
        year = timezone.localdate().year
        assert numbers == [f"C-{year}-{n:05d}" for n in range(1, 11)], "no gap, no reuse"
        assert stock_audit() == []


def test_a_double_submitted_checkout_makes_one_order(committed):
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        bike = goods("BIKE", stock="10")
        cart = cart_get_or_create(session={}, customer=None)
        cart_add(cart=cart, product=bike, quantity=2)
        data = checkout_input()

    def submit(_i: int) -> str:
        with schema_context(shop.schema_name):
            return checkout_place_order(cart=cart, customer=None, data=data,
                                        base_url=BASE_URL).number

    outcomes = _race(4, submit)
    assert len(set(outcomes)) == 1, outcomes
    with schema_context(shop.schema_name):
        assert Order.objects.count() == 1
        assert StockLevel.objects.get(pk=bike.pk).reserved == 2


def test_two_simultaneous_acceptances_make_exactly_one_order(committed):
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        bike = goods("BIKE", stock="5")
        seller = staff("sales")
        quote = quote_create(customer=customer(), by=seller,
                             data={"valid_until": timezone.localdate() + timedelta(days=10)},
                             lines=[quote_line_input(product=bike, quantity="2")])
        quote_send(quote=quote, by=seller, base_url=BASE_URL)

    def accept(i: int) -> str:
        with schema_context(shop.schema_name):
            order = quote_accept(quote=quote, name=f"Marie Curie {i}", accept_terms=True,
                                 ip="203.0.113.7", by=None)
            return f"ok {order.number}" if order else "accepted without order"

    outcomes = _race(5, accept)
    assert sum(o.startswith("ok") for o in outcomes) == 1, outcomes
    with schema_context(shop.schema_name):
        assert Order.objects.filter(quote=quote).count() == 1
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.CONVERTED
        assert StockLevel.objects.get(pk=bike.pk).reserved == 2
