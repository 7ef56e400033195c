"""The customer's invoices and credit notes in their storefront account (namespace
`billing_account`, under /account/invoices/): the list, one document with its lines, VAT per
rate and payments, its PDF, and "Pay now" (card) for what is still owed.

Every document is read through the customer's fetcher (billing.selectors
`invoice_get_for_customer`): another customer's invoice, or a draft, is a 404 whatever id is
typed.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from billing.documents import InvalidEInvoice, invoice_pdf_file
from billing.models import Invoice, PaymentStatus
from billing.selectors import (
    credit_notes_of,
    invoice_get_for_customer,
    invoices_for_customer,
    payments_of,
)
from billing.views.documents import download
from catalog.pricing import currency_symbol
from sales.models import Customer
from sales.views.account import customer_required
from tenants.pagination import paginate

logger = logging.getLogger(__name__)


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _invoice_or_404(customer: Customer, pk: int) -> Invoice:
    invoice = invoice_get_for_customer(customer=customer, pk=pk)
    if invoice is None:
        raise Http404(_("No such invoice."))
    return invoice


@require_safe
@customer_required
def invoice_list(request: HttpRequest, customer: Customer) -> HttpResponse:
    page = paginate(invoices_for_customer(customer), page=_page_number(request),
                    query=request.GET)
    context = {"page": page, "section": "invoices",
               "currency_symbol": currency_symbol(getattr(request.tenant, "currency", "EUR"))}
    return render(request, "billing/account/invoices.html", context)


@require_safe
@customer_required
def invoice_detail(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(customer, pk)
    lines = list(invoice.lines.all())
    payments = [p for p in payments_of(invoice) if p.status == PaymentStatus.SUCCEEDED]
    context = {
        "invoice": invoice, "lines": lines, "totals": invoice.compute_totals(lines),
        "payments": payments,
        "credit_notes": list(credit_notes_of(invoice)) if not invoice.is_credit_note else [],
        "can_pay_by_card": invoice.balance > 0 and request.tenant.accepts_cards,
        "currency_symbol": currency_symbol(invoice.currency), "section": "invoices",
    }
    return render(request, "billing/account/invoice_detail.html", context)


@require_safe
@customer_required
def invoice_pdf(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(customer, pk)
    try:
        content = invoice_pdf_file(invoice)
    except InvalidEInvoice:
        # A document that fails its own checks is never served (a bug to fix, logged): the
        # customer is told to come back rather than shown an error page.
        logger.exception("the PDF of %s failed its checks", invoice.reference)
        response = render(request, "billing/account/pdf_unavailable.html",
                          {"invoice": invoice, "section": "invoices"}, status=503)
        response["Retry-After"] = "3600"
        return response
    return download(content, f"{invoice.number}.pdf", "application/pdf")
