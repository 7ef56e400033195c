"""Reads of billing shared by the dashboard, the storefront account and the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from billing.models import PAYABLE, DocumentKind, Invoice, InvoiceStatus, Payment

ZERO = Decimal("0.00")


def invoice_count() -> int:
    return Invoice.objects.filter(kind=DocumentKind.INVOICE).exclude(
        status=InvoiceStatus.DRAFT).count()


def invoices_for_dashboard(*, q: str = "", kind: str = "", status: str = "",
                           customer: int | None = None, date_from: date | None = None,
                           date_to: date | None = None, sort: str = "-created_at"
                           ) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("customer")
    if kind in DocumentKind.values:
        qs = qs.filter(kind=kind)
    if status == "unpaid":
        qs = qs.filter(status__in=PAYABLE)
    elif status in InvoiceStatus.values:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__last_name__icontains=q)
                       | Q(customer__company_name__icontains=q) | Q(customer__email__icontains=q)
                       | Q(title__icontains=q))
    if customer:
        qs = qs.filter(customer_id=customer)
    if date_from:
        qs = qs.filter(issue_date__gte=date_from)
    if date_to:
        qs = qs.filter(issue_date__lte=date_to)
    return qs.order_by(sort, "-id")


def invoice_sums(qs: QuerySet[Invoice]) -> dict[str, Decimal]:
    """Totals of a filtered list (one query): invoiced incl. VAT, paid, still owed."""
    sums = qs.aggregate(gross=Sum("gross_total"), paid=Sum("amount_paid"),
                        credited=Sum("amount_credited"))
    gross, paid, credited = (sums["gross"] or ZERO, sums["paid"] or ZERO,
                             sums["credited"] or ZERO)
    return {"gross": gross, "paid": paid, "outstanding": max(gross - paid - credited, ZERO)}


def invoice_get(*, pk: int) -> Invoice | None:
    return (Invoice.objects.select_related("customer", "order", "credited_invoice")
            .prefetch_related("lines").filter(pk=pk).first())


def invoice_history(invoice: Invoice) -> QuerySet:
    return invoice.events.select_related("by").order_by("-at", "-id")


def payments_of(invoice: Invoice) -> QuerySet[Payment]:
    return invoice.payments.prefetch_related("refunds").order_by("-created_at", "-id")


def invoices_for_customer(customer) -> QuerySet[Invoice]:
    """What a customer sees: issued invoices and credit notes, never drafts."""
    return (Invoice.objects.filter(customer=customer).exclude(status=InvoiceStatus.DRAFT)
            .order_by("-issue_date", "-id"))


def invoice_get_for_customer(*, customer, pk: int) -> Invoice | None:
    return (Invoice.objects.filter(customer=customer, pk=pk).exclude(status=InvoiceStatus.DRAFT)
            .prefetch_related("lines").first())
