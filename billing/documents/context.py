"""What the PDF templates print, as ready-made strings: parties, lines, VAT breakdown and
totals, formatted in the active language. Shared by invoices, quotes and order confirmations so
the three look the same and say things the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.documents.rendering import money, number
from catalog.models import Unit
from catalog.pricing import line_totals

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Party:
    heading: str
    name: str
    lines: list[str] = field(default_factory=list)
    identity: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LineRow:
    description: str
    sku: str
    quantity: str
    unit: str
    unit_price: str
    rate: str
    discount: str
    total: str


@dataclass(frozen=True)
class VatRow:
    rate: str
    base: str
    vat: str


@dataclass(frozen=True)
class TotalRow:
    label: str
    value: str
    strong: bool = False


def _country(code: str) -> str:
    # A French document for a French address needs no country line.
    return "" if not code or code.upper() == "FR" else code.upper()


def seller_party(seller: dict) -> Party:
    legal = seller.get("legal_name") or seller.get("name") or ""
    lines = [seller.get("address_line1", ""), seller.get("address_line2", ""),
             f"{seller.get('postal_code', '')} {seller.get('city', '')}".strip(),
             _country(seller.get("country", ""))]
    identity = []
    form_and_capital = " ".join(p for p in (
        seller.get("legal_form", ""),
        _("with a share capital of %(capital)s") % {"capital": seller["share_capital"]}
        if seller.get("share_capital") else "") if p)
    if form_and_capital:
        identity.append(form_and_capital)
    if seller.get("rcs"):
        identity.append(seller["rcs"])
    if seller.get("siren"):
        identity.append(f"SIREN {seller['siren']}")
    if seller.get("siret"):
        identity.append(f"SIRET {seller['siret']}")
    if seller.get("vat_number"):
        identity.append(_("VAT number %(number)s") % {"number": seller["vat_number"]})
    shop_name = seller.get("name") or ""
    name = legal if not shop_name or shop_name == legal else f"{shop_name} — {legal}"
    return Party(heading=_("Seller"), name=name, lines=[line for line in lines if line],
                 identity=identity)


def buyer_party(buyer: dict, *, heading: str | None = None) -> Party:
    """The customer, from a billing buyer snapshot (billing.services.invoices.buyer_snapshot)."""
    address = buyer.get("address") or {}
    business = bool(buyer.get("is_business"))
    name = (buyer.get("company_name") if business else "") or buyer.get("name") or ""
    lines = []
    contact = address.get("full_name", "")
    if contact and contact != name:
        lines.append(contact)
    if address.get("company") and address["company"] != name:
        lines.append(address["company"])
    lines += [address.get("line1", ""), address.get("line2", ""),
              f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
              _country(address.get("country", ""))]
    identity = []
    if business and buyer.get("company_id"):
        identity.append(_("SIREN / SIRET %(number)s") % {"number": buyer["company_id"]})
    if business and buyer.get("vat_number"):
        identity.append(_("VAT number %(number)s") % {"number": buyer["vat_number"]})
    return Party(heading=heading or _("Customer"), name=name,
                 lines=[line for line in lines if line], identity=identity)


def address_party(heading: str, address: dict) -> Party:
    lines = [address.get("company", ""), address.get("line1", ""), address.get("line2", ""),
             f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
             _country(address.get("country", ""))]
    return Party(heading=heading, name=address.get("full_name", ""),
                 lines=[line for line in lines if line])


def unit_label(unit: str) -> str:
    try:
        return str(Unit(unit).label)
    except ValueError:
        return unit


def discount_label(*percents: Decimal) -> str:
    return " + ".join(f"{number(p)}\xa0%" for p in percents if p)


def line_rows(lines: Iterable, currency: str, *, extra_discount: Decimal | None = None
              ) -> list[LineRow]:
    """Rows of document lines (quote, order or invoice lines). `extra_discount`: the document's
    global discount for quote and order lines (invoice lines carry their own)."""
    rows = []
    for line in lines:
        extra = (line.extra_discount_percent if extra_discount is None else extra_discount)
        total = getattr(line, "net", None)  # stored on invoice and order lines
        if total is None:
            total = line_totals(line.pricing_line(extra), currency).net
        rows.append(LineRow(
            description=line.name, sku=line.sku, quantity=number(line.quantity),
            unit=unit_label(line.unit), unit_price=money(line.unit_net, currency),
            rate=f"{number(line.tax_rate)}\xa0%",
            discount=discount_label(line.discount_percent, extra), total=money(total, currency)))
    return rows


def vat_rows(vat_by_rate: Iterable[tuple[Decimal, Decimal, Decimal]], currency: str
             ) -> list[VatRow]:
    return [VatRow(rate=f"{number(rate)}\xa0%", base=money(base, currency),
                   vat=money(vat, currency)) for rate, base, vat in vat_by_rate]


def totals_rows(net: Decimal, vat: Decimal, gross: Decimal, currency: str) -> list[TotalRow]:
    return [TotalRow(_("Total excl. VAT"), money(net, currency)),
            TotalRow(_("VAT"), money(vat, currency)),
            TotalRow(_("Total incl. VAT"), money(gross, currency), strong=True)]
