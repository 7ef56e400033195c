"""Staff downloads of documents (under /documents/): invoices and credit notes (the stored
Factur-X PDF, or a draft's watermarked preview), their CII XML, quotes and order
confirmations. Customers download their own invoices from their account pages, which call
`billing.documents.invoice_pdf_file` the same way."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing.documents import (
    DocumentError,
    InvalidEInvoice,
    invoice_pdf_file,
    invoice_preview_pdf,
    invoice_xml_file,
    order_confirmation_pdf,
    quote_pdf,
)
from billing.selectors import invoice_get
from sales.selectors import order_get, quote_get
from tenants.accounts.views import staff_required

logger = logging.getLogger(__name__)


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Personal data: kept by the person who downloads it, never by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _refused(exc: DocumentError) -> HttpResponse:
    return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")


def _failed(invoice) -> HttpResponse:
    # A document that fails its own checks is never served: a bug to fix, logged with its trace.
    logger.exception("the e-invoice of %s failed its checks", invoice.reference)
    return HttpResponse(_("This document failed its checks and is not served; the error was "
                          "logged. Try again later."), status=503,
                        content_type="text/plain; charset=utf-8")


def _invoice_or_404(pk: int):
    invoice = invoice_get(pk=pk)
    if invoice is None:
        raise Http404(_("No such invoice."))
    return invoice


@require_GET
@staff_required("billing.view_invoice")
def invoice_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    try:
        if invoice.is_draft:
            kind = "credit-note" if invoice.is_credit_note else "invoice"
            return download(invoice_preview_pdf(invoice), f"draft-{kind}-{invoice.pk}.pdf",
                            "application/pdf")
        return download(invoice_pdf_file(invoice), f"{invoice.number}.pdf", "application/pdf")
    except DocumentError as exc:
        return _refused(exc)
    except InvalidEInvoice:
        return _failed(invoice)


@require_GET
@staff_required("billing.view_invoice")
def invoice_xml_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    if invoice.is_draft:
        raise Http404(_("A draft has no e-invoice yet: it gets one when it is issued."))
    try:
        return download(invoice_xml_file(invoice), f"{invoice.number}.xml",
                        "application/xml; charset=utf-8")
    except DocumentError as exc:
        return _refused(exc)
    except InvalidEInvoice:
        return _failed(invoice)


@require_GET
@staff_required("sales.view_quote")
def quote_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_get(pk=pk)
    if quote is None:
        raise Http404(_("No such quote."))
    return download(quote_pdf(quote), f"{quote.reference}.pdf", "application/pdf")


@require_GET
@staff_required("sales.view_order")
def order_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_get(pk=pk)
    if order is None:
        raise Http404(_("No such order."))
    return download(order_confirmation_pdf(order), f"{order.number}.pdf", "application/pdf")
