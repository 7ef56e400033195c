"""Shared by the billing dashboard pages: the document fetcher and titles. Formatting, list
links and partial answers come from the sales dashboard's helpers; the timeline is streams'
(`{% streams_panel invoice %}`, labels in billing/events.py)."""

from __future__ import annotations

from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from billing.models import Invoice
from billing.selectors import invoice_get


def invoice_or_404(pk: int) -> Invoice:
    """An invoice or credit note of this shop (each shop's schema holds only its own)."""
    invoice = invoice_get(pk=pk)
    if invoice is None:
        raise Http404(_("No such invoice."))
    return invoice


def document_title(invoice: Invoice) -> str:
    """“Invoice F-2026-00012”, “Draft credit note”."""
    if not invoice.number:
        return invoice.reference
    if invoice.is_credit_note:
        return _("Credit note %(number)s") % {"number": invoice.number}
    return _("Invoice %(number)s") % {"number": invoice.number}


def optional_url(name: str, *args) -> str:
    """A page built by another part of billing, if it exists in this deployment ("" if not)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
