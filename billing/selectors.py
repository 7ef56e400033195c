"""Reads of billing shared by the dashboard, the storefront account and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import PAYABLE, DocumentKind, Invoice, InvoiceStatus, Payment
from sales.models import NumberSequence

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
    if status == "unpaid":  # invoices waiting for money (a credit note owes nothing)
        qs = qs.filter(status__in=PAYABLE, kind=DocumentKind.INVOICE)
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


# ---------------------------------------------------------------------------------------------
# Dashboard: numbering preview and the home cards
# ---------------------------------------------------------------------------------------------
def next_document_numbers(settings) -> dict[str, str]:
    """The numbers the next invoice and credit note will take this year, with the current
    prefixes (a preview: the number is given when the document is issued)."""
    year = timezone.localdate().year
    keys = {f"{kind}-{year}": kind for kind in DocumentKind.values}
    last = dict(NumberSequence.objects.filter(key__in=list(keys)).values_list("key", "last"))
    prefixes = {DocumentKind.INVOICE: settings.invoice_prefix.strip() or "F",
                DocumentKind.CREDIT_NOTE: settings.credit_note_prefix.strip() or "A"}
    return {kind: f"{prefixes[kind]}-{year}-{last.get(key, 0) + 1:05d}"
            for key, kind in keys.items()}


@dataclass(frozen=True)
class BillingSummary:
    month_revenue: Decimal  # excl. VAT: invoices issued this month less credit notes
    previous_month_revenue: Decimal
    outstanding: Decimal  # incl. VAT, on invoices waiting for money
    outstanding_count: int
    overdue: Decimal
    overdue_count: int
    months: list[tuple[date, Decimal]]  # the last 6 months' revenue, oldest first


def _month_start(day: date, back: int = 0) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def billing_summary(today: date | None = None) -> BillingSummary:
    """The dashboard home's billing cards, in two queries whatever the number of invoices."""
    today = today or timezone.localdate()
    first = _month_start(today, 5)
    sign = Case(When(kind=DocumentKind.CREDIT_NOTE, then=Value(-1)), default=Value(1))
    by_month = dict(
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .filter(issue_date__gte=first, issue_date__lte=today)
        .annotate(month=TruncMonth("issue_date"))
        .values("month").annotate(net=Sum(F("net_total") * sign)).values_list("month", "net"))
    months = [(start, by_month.get(start) or ZERO)
              for start in (_month_start(today, back) for back in range(5, -1, -1))]
    owed = F("gross_total") - F("amount_paid") - F("amount_credited")
    payable = Q(kind=DocumentKind.INVOICE, status__in=PAYABLE)
    overdue = Q(kind=DocumentKind.INVOICE, status=InvoiceStatus.OVERDUE)
    sums = Invoice.objects.aggregate(
        outstanding=Sum(owed, filter=payable), outstanding_count=Count("id", filter=payable),
        overdue=Sum(owed, filter=overdue), overdue_count=Count("id", filter=overdue))
    return BillingSummary(
        month_revenue=months[-1][1], previous_month_revenue=months[-2][1],
        outstanding=sums["outstanding"] or ZERO, outstanding_count=sums["outstanding_count"],
        overdue=sums["overdue"] or ZERO, overdue_count=sums["overdue_count"], months=months)
