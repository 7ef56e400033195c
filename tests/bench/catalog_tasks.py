"""Seeding for the catalog benchmark, run in a subprocess with DATABASE_URL set by the caller.

    python -m tests.bench.catalog_tasks seed --subdomain big --products 10000

Opens a shop through the services, then writes its products with set-based SQL (10,000 rows
through `product_create` would take minutes and measure nothing of interest here); the rows
are exactly what the services would write: base row, kind row, stock level and its receipt.
"""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("tests.bench.catalog_tasks refuses to run without DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(subdomain: str, products: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from catalog.models import Product, Project, RealEstateLot, ServiceProduct, TaxRate, Vehicle
    from catalog.services.categories import category_save
    from tenants.accounts.models import User
    from tenants.models import Plan
    from tenants.services import shop_open
    from tests.bench.sales_tasks import vacuum

    Plan.objects.update(max_products=1_000_000)
    opened = shop_open(name=f"Bench {subdomain}", subdomain=subdomain,
                       owner_email=f"owner@{subdomain}.bench", owner_password="Bench-owner-pass-1",
                       locale="en")
    with schema_context(opened.shop.schema_name), transaction.atomic():
        User.objects.filter(pk=opened.owner_id).update(full_name="Bench Owner")
        cats = [category_save(name=f"Category {i}") for i in range(5)]
        project = Project.objects.create(name="Bench programme", slug="bench-programme")
        tax = TaxRate.objects.get(is_default=True)
        ct = ContentType.objects.get_for_models(Product, ServiceProduct, RealEstateLot, Vehicle)
        kinds = [ct[Product].pk, ct[ServiceProduct].pk, ct[RealEstateLot].pk, ct[Vehicle].pk]
        with connection.cursor() as c:
            c.execute(
                """
                INSERT INTO catalog_baseproduct (polymorphic_ctype_id, sku, name, slug, description,
                    net_price, tax_rate_id, unit, category_id, product_type_id, specs, status,
                    created_at, updated_at)
                SELECT (ARRAY[%s, %s, %s, %s])[i %% 4 + 1], 'SKU-' || i,
                       'Product ' || lpad(i::text, 6, '0'), 'product-' || i,
                       '<p>A product for the benchmark.</p>', (10 + i %% 500)::numeric(12, 2), %s,
                       'unit', (ARRAY[%s, %s, %s, %s, %s])[i %% 5 + 1], NULL, '{}', 'active',
                       now(), now()
                FROM generate_series(1, %s) AS i
                """,
                [*kinds, tax.pk, *[c_.pk for c_ in cats], products],
            )
            c.execute("INSERT INTO catalog_product (baseproduct_ptr_id, low_stock_threshold) "
                      "SELECT id, 2 FROM catalog_baseproduct WHERE polymorphic_ctype_id = %s",
                      [kinds[0]])
            c.execute("INSERT INTO catalog_stocklevel (product_id, on_hand, reserved, updated_at) "
                      "SELECT id, 10, 0, now() FROM catalog_baseproduct "
                      "WHERE polymorphic_ctype_id = %s", [kinds[0]])
            c.execute("INSERT INTO catalog_stockmovement (product_id, kind, on_hand_delta, "
                      "reserved_delta, reason, reference, created_at) SELECT id, 'receipt', 10, 0, "
                      "'Initial stock', '', now() FROM catalog_baseproduct "
                      "WHERE polymorphic_ctype_id = %s", [kinds[0]])
            c.execute("INSERT INTO catalog_serviceproduct (baseproduct_ptr_id, duration_minutes) "
                      "SELECT id, 60 FROM catalog_baseproduct WHERE polymorphic_ctype_id = %s",
                      [kinds[1]])
            c.execute("INSERT INTO catalog_realestatelot (baseproduct_ptr_id, project_id, lot_number, "
                      "surface_m2, rooms, floor, orientation, parking_spaces, availability) "
                      "SELECT id, %s, 'L' || id, 55, 3, id %% 6, 'S', 1, "
                      "CASE WHEN id %% 3 = 0 THEN 'sold' ELSE 'available' END "
                      "FROM catalog_baseproduct WHERE polymorphic_ctype_id = %s",
                      [project.pk, kinds[2]])
            c.execute("INSERT INTO catalog_vehicle (baseproduct_ptr_id, make, model, year, "
                      "mileage_km, vin) SELECT id, 'Renault', 'Clio', 2020, 1000 + id, "
                      "'VF1' || lpad(id::text, 14, '0') FROM catalog_baseproduct "
                      "WHERE polymorphic_ctype_id = %s", [kinds[3]])
    vacuum(opened.shop, ("catalog_baseproduct", "catalog_product", "catalog_stocklevel",
                         "catalog_stockmovement", "catalog_serviceproduct",
                         "catalog_realestatelot", "catalog_vehicle"))
    print(f"{subdomain}: {products} products", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["seed", "queries"])
    parser.add_argument("--subdomain", required=True)
    parser.add_argument("--products", type=int, default=0)
    args = parser.parse_args(argv)
    _setup()
    if args.action == "seed":
        seed(args.subdomain, args.products)
    else:
        queries(args.subdomain)



def queries(subdomain: str) -> None:
    """Queries per page (Django test client, same database): printed as JSON."""
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from tenants.accounts.models import User
    from tenants.models import Domain

    host = f"{subdomain}.localhost"
    shop = Domain.objects.select_related("tenant").get(domain=host).tenant
    staff = Client(HTTP_HOST=host)
    with schema_context(shop.schema_name):
        staff.force_login(User.objects.get(email=f"owner@{subdomain}.bench"))
    anonymous = Client(HTTP_HOST=host)
    pages = {
        "dashboard product list": (staff, "/dashboard/catalog/"),
        "dashboard product list, page 50": (staff, "/dashboard/catalog/?page=50"),
        "storefront catalog": (anonymous, "/"),
        "storefront catalog, page 50": (anonymous, "/?page=50"),
        "storefront search": (anonymous, "/?q=Product+00000"),  # 9 hits in both shops
    }
    counts = {}
    for label, (client, path) in pages.items():
        client.get(path)  # warm: content types, templates
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200, (label, response.status_code)
        counts[label] = len(ctx.captured_queries)
        connection.set_schema_to_public()
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
