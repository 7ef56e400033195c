"""What an invoice or a credit note says, computed once and shared by its PDF and its CII XML,
so the two can never disagree: the lines with their net unit price and VAT category, the VAT
breakdown per rate, the totals, what was already paid and what is due.

Every amount comes from the stored, rounded lines (`InvoiceLine.net` / `.vat`): the totals are
their sums, and a document whose stored totals differ from its lines is refused rather than
printed with figures that do not add up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from billing.errors import BillingError
from billing.models import Invoice, InvoiceLine, Payment, PaymentStatus
from billing.services.invoices import seller_snapshot

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# Net unit prices after a discount keep up to six decimals (EN 16931 allows more than two on
# prices; amounts stay at two).
PRICE_EXPONENT = Decimal("0.000001")

STANDARD, ZERO_RATED, EXEMPT = "S", "Z", "E"
# Franchise en base de TVA: the mention the law asks for, and its VATEX code.
FRANCHISE_REASON = "TVA non applicable, art. 293 B du CGI"
FRANCHISE_CODE = "VATEX-FR-FRANCHISE"

# Catalog units -> UN/ECE Recommendation 20 codes (what e-invoices carry).
UNIT_CODES = {"unit": "C62", "kg": "KGM", "m": "MTR", "m2": "MTK", "hour": "HUR",
              "day": "DAY"}


class DocumentError(BillingError):
    """A document cannot be made (a draft asked for its e-invoice, totals that do not add up)."""


@dataclass(frozen=True)
class LineFacts:
    line: InvoiceLine
    position: int
    net_price: Decimal          # unit price after the line's discounts, excl. VAT
    category: str
    unit_code: str

    @property
    def has_discount(self) -> bool:
        return bool(self.line.discount_percent or self.line.extra_discount_percent)


@dataclass(frozen=True)
class VatRow:
    rate: Decimal
    category: str
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceFacts:
    invoice: Invoice
    seller: dict
    buyer: dict
    lines: list[LineFacts]
    vat_rows: list[VatRow]
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    prepaid: Decimal
    due: Decimal
    franchise: bool = False

    @property
    def type_code(self) -> str:
        return "381" if self.invoice.is_credit_note else "380"


def net_price(line: InvoiceLine) -> Decimal:
    price = (line.unit_net * (HUNDRED - line.discount_percent) / HUNDRED
             * (HUNDRED - line.extra_discount_percent) / HUNDRED)
    return price.quantize(PRICE_EXPONENT, rounding=ROUND_HALF_UP).normalize()


def prepaid_at_issue(invoice: Invoice) -> Decimal:
    """Money received on the invoice by the time it was issued (a card-paid order is invoiced
    after its payment). Later payments are receipts, not part of the invoice: the document
    says the same whenever it is first made."""
    if invoice.is_credit_note or invoice.issued_at is None:
        return ZERO
    paid = (Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED,
                                   succeeded_at__lte=invoice.issued_at)
            .aggregate(total=Sum("amount"))["total"]) or ZERO
    return min(paid, invoice.gross_total)


def invoice_facts(invoice: Invoice) -> InvoiceFacts:
    lines = list(invoice.lines.all())
    if not lines:
        raise DocumentError(f"{invoice.reference} has no lines.")
    franchise = all(line.tax_rate == 0 for line in lines)

    def category(rate: Decimal) -> str:
        if franchise:
            return EXEMPT
        return STANDARD if rate > 0 else ZERO_RATED

    line_facts = [LineFacts(line=line, position=index, net_price=net_price(line),
                            category=category(line.tax_rate),
                            unit_code=UNIT_CODES.get(line.unit, "C62"))
                  for index, line in enumerate(lines, start=1)]
    bases: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    taxes: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        bases[line.tax_rate] += line.net
        taxes[line.tax_rate] += line.vat
    vat_rows = [VatRow(rate=rate, category=category(rate), base=bases[rate], vat=taxes[rate])
                for rate in sorted(bases)]
    net_total = sum((row.base for row in vat_rows), ZERO)
    vat_total = sum((row.vat for row in vat_rows), ZERO)
    gross_total = net_total + vat_total
    if (net_total, vat_total, gross_total) != (invoice.net_total, invoice.vat_total,
                                               invoice.gross_total):
        raise DocumentError(
            f"{invoice.reference}: the lines add up to {net_total} + {vat_total} = "
            f"{gross_total}, the document says {invoice.net_total} + {invoice.vat_total} = "
            f"{invoice.gross_total}. It is not printed with figures that disagree.")
    prepaid = prepaid_at_issue(invoice)
    seller = invoice.seller or seller_snapshot()  # a draft's seller is taken when it is issued
    return InvoiceFacts(invoice=invoice, seller=seller, buyer=invoice.buyer or {},
                        lines=line_facts, vat_rows=vat_rows, net_total=net_total,
                        vat_total=vat_total, gross_total=gross_total, prepaid=prepaid,
                        due=gross_total - prepaid, franchise=franchise)
