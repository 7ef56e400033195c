"""Totals: Decimal, rounded per line (ROUND_HALF_UP), discounts per line and global, VAT broken
down per rate; property-tested with hypothesis."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.pricing import Line, line_totals, totals

RATES = [Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("2.10"), Decimal("0")]
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
quantity = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3)
percent = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
lines = st.lists(st.builds(Line, unit_net=money, quantity=quantity,
                           rate_percent=st.sampled_from(RATES), discount_percent=percent,
                           extra_discount_percent=percent), min_size=0, max_size=12)


def test_a_known_invoice_adds_up_like_an_accountant_would():
    result = totals([
        Line(unit_net=Decimal("19.99"), quantity=Decimal("3"), rate_percent=Decimal("20")),
        Line(unit_net=Decimal("7.35"), quantity=Decimal("2"), rate_percent=Decimal("5.5"),
             discount_percent=Decimal("10")),
        Line(unit_net=Decimal("100"), quantity=Decimal("1"), rate_percent=Decimal("20"),
             extra_discount_percent=Decimal("5")),
    ])
    # 59.97 + 95.00 at 20 % -> 154.97, VAT 11.99 + 19.00; 13.23 at 5.5 % -> VAT 0.73
    assert result.vat_by_rate == {Decimal("5.5"): (Decimal("13.23"), Decimal("0.73")),
                                  Decimal("20"): (Decimal("154.97"), Decimal("30.99"))}
    assert (result.net, result.vat, result.gross) == (Decimal("168.20"), Decimal("31.72"),
                                                      Decimal("199.92"))


def test_half_a_cent_rounds_up():
    assert line_totals(Line(unit_net=Decimal("0.125"), quantity=Decimal("1"),
                            rate_percent=Decimal("0"))).net == Decimal("0.13")


@settings(max_examples=200, deadline=None)
@given(lines)
def test_totals_are_sums_of_rounded_lines_and_the_breakdown_adds_up(items):
    result = totals(items)
    per_line = [line_totals(item) for item in items]
    assert result.net == sum((t.net for t in per_line), Decimal("0"))
    assert result.vat == sum((t.vat for t in per_line), Decimal("0"))
    assert result.gross == result.net + result.vat
    assert sum((base for base, _vat in result.vat_by_rate.values()), Decimal("0")) == result.net
    assert sum((vat for _base, vat in result.vat_by_rate.values()), Decimal("0")) == result.vat
    for amount in (result.net, result.vat, result.gross):
        assert isinstance(amount, Decimal) and amount == amount.quantize(Decimal("0.01"))


@settings(max_examples=200, deadline=None)
@given(money, quantity, st.sampled_from(RATES), percent, percent)
def test_a_line_is_rounded_once_half_up_and_discounts_never_raise_it(unit, qty, rate, d1, d2):
    exact = unit * qty * (100 - d1) / 100 * (100 - d2) / 100
    result = line_totals(Line(unit_net=unit, quantity=qty, rate_percent=rate,
                              discount_percent=d1, extra_discount_percent=d2))
    assert result.net == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert result.net <= (unit * qty).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert result.vat == (result.net * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
