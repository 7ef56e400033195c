"""Human-friendly document numbers, unique per shop and year: `C-2026-00042`.

The counter row is incremented with one UPDATE, which keeps it locked until the calling
transaction ends: two transactions never get the same number, and a rolled-back transaction
gives its number back (no gap). Never `max() + 1`.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

ORDER_PREFIX = "C"   # commande
QUOTE_PREFIX = "D"   # devis


def sequence_next(key: str) -> int:
    """The next value of counter `key`, locked until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction that uses the number")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sales_numbersequence (key, last) VALUES (%s, 1) "
            "ON CONFLICT (key) DO UPDATE SET last = sales_numbersequence.last + 1 "
            "RETURNING last",
            [key],
        )
        return cursor.fetchone()[0]


def document_number(prefix: str, *, kind: str, width: int = 5) -> str:
    year = timezone.localdate().year
    value = sequence_next(f"{kind}-{year}")
    return f"{prefix}-{year}-{value:0{width}d}"
