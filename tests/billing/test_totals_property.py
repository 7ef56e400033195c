"""Invoice totals exact to the cent for awkward rates and quantities (hypothesis): what is
stored is what catalog.pricing computes, every line adds up, and the VAT breakdown per rate
adds up to the totals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.services.invoices import invoice_create, invoice_issue
from sales.services.orders import LineInput
from tests.sales.factories import customer

pytestmark = pytest.mark.usefixtures("in_shop")
CENT = Decimal("0.01")
RATES = [Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("2.10"), Decimal("0.00")]
lines = st.lists(st.builds(
    LineInput, name=st.just("Item"),
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3),
    unit_net=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
    tax_rate=st.sampled_from(RATES),
    discount_percent=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
    extra_discount_percent=st.sampled_from([Decimal("0"), Decimal("5"), Decimal("12.5")]),
), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines)
def test_stored_totals_are_the_sum_of_rounded_lines_and_the_breakdown_adds_up(items):
    buyer = customer()
    invoice = invoice_issue(invoice=invoice_create(customer=buyer, lines=items, by=None),
                            by=None)
    rows = list(invoice.lines.all())
    for row, item in zip(rows, items, strict=True):
        exact = (item.unit_net * item.quantity * (100 - item.discount_percent) / 100
                 * (100 - item.extra_discount_percent) / 100)
        assert row.net == exact.quantize(CENT, rounding=ROUND_HALF_UP)
        assert row.vat == (row.net * row.tax_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        assert row.gross == row.net + row.vat
    assert invoice.net_total == sum((r.net for r in rows), Decimal("0"))
    assert invoice.vat_total == sum((r.vat for r in rows), Decimal("0"))
    assert invoice.gross_total == invoice.net_total + invoice.vat_total
    breakdown = invoice.compute_totals().vat_by_rate
    assert sum((base for base, _v in breakdown.values()), Decimal("0")) == invoice.net_total
    assert sum((vat for _b, vat in breakdown.values()), Decimal("0")) == invoice.vat_total
