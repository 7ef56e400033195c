"""Shared by the billing dashboard pages: the document fetcher, status labels, history rows.
Formatting, list links and partial answers come from the sales dashboard's helpers."""

from __future__ import annotations

from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Invoice, InvoiceStatus, PaymentMethod
from billing.selectors import invoice_get
from sales.views.dashboard.common import money

# What each history row says happened (verbs written by billing.services).
VERB_LABELS = {
    "created": gettext_lazy("Draft created"),
    "issue": gettext_lazy("Issued"),
    "payment": gettext_lazy("Payment received"),
    "credited": gettext_lazy("Credit note applied"),
    "refund": gettext_lazy("Refunded"),
    "overpaid": gettext_lazy("Paid more than owed"),
    "overdue": gettext_lazy("Overdue"),
    "reminder": gettext_lazy("Reminder sent"),
}
METHOD_LABELS = dict(PaymentMethod.choices)


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


def history_rows(entries, currency: str = "EUR") -> list[dict]:
    labels = dict(InvoiceStatus.choices)
    rows = []
    for entry in entries:
        data = entry.data or {}
        details = []
        if data.get("amount"):
            details.append(money(data["amount"], currency))
        if data.get("method"):
            details.append(str(METHOD_LABELS.get(data["method"], data["method"])))
        if entry.verb == "issue" and data.get("number"):
            details.append(data["number"])
        if data.get("credit_note"):
            details.append(_("credit note %(number)s") % {"number": data["credit_note"]})
        if data.get("days_late"):
            details.append(_("%(days)s days late") % {"days": data["days_late"]})
        rows.append({
            "what": VERB_LABELS.get(entry.verb, entry.verb),
            "who": entry.by.get_full_name() if entry.by_id else _("Automatic"),
            "at": entry.at, "from": labels.get(entry.from_status, ""),
            "to": labels.get(entry.to_status, ""), "message": entry.message,
            "detail": " · ".join(details),
        })
    return rows


def optional_url(name: str, *args) -> str:
    """A page built by another part of billing, if it exists in this deployment ("" if not)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
