"""Invoice numbers under real concurrency: 8 processes issue 400 invoices of one shop at once
(numbers 1..400, no gap, no duplicate) while 2 more issue another shop's invoices, which are
numbered on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Invoice, InvoiceLine, InvoiceStatus
from sales.models import Customer
from tenants.models import Shop
from tenants.services import shop_create_pooled

ROOT = Path(__file__).resolve().parents[2]
LEGAL = {"legal_name": "Race SAS", "siren": "732829320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris"}
WORKER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django_tenants.utils import schema_context
from billing.models import Invoice
from billing.services.invoices import invoice_issue
schema, ids = sys.argv[1], [int(i) for i in sys.argv[2].split(",")]
with schema_context(schema):
    for pk in ids:
        invoice_issue(invoice=Invoice(pk=pk), by=None)
print("issued", len(ids))
"""


def _database_url() -> str:
    """The test database as a URL for the worker processes. The embedded server is reached by a
    socket folder that dj-database-url keeps in OPTIONS["host"], not in HOST."""
    db = connection.settings_dict
    socket = db.get("OPTIONS", {}).get("host")
    host = "" if socket else (db.get("HOST") or "localhost")
    netloc = quote(host, safe="") if host.startswith("/") else host
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{quote(db['PASSWORD'], safe='')}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = f"?host={quote(socket, safe='')}" if socket else ""
    return f"postgres://{auth}@{netloc}{port}/{db['NAME']}{query}"


def _drafts(shop: Shop, count: int) -> list[int]:
    Shop.objects.filter(pk=shop.pk).update(**LEGAL)
    with schema_context(shop.schema_name):
        buyer = Customer.objects.create(email="buyer@example.test", last_name="Buyer")
        invoices = Invoice.objects.bulk_create(
            [Invoice(customer=buyer, net_total=Decimal("10.00"), vat_total=Decimal("2.00"),
                     gross_total=Decimal("12.00")) for _ in range(count)])
        InvoiceLine.objects.bulk_create(
            [InvoiceLine(invoice=invoice, name="Item", quantity=1, unit_net=Decimal("10.00"),
                         tax_rate=Decimal("20.00"), net=Decimal("10.00"), vat=Decimal("2.00"),
                         gross=Decimal("12.00")) for invoice in invoices])
        return [invoice.pk for invoice in invoices]


def test_eight_processes_issue_four_hundred_invoices_without_gap_or_duplicate(committed):
    shop, other = shop_create_pooled(), shop_create_pooled()
    ids, other_ids = _drafts(shop, 400), _drafts(other, 60)
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "1", "LOG_LEVEL": "WARNING"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, shop.schema_name,
                                 ",".join(map(str, ids[n::8]))], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(8)]
    workers += [subprocess.Popen([sys.executable, "-c", WORKER, other.schema_name,
                                  ",".join(map(str, other_ids[n::2]))], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for n in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err[-2000:]

    year = timezone.localdate().year
    with schema_context(shop.schema_name):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        assert numbers == [f"F-{year}-{n:05d}" for n in range(1, 401)]
        assert not Invoice.objects.exclude(status=InvoiceStatus.ISSUED).exists()
    with schema_context(other.schema_name):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        assert numbers == [f"F-{year}-{n:05d}" for n in range(1, 61)], "each shop its own"
