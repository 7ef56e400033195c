from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import connection

from catalog.services.stock import stock_audit


class Command(BaseCommand):
    help = ("Check that every stock level equals the sum of its movements and is never negative. "
            "Run per shop: `manage.py tenant_command stock_audit --schema=<schema>`, or "
            "`all_tenants_command stock_audit`. Exits 1 when something is wrong.")

    def handle(self, *args, **opts):
        problems = stock_audit()
        for problem in problems:
            self.stdout.write(f"{connection.schema_name}: {problem}")
        if problems:
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"{connection.schema_name}: stock ledger consistent"))
