"""Seeding and in-process measurements for the billing benchmark, run in subprocesses with
DATABASE_URL set by the caller (tests/bench/billing.py).

    python -m tests.bench.billing_tasks seed --subdomain big --drafts 4000 --card-orders 2000
    python -m tests.bench.billing_tasks issue --subdomain big --ids 1,9,17,...
    python -m tests.bench.billing_tasks check --subdomain big

Drafts and card orders are written set-based (what the services write for them); issuing goes
through `invoice_issue` itself: lock, number from the shop's counter, snapshots, history row.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("tests.bench.billing_tasks refuses to run without DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _shop(subdomain: str):
    from tenants.models import Domain

    return Domain.objects.select_related("tenant").get(domain=f"{subdomain}.localhost").tenant


LEGAL = {"legal_name": "Bench SAS", "legal_form": "SAS", "siren": "732829320",
         "siret": "73282932000074", "vat_number": "FR44732829320",
         "address_line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris",
         "iban": "FR7630006000011234567890189", "bic": "BNPAFRPPXXX",
         "stripe_account_id": "acct_1BenchShop", "stripe_charges_enabled": True}


def seed(subdomain: str, drafts: int, card_orders: int) -> None:
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from tenants.models import Shop

    shop = _shop(subdomain)
    Shop.objects.filter(pk=shop.pk).update(**LEGAL)
    with schema_context(shop.schema_name), transaction.atomic(), connection.cursor() as c:
        c.execute("INSERT INTO sales_customer (kind, state, first_name, last_name, company_name, "
                  "email, phone, vat_number, company_id, notes, created_at, updated_at) VALUES "
                  "('company', 'guest', 'Ada', 'Buyer', 'Buyer SARL', 'buyer@bench.example', '', "
                  "'FR40987654321', '98765432100012', '', now(), now()) RETURNING id")
        customer = c.fetchone()[0]
        c.execute(
            """INSERT INTO billing_invoice (kind, status, customer_id, title, seller, buyer,
                   payment_terms, late_penalty_rate, reason, notes, currency, net_total,
                   vat_total, gross_total, amount_paid, amount_credited, created_at,
                   updated_at, reminders_sent, pdf)
               SELECT 'invoice', 'draft', %s, 'Bench ' || i, '{}', '{}', '', 0, '', '', 'EUR',
                      200, 40, 240, 0, 0, now(), now(), 0, ''
               FROM generate_series(1, %s) AS i""", [customer, drafts])
        c.execute(
            """INSERT INTO billing_invoiceline (invoice_id, name, sku, quantity, unit, unit_net,
                   tax_rate, discount_percent, extra_discount_percent, position, net, vat, gross)
               SELECT id, 'Item ' || n, '', 1, 'unit', 100, 20, 0, 0, n, 100, 20, 120
               FROM billing_invoice CROSS JOIN generate_series(0, 1) AS n""")
        # Pending card orders, each with its Checkout Session: what webhooks will settle.
        c.execute(
            """INSERT INTO sales_order (number, status, source, customer_id, email,
                   billing_address, shipping_address, shipping_name, shipping_net,
                   shipping_tax_rate, payment_method, discount_percent, currency, net_total,
                   vat_total, gross_total, customer_note, placed_at, updated_at, cancel_reason,
                   tracking_reference)
               SELECT 'C-BENCH-' || lpad(i::text, 6, '0'), 'pending', 'storefront', %s,
                      'buyer@bench.example', '{"full_name": "Ada Buyer", "line1": "1 rue X",
                      "postal_code": "75001", "city": "Paris", "country": "FR"}', '{}', '', 0, 0,
                      'card', 0, 'EUR', 100, 20, 120, '', now(), now(), '', ''
               FROM generate_series(1, %s) AS i""", [customer, card_orders])
        c.execute(
            """INSERT INTO sales_orderline (order_id, name, sku, quantity, unit, unit_net,
                   tax_rate, discount_percent, position, net, vat, gross)
               SELECT id, 'Item', '', 1, 'unit', 100, 20, 0, 0, 100, 20, 120 FROM sales_order""")
        c.execute(
            """INSERT INTO billing_payment (order_id, customer_id, method, status, amount,
                   amount_refunded, currency, reference, note, stripe_account,
                   checkout_session_id, checkout_url, payment_intent_id, application_fee,
                   failure_message, created_at)
               SELECT id, %s, 'card', 'pending', 120, 0, 'EUR', '', '', 'acct_1BenchShop',
                      'cs_bench_' || id, '', '', 1.20, '', now() FROM sales_order""",
            [customer])
        c.execute("ANALYZE")
    print(f"{subdomain}: {drafts} drafts, {card_orders} card orders", flush=True)


def draft_ids(subdomain: str) -> None:
    from django_tenants.utils import schema_context

    from billing.models import Invoice

    with schema_context(_shop(subdomain).schema_name):
        print(json.dumps(list(Invoice.objects.filter(status="draft").order_by("pk")
                              .values_list("pk", flat=True))))


def session_ids(subdomain: str) -> None:
    from django_tenants.utils import schema_context

    from billing.models import Payment

    with schema_context(_shop(subdomain).schema_name):
        print(json.dumps(list(Payment.objects.filter(status="pending").order_by("pk")
                              .values_list("checkout_session_id", flat=True))))


def issue(subdomain: str, ids: list[int]) -> None:
    from django_tenants.utils import schema_context

    from billing.models import Invoice
    from billing.services.invoices import invoice_issue

    latencies = []
    schema = _shop(subdomain).schema_name
    # Started together: each worker says it is ready (Django loaded), then waits for "go", so
    # the measured time is issuing only, not eight interpreters starting on two cores.
    print("ready", flush=True)
    sys.stdin.readline()
    with schema_context(schema):
        for pk in ids:
            began = time.perf_counter()
            invoice_issue(invoice=Invoice(pk=pk), by=None)
            latencies.append(time.perf_counter() - began)
    print(json.dumps({"issued": len(ids), "latencies": latencies}))


def check(subdomain: str) -> None:
    """Numbers 1..N without gap or duplicate; card orders confirmed; one event row each."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from billing.models import Invoice, Payment, WebhookEvent

    year = timezone.localdate().year
    with schema_context(_shop(subdomain).schema_name):
        numbers = sorted(Invoice.objects.filter(number__startswith=f"F-{year}-")
                         .values_list("number", flat=True))
        expected = [f"F-{year}-{n:05d}" for n in range(1, len(numbers) + 1)]
        print(json.dumps({"issued": len(numbers), "gap_free": numbers == expected,
                          "payments_succeeded": Payment.objects.filter(status="succeeded").count(),
                          "events": WebhookEvent.objects.count()}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["seed", "draft-ids", "session-ids", "issue", "check"])
    parser.add_argument("--subdomain", required=True)
    parser.add_argument("--drafts", type=int, default=0)
    parser.add_argument("--card-orders", type=int, default=0)
    parser.add_argument("--ids", default="")
    args = parser.parse_args(argv)
    _setup()
    if args.action == "seed":
        seed(args.subdomain, args.drafts, args.card_orders)
    elif args.action == "draft-ids":
        draft_ids(args.subdomain)
    elif args.action == "session-ids":
        session_ids(args.subdomain)
    elif args.action == "issue":
        issue(args.subdomain, [int(i) for i in args.ids.split(",") if i])
    else:
        check(args.subdomain)


if __name__ == "__main__":
    main()
