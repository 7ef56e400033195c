"""Seeding and in-process measurements for the sales benchmark, run in a subprocess with
DATABASE_URL set by the caller (tests/bench/sales.py).

    python -m tests.bench.sales_tasks seed --subdomain big --orders 10000
    python -m tests.bench.sales_tasks queries --subdomain big
    python -m tests.bench.sales_tasks checkout --subdomain big --seconds 10 --threads 2
    python -m tests.bench.sales_tasks race --subdomain big --buyers 100 --units 10

Orders for the list are written set-based (10,000 checkouts through the services would take
minutes and measure nothing of the list); they are what checkout writes: customer, order, two
lines, its history row, a number from the shop's sequence. Checkout throughput and the race go
through the real services (cart, checkout, stock locks) with real threads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("tests.bench.sales_tasks refuses to run without DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _shop(subdomain: str):
    from tenants.models import Domain

    return Domain.objects.select_related("tenant").get(domain=f"{subdomain}.localhost").tenant


def seed(subdomain: str, orders: int) -> None:
    """Orders (and their customers) in the benchmark shop made by tests.bench.catalog_tasks."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from sales.models import Order
    from streams.subjects import content_type_id

    shop = _shop(subdomain)
    year = timezone.localdate().year
    with schema_context(shop.schema_name), transaction.atomic(), connection.cursor() as c:
        customers = max(1, orders // 10)
        c.execute(
            """
            INSERT INTO sales_customer (kind, state, first_name, last_name, company_name, email,
                phone, vat_number, company_id, notes, created_at, updated_at)
            SELECT CASE WHEN i %% 5 = 0 THEN 'company' ELSE 'person' END, 'guest',
                   'First' || i, 'Last' || lpad(i::text, 6, '0'),
                   CASE WHEN i %% 5 = 0 THEN 'Company ' || i ELSE '' END,
                   'customer' || i || '@bench.example', '', '', '', '', now(), now()
            FROM generate_series(1, %s) AS i
            """, [customers])
        c.execute("SELECT min(id) FROM sales_customer")
        first_customer = c.fetchone()[0]
        c.execute(
            """
            INSERT INTO sales_order (number, status, source, customer_id, email, billing_address,
                shipping_address, shipping_name, shipping_net, shipping_tax_rate, payment_method,
                discount_percent, currency, net_total, vat_total, gross_total, customer_note,
                placed_at, updated_at, cancel_reason, tracking_reference)
            SELECT 'C-' || %s || '-' || lpad(i::text, 5, '0'),
                   (ARRAY['pending','confirmed','processing','shipped','delivered','cancelled'])
                       [i %% 6 + 1],
                   'storefront', %s + (i %% %s), 'customer' || (i %% %s + 1) || '@bench.example',
                   '{"full_name": "Bench Buyer", "line1": "1 rue du Test", "postal_code": "75001",
                     "city": "Paris", "country": "FR"}'::jsonb, '{}'::jsonb, 'Standard delivery',
                   5.75, 20, 'bank_transfer', 0, 'EUR', 100 + i %% 900, (100 + i %% 900) * 0.2,
                   (100 + i %% 900) * 1.2, '', now() - (i || ' minutes')::interval, now(), '', ''
            FROM generate_series(1, %s) AS i
            """, [year, first_customer, customers, customers, orders])
        c.execute(
            """
            INSERT INTO sales_orderline (order_id, product_id, name, sku, quantity, unit,
                unit_net, tax_rate, discount_percent, position, net, vat, gross)
            SELECT o.id, NULL, 'Line ' || n, 'SKU-' || n, 1, 'unit', o.net_total / 2, 20, 0,
                   n, o.net_total / 2, o.vat_total / 2, o.gross_total / 2
            FROM sales_order o CROSS JOIN generate_series(0, 1) AS n
            """)
        # Each order's "placed" event on its timeline (streams), as checkout records it.
        c.execute(
            """
            INSERT INTO streams_event (subject_type_id, subject_id, subject_label, actor_id,
                actor_kind, actor_name, verb, before, after, message, data, importance, at)
            SELECT %s, id, 'Order ' || number, NULL, 'customer', '', 'placed', '', '', '',
                   '{}'::jsonb, 20, placed_at FROM sales_order
            """, [content_type_id(Order)])
        c.execute(
            "INSERT INTO sales_numbersequence (key, last) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET last = EXCLUDED.last", [f"order-{year}", orders])
    vacuum(shop, ("sales_customer", "sales_order", "sales_orderline", "streams_event"))
    print(f"{subdomain}: {orders} orders", flush=True)


def vacuum(shop, tables: tuple[str, ...]) -> None:
    """What autovacuum does within a minute of such a load: statistics, and the visibility map
    that lets a count read an index alone. Pages are then measured in the state a shop is in
    the rest of its life, not in the minute after a bulk insert. (VACUUM cannot run inside a
    transaction: after the load's commit.)"""
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(shop.schema_name), connection.cursor() as c:
        for table in tables:
            c.execute(f"VACUUM (ANALYZE) {table}")


def queries(subdomain: str) -> None:
    """Queries per sales page (Django test client, same database), printed as JSON."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from tenants.accounts.models import User

    host = f"{subdomain}.localhost"
    shop = _shop(subdomain)
    staff = Client(HTTP_HOST=host)
    with schema_context(shop.schema_name):
        staff.force_login(User.objects.get(email=f"owner@{subdomain}.bench"))
    pages = {
        "dashboard order list": "/dashboard/sales/orders/",
        "dashboard order list, page 50": "/dashboard/sales/orders/?page=50",
        "dashboard order list, status filter": "/dashboard/sales/orders/?status=shipped",
        "dashboard order list, search": "/dashboard/sales/orders/?q=Last000001",
    }
    counts = {}
    for label, path in pages.items():
        staff.get(path)  # warm: content types, templates
        with CaptureQueriesContext(connection) as ctx:
            response = staff.get(path)
        assert response.status_code == 200, (label, response.status_code)
        counts[label] = len(ctx.captured_queries)
        connection.set_schema_to_public()
    print(json.dumps(counts))


def _stocked_products(count: int, stock: int):
    from decimal import Decimal

    from catalog.services.products import product_create

    return [product_create(kind="goods", data={"sku": f"CHK-{time.time_ns()}-{i}",
                                               "name": f"Checkout bench {i}",
                                               "net_price": Decimal("25.00")},
                           initial_stock=Decimal(stock)) for i in range(count)]


def _buy(product, n: int):
    from sales.models import ShippingMethod
    from sales.services.carts import cart_add, cart_get_or_create
    from sales.services.checkout import CheckoutInput, checkout_place_order

    cart = cart_get_or_create(session={}, customer=None)
    cart_add(cart=cart, product=product, quantity=1)
    return checkout_place_order(cart=cart, customer=None, base_url="http://bench.localhost",
                                data=CheckoutInput(
        email=f"buyer{n}@bench.example", first_name="Bench", last_name=f"Buyer {n}",
        billing_address={"full_name": "Bench Buyer", "line1": "1 rue du Test",
                         "postal_code": "75001", "city": "Paris", "country": "FR"},
        shipping_method=ShippingMethod.objects.get(kind="flat"),
        payment_method="bank_transfer", checkout_key=f"bench-{time.time_ns()}-{n}"))


def checkout(subdomain: str, seconds: float, threads: int) -> None:
    """Uncontended checkout: `threads` buyers, each buying its own product again and again
    (cart created, line added, order placed with its stock reserved), for `seconds`."""
    from django.db import connection
    from django_tenants.utils import schema_context

    shop = _shop(subdomain)
    with schema_context(shop.schema_name):
        products = _stocked_products(threads, 1_000_000)
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def buyer(i: int) -> None:
        local = []
        with schema_context(shop.schema_name):
            n = 0
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                _buy(products[i], i * 1_000_000 + n)
                local.append(time.perf_counter() - began)
                n += 1
        connection.close()
        with lock:
            latencies.extend(local)

    began = time.monotonic()
    workers = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.monotonic() - began
    latencies.sort()
    print(json.dumps({"orders": len(latencies), "seconds": wall,
                      "orders_per_s": len(latencies) / wall,
                      "p50_ms": latencies[len(latencies) // 2] * 1000,
                      "p99_ms": latencies[min(len(latencies) - 1,
                                              int(len(latencies) * 0.99))] * 1000}))


def race(subdomain: str, buyers: int, units: int, connections: int) -> None:
    """`buyers` attempts released together on one product with `units` in stock, served by
    `connections` threads (a web tier's database connections, not one per buyer): how long
    until every attempt is answered, how many orders, and whether stock is exact."""
    import queue

    from django.db import connection
    from django_tenants.utils import schema_context

    from catalog.models import StockLevel
    from catalog.services.stock import stock_audit
    from sales.errors import SalesError

    shop = _shop(subdomain)
    with schema_context(shop.schema_name):
        product = _stocked_products(1, units)[0]
    attempts: queue.SimpleQueue[int] = queue.SimpleQueue()
    for n in range(buyers):
        attempts.put(n)
    barrier = threading.Barrier(connections)
    placed, refused, errors = [0], [0], []
    lock = threading.Lock()

    def server() -> None:
        with schema_context(shop.schema_name):
            connection.ensure_connection()
            barrier.wait()
            while True:
                try:
                    n = attempts.get_nowait()
                except queue.Empty:
                    break
                try:
                    _buy(product, n)
                    with lock:
                        placed[0] += 1
                except SalesError:
                    with lock:
                        refused[0] += 1
                except Exception as exc:  # noqa: BLE001 - reported in the benchmark's output
                    errors.append(repr(exc))
        connection.close()

    workers = [threading.Thread(target=server) for _ in range(connections)]
    for w in workers:
        w.start()
    began = time.monotonic()
    for w in workers:
        w.join()
    wall = time.monotonic() - began
    with schema_context(shop.schema_name):
        level = StockLevel.objects.get(pk=product.pk)
        audit = stock_audit()
    print(json.dumps({"buyers": buyers, "units": units, "connections": connections,
                      "placed": placed[0], "refused": refused[0], "errors": errors[:3],
                      "seconds": wall, "attempts_per_s": buyers / wall,
                      "on_hand": float(level.on_hand), "reserved": float(level.reserved),
                      "audit_clean": audit == []}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["seed", "queries", "checkout", "race"])
    parser.add_argument("--subdomain", required=True)
    parser.add_argument("--orders", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args(argv)
    _setup()
    if args.action == "seed":
        seed(args.subdomain, args.orders)
    elif args.action == "queries":
        queries(args.subdomain)
    elif args.action == "checkout":
        checkout(args.subdomain, args.seconds, args.threads)
    else:
        race(args.subdomain, args.buyers, args.units, args.connections)


if __name__ == "__main__":
    main()
