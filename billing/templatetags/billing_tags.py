"""Template helpers for pages of other apps that show billing facts (the sales order page)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing.models import DocumentKind, InvoiceStatus

register = template.Library()
HUNDRED = Decimal("100")


@register.simple_tag
def order_share_left(order) -> Decimal:
    """What share of the order (%) is not invoiced yet (deposits, instalments, the whole)."""
    invoiced = sum((invoice.order_percent or 0 for invoice in order.invoices.all()
                    if invoice.kind == DocumentKind.INVOICE
                    and invoice.status != InvoiceStatus.CANCELLED), Decimal("0"))
    return max(HUNDRED - invoiced, Decimal("0"))
