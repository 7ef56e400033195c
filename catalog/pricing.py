"""Money and VAT arithmetic shared by catalog, sales and billing (DESIGN: Money, tax).

Decimal everywhere, quantised per currency with ROUND_HALF_UP per line; totals are sums of
lines; VAT is broken down per rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# Currencies without minor units would quantise to Decimal("1"); EUR is what we sell in now.
# How a price is signed on pages: the code itself when there is no common symbol.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "JPY": "¥"}
CURRENCY_EXPONENT = {"EUR": CENT, "USD": CENT, "GBP": CENT, "CHF": CENT, "JPY": Decimal("1")}


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency, currency)


def quantize(amount: Decimal, currency: str = "EUR") -> Decimal:
    return Decimal(amount).quantize(CURRENCY_EXPONENT.get(currency, CENT), rounding=ROUND_HALF_UP)


def gross(net: Decimal, rate_percent: Decimal, currency: str = "EUR") -> Decimal:
    """Price including VAT for one unit, rounded per currency."""
    return quantize(net * (HUNDRED + rate_percent) / HUNDRED, currency)


def vat(net: Decimal, rate_percent: Decimal, currency: str = "EUR") -> Decimal:
    return quantize(net * rate_percent / HUNDRED, currency)


@dataclass(frozen=True)
class Line:
    unit_net: Decimal
    quantity: Decimal
    rate_percent: Decimal
    discount_percent: Decimal = ZERO
    # A document-wide discount (a quote's global discount), applied to each line so the VAT
    # base per rate stays exact.
    extra_discount_percent: Decimal = ZERO


@dataclass(frozen=True)
class LineTotals:
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_by_rate: dict[Decimal, tuple[Decimal, Decimal]]  # rate -> (net base, vat)


def line_totals(line: Line, currency: str = "EUR") -> LineTotals:
    net = quantize(line.unit_net * line.quantity * (HUNDRED - line.discount_percent) / HUNDRED
                   * (HUNDRED - line.extra_discount_percent) / HUNDRED, currency)
    line_vat = vat(net, line.rate_percent, currency)
    return LineTotals(net=net, vat=line_vat, gross=net + line_vat)


def totals(lines: Iterable[Line], currency: str = "EUR") -> Totals:
    """Sums of rounded lines; the VAT breakdown per rate adds up to the VAT total."""
    base: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    taxes: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        t = line_totals(line, currency)
        base[line.rate_percent] += t.net
        taxes[line.rate_percent] += t.vat
    net = sum(base.values(), ZERO)
    total_vat = sum(taxes.values(), ZERO)
    return Totals(net=net, vat=total_vat, gross=net + total_vat,
                  vat_by_rate={rate: (base[rate], taxes[rate]) for rate in sorted(base)})
