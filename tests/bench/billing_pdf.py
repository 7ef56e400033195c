"""Invoice PDF generation time (issue 5 benchmark): the median time to make one issued
invoice's Factur-X PDF (CII XML built and checked against the XSD and EN 16931 sums, HTML
rendered by WeasyPrint to PDF/A-3, XML embedded by factur-x), in process, one after another.

    DATABASE_URL=... python -m tests.bench.billing_pdf [--samples 30] [--subdomain big]

`pdf_generation_ms(samples)` is what the billing benchmark calls (Django set up, DATABASE_URL
pointing at a database with at least one active shop). The invoice it measures (8 lines, two
VAT rates, a company buyer) is made inside a transaction that is rolled back: the shop is left
as it was, and nothing is stored (the stored-file path only adds one file write).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal

WARMUP = 2  # untimed: the first renders load templates, fonts and the XSD


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("tests.bench.billing_pdf refuses to run without DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _shop(subdomain: str | None):
    from django.conf import settings

    from tenants.models import Domain, Shop, ShopStatus

    if subdomain:
        return Domain.objects.select_related("tenant").get(
            domain__startswith=f"{subdomain}.").tenant
    shop = (Shop.objects.filter(status=ShopStatus.ACTIVE)
            .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("pk").first())
    if shop is None:
        sys.exit("no active shop in this database: seed one first")
    return shop


def _invoice():
    """An issued invoice like a small business's: 8 lines, 20 % and 5.5 %, a company buyer."""
    from billing.services.invoices import invoice_create, invoice_issue
    from sales.models import Address, Customer
    from sales.services.orders import LineInput

    buyer = Customer.objects.create(
        kind="company", company_name="Bench Industries", first_name="Jeanne",
        last_name="Martin", email="bench-pdf@example.test", vat_number="FR40303265045",
        company_id="30326504500014")
    Address.objects.create(customer=buyer, full_name="Jeanne Martin", line1="8 quai des Chartrons",
                           postal_code="33000", city="Bordeaux", is_default_billing=True)
    lines = [LineInput(name=f"Item {i} — a description of reasonable length", sku=f"SKU-{i:03d}",
                       quantity=Decimal("0.333") if i == 3 else Decimal(i),
                       unit_net=Decimal("19.99") + i, tax_rate=Decimal("5.5" if i % 3 else "20"),
                       discount_percent=Decimal("10") if i == 5 else Decimal("0"))
             for i in range(1, 9)]
    invoice = invoice_create(customer=buyer, by=None, title="Benchmark invoice", lines=lines)
    return invoice_issue(invoice=invoice, by=None, check_role=False)


def _timed(make, samples: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per call. CPU time says what the work costs when other
    processes share the machine (wall time then includes waiting for a core)."""
    for _ in range(WARMUP):
        make()
    wall, cpu = [], []
    for _ in range(samples):
        began, began_cpu = time.perf_counter(), time.process_time()
        make()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return wall, cpu


def pdf_generation_ms(samples: int = 30, subdomain: str | None = None) -> dict:
    """Median (and spread) of `samples` invoice PDF generations, Factur-X included; also the
    share of the CII XML alone. Milliseconds."""
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from billing.documents import invoice_pdf, invoice_xml

    shop = _shop(subdomain)
    legal = {"legal_name": "Bench SAS", "legal_form": "SAS", "share_capital": "10 000 €",
             "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
             "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
             "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
             "bic": "BNPAFRPPXXX"}
    with schema_context(shop.schema_name), transaction.atomic():
        type(shop).objects.filter(pk=shop.pk).update(**legal)  # rolled back below
        for key, value in legal.items():
            setattr(shop, key, value)
        connection.tenant = shop
        invoice = _invoice()
        size = len(invoice_pdf(invoice))
        pdf, pdf_cpu = _timed(lambda: invoice_pdf(invoice), samples)
        xml, _xml_cpu = _timed(lambda: invoice_xml(invoice), samples)
        transaction.set_rollback(True)
    return {
        "samples": samples,
        "lines": 8,
        "bytes": size,
        "median_ms": round(statistics.median(pdf), 1),
        "p90_ms": round(statistics.quantiles(pdf, n=10)[-1], 1) if samples >= 2 else pdf[0],
        "min_ms": round(min(pdf), 1),
        "max_ms": round(max(pdf), 1),
        "cpu_median_ms": round(statistics.median(pdf_cpu), 1),
        "xml_median_ms": round(statistics.median(xml), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }


def table_row(result: dict) -> str:
    return (f"| Invoice PDF, Factur-X (PDF/A-3 + CII XML), {result['lines']} lines "
            f"| {result['median_ms']:.0f} ms median (p90 {result['p90_ms']:.0f} ms; CPU "
            f"{result['cpu_median_ms']:.0f} ms; XML alone {result['xml_median_ms']:.0f} ms; "
            f"{result['samples']} runs, load {result['load_average']}) |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.billing_pdf")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--subdomain", default=None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    _setup()
    result = pdf_generation_ms(args.samples, subdomain=args.subdomain)
    print(json.dumps(result) if args.json else table_row(result), flush=True)


if __name__ == "__main__":
    main()
