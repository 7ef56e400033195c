"""Reads of billing shared by the dashboard, the storefront account and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import (
    PAYABLE,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from sales.models import NumberSequence, OrderStatus
from streams.selectors import events_of

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
    """The document's events (its timeline), newest first, with who acted."""
    return events_of(invoice).select_related("actor")


def payments_of(invoice: Invoice) -> QuerySet[Payment]:
    return invoice.payments.prefetch_related("refunds").order_by("-created_at", "-id")


def invoices_for_customer(customer) -> QuerySet[Invoice]:
    """What a customer sees: issued invoices and credit notes, never drafts."""
    return (Invoice.objects.filter(customer=customer).exclude(status=InvoiceStatus.DRAFT)
            .order_by("-issue_date", "-id"))


def invoice_get_for_customer(*, customer, pk: int) -> Invoice | None:
    return (Invoice.objects.filter(customer=customer, pk=pk).exclude(status=InvoiceStatus.DRAFT)
            .prefetch_related("lines").first())


# Stripe keeps a Checkout page open 24 hours: within that, asking to pay again sends the
# customer back to the same page (one page, one possible charge) instead of making another.
CHECKOUT_REUSE = timedelta(hours=23)


def card_payment_open(*, order=None, invoice: Invoice | None = None) -> Payment | None:
    """The card payment still waiting on its Stripe page for this order or invoice, for the
    amount owed now (a payment recorded meanwhile changes it), if recent enough to reuse.
    None once the order or invoice no longer waits for a payment."""
    if invoice is not None and (invoice.status not in PAYABLE or invoice.balance <= 0):
        return None
    if invoice is None and (order.status != OrderStatus.PENDING
                            or order.payments.filter(status=PaymentStatus.SUCCEEDED).exists()):
        return None
    qs = Payment.objects.filter(method=PaymentMethod.CARD, status=PaymentStatus.PENDING,
                                created_at__gte=timezone.now() - CHECKOUT_REUSE)
    qs = qs.exclude(checkout_url="")
    if invoice is not None:
        qs = qs.filter(invoice=invoice, amount=invoice.balance)
    else:
        qs = qs.filter(order=order, invoice__isnull=True, amount=order.gross_total)
    return qs.order_by("-created_at", "-id").first()


def payment_get_for_visitor(*, pk: int, customer, guest_numbers=()) -> Payment | None:
    """A card payment the visitor started: one of a registered customer's, or one for an order
    a guest placed in this session (its number kept in the session). None for anyone else's."""
    owner = Q(order__number__in=list(guest_numbers))
    if customer is not None:
        owner |= Q(customer=customer)
    return (Payment.objects.select_related("order", "invoice", "customer")
            .filter(owner, pk=pk, method=PaymentMethod.CARD).first())


def credit_notes_of(invoice: Invoice) -> QuerySet[Invoice]:
    """The issued credit notes that correct an invoice."""
    return (invoice.credit_notes.exclude(status=InvoiceStatus.DRAFT)
            .order_by("issue_date", "id"))


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


# What can be done to an invoice, in button order, with the role each needs. Drafts are edited
# and deleted; issued documents are only paid, credited or (the system) settled.
INVOICE_ACTIONS = {
    "issue": ["billing.issue_invoice"],
    "record_payment": ["billing.record_payment"],
    "credit_note": ["billing.add_invoice", "billing.issue_invoice"],
    "update": ["billing.change_invoice"],
    "delete": ["billing.delete_invoice"],
}


def invoice_action_possible(invoice: Invoice, action: str) -> bool:
    """Whether the document's state allows `action` now (whoever asks)."""
    is_invoice = not invoice.is_credit_note
    if action in ("issue", "update", "delete"):
        return invoice.status == InvoiceStatus.DRAFT
    if action == "record_payment":
        return is_invoice and invoice.status in PAYABLE and invoice.balance > 0
    if action == "credit_note":
        # Only what is still owed can be credited: money received goes back through a refund
        # of its payment, which makes its own credit note.
        return is_invoice and invoice.status != InvoiceStatus.DRAFT and invoice.balance > 0
    return False


def invoice_actions(invoice: Invoice, user) -> list[str]:
    """The actions this user may run on the invoice now, in button order."""
    return [name for name, perms in INVOICE_ACTIONS.items()
            if invoice_action_possible(invoice, name)
            and (user is None or user.has_perms(perms))]


def payments_filtered(*, status: str = "", method: str = "", invoice: int | None = None,
                      order: int | None = None, customer: int | None = None,
                      sort: str = "-created_at") -> QuerySet[Payment]:
    """Payments for staff lists, newest first, with what a row shows joined in."""
    qs = Payment.objects.select_related("customer", "invoice", "order")
    if status in PaymentStatus.values:
        qs = qs.filter(status=status)
    if method in PaymentMethod.values:
        qs = qs.filter(method=method)
    if invoice:
        qs = qs.filter(invoice_id=invoice)
    if order:
        qs = qs.filter(order_id=order)
    if customer:
        qs = qs.filter(customer_id=customer)
    return qs.order_by(sort, "-id")


def payment_get(*, pk: int) -> Payment | None:
    return (Payment.objects.select_related("customer", "invoice", "order")
            .prefetch_related("refunds__credit_note").filter(pk=pk).first())
