"""Quotes and order confirmations as PDFs: the same look as invoices, their own mentions.
Plain PDFs made on each download (they are not legal archives, and a quote may still change)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from billing.documents.context import (
    address_party,
    buyer_party,
    line_rows,
    seller_party,
    totals_rows,
    vat_rows,
)
from billing.documents.invoices import current_shop
from billing.documents.rendering import day, moment, money, render_pdf
from billing.services.invoices import buyer_snapshot, seller_snapshot
from sales.models import Order, OrderStatus, PaymentMethod, Quote, QuoteStatus

# States in which the paper is not (or no longer) an offer or a commitment: said across it.
QUOTE_WATERMARKS = {QuoteStatus.DRAFT, QuoteStatus.CANCELLED, QuoteStatus.SUPERSEDED,
                    QuoteStatus.EXPIRED, QuoteStatus.DECLINED}


def _vat_breakdown(summary, currency: str):
    return vat_rows(((rate, base, vat) for rate, (base, vat) in summary.vat_by_rate.items()),
                    currency)


def _common(shop, *, kind: str, reference: str, customer, order: Order | None = None) -> dict:
    seller = seller_snapshot(shop)
    return {
        "kind": kind,
        "reference": reference,
        "seller": seller_party(seller),
        "buyer": buyer_party(buyer_snapshot(customer, order)),
        "pdf_title": f"{kind} {reference}",
        "author": seller.get("legal_name") or seller.get("name") or "",
    }


def quote_pdf(quote: Quote) -> bytes:
    """The quote as the customer reads it: lines, totals and VAT per rate, validity, terms, and
    the acceptance: a signature area while it is open, the record once accepted."""
    shop = current_shop()
    with translation.override(shop.locale):
        lines = list(quote.lines.all())
        summary = quote.compute_totals(lines)
        currency = quote.currency
        context = _common(shop, kind=_("Quote"), reference=quote.reference,
                          customer=quote.customer)
        details = [(_("Date"), day(quote.sent_at or quote.created_at)),
                   (_("Valid until"), day(quote.valid_until))]
        if quote.revision > 1:
            details.append((_("Revision"), str(quote.revision)))
        totals = totals_rows(summary.net, summary.vat, summary.gross, currency)
        accepted = None
        if quote.accepted_at:
            accepted = (_("Accepted by %(name)s on %(when)s.")
                        % {"name": quote.accepted_name, "when": moment(quote.accepted_at)})
        context.update({
            "details": details,
            "lines": line_rows(lines, currency, extra_discount=quote.discount_percent),
            "show_discount": bool(quote.discount_percent)
            or any(line.discount_percent for line in lines),
            "vat_rows": _vat_breakdown(summary, currency),
            "totals": totals,
            "watermark": quote.get_status_display() if quote.status in QUOTE_WATERMARKS else "",
            "validity": _("This quote is valid until %(date)s.") % {"date": day(quote.valid_until)},
            "terms": quote.terms,
            "notes": quote.notes,
            "accepted": accepted,
            "signature": quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT),
        })
        return render_pdf("billing/pdf/quote.html", context, lang=shop.locale)


def order_confirmation_pdf(order: Order) -> bytes:
    """The order as placed: lines, shipping, totals and VAT per rate, addresses, how to pay
    (the shop's bank details for a transfer)."""
    shop = current_shop()
    with translation.override(shop.locale):
        lines = list(order.lines.all())
        summary = order.compute_totals(lines)
        currency = order.currency
        context = _common(shop, kind=_("Order confirmation"), reference=order.number,
                          customer=order.customer, order=order)
        rows = line_rows(lines, currency, extra_discount=order.discount_percent)
        if order.shipping_name:
            rows += line_rows([_ShippingLine.of(order)], currency, extra_discount=Decimal("0"))
        seller = seller_snapshot(shop)
        bank = None
        if order.payment_method == PaymentMethod.BANK_TRANSFER and seller.get("iban"):
            bank = {"iban": seller["iban"], "bic": seller.get("bic", "")}
        context.update({
            "details": [(_("Order date"), day(order.placed_at)),
                        (_("Payment method"), order.get_payment_method_display()),
                        (_("Shipping"), order.shipping_name)],
            "lines": rows,
            "show_discount": bool(order.discount_percent)
            or any(line.discount_percent for line in lines),
            "vat_rows": _vat_breakdown(summary, currency),
            "totals": totals_rows(summary.net, summary.vat, summary.gross, currency),
            "watermark": (order.get_status_display() if order.status == OrderStatus.CANCELLED
                          else ""),
            "shipping_address": (address_party(_("Delivery address"), order.shipping_address)
                                 if order.shipping_address else None),
            "bank": bank,
            "amount_to_pay": money(summary.gross, currency),
            "notes": order.customer_note,
        })
        return render_pdf("billing/pdf/order.html", context, lang=shop.locale)


@dataclass(frozen=True)
class _ShippingLine:
    """The order's shipping as one more line of the table (free shipping shows at 0)."""

    name: str
    unit_net: Decimal
    tax_rate: Decimal
    sku: str = ""
    quantity: Decimal = Decimal("1")
    unit: str = "unit"
    discount_percent: Decimal = Decimal("0")

    @property
    def net(self) -> Decimal:
        return self.unit_net

    @classmethod
    def of(cls, order: Order) -> _ShippingLine:
        return cls(name=_("Shipping: %(name)s") % {"name": order.shipping_name},
                   unit_net=order.shipping_net, tax_rate=order.shipping_tax_rate)
