"""How invoices and credit notes appear on timelines and in the activity feed (streams).

`register()` runs in BillingConfig.ready(). Transitions (issue, settle, mark_overdue, cancel)
are recorded by streams itself; the services record the rest (created, refund, credited,
reminder, overpaid) with `streams.events.record`. Money received or credited moves the invoice
through `settle`, so a payment is that one event, its amount and method in its data.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Invoice, InvoiceStatus, PaymentMethod
from sales.events import money_text
from streams.models import Importance
from streams.subjects import track

HIGH = Importance.HIGH

INVOICE_VERBS = {
    "created": gettext_lazy("Draft created"),
    "issue": gettext_lazy("Issued"),
    # Money received, credited or given back changed what is owed: the detail says which.
    "settle": gettext_lazy("Balance updated"),
    "mark_overdue": gettext_lazy("Overdue"),
    "cancel": gettext_lazy("Closed by a credit note"),
    "credited": gettext_lazy("Credit note applied"),
    "refund": gettext_lazy("Refunded"),
    "overpaid": gettext_lazy("Paid more than owed"),
    "reminder": gettext_lazy("Reminder sent"),
}
INVOICE_IMPORTANCE = {"settle": HIGH, "mark_overdue": HIGH, "cancel": HIGH, "credited": HIGH,
                      "refund": HIGH, "overpaid": HIGH}
METHOD_LABELS = dict(PaymentMethod.choices)

INVOICE_URL_PREFIX = SimpleLazyObject(
    lambda: reverse("billing_dashboard:invoice_detail", args=[0])[:-2])


def invoice_label(invoice: Invoice) -> str:
    """“Invoice F-2026-00012”, “Credit note A-2026-00003”, “Draft invoice”."""
    if not invoice.number:
        return invoice.reference
    if invoice.is_credit_note:
        return _("Credit note %(number)s") % {"number": invoice.number}
    return _("Invoice %(number)s") % {"number": invoice.number}


def describe_invoice(event) -> str:
    data = event.data or {}
    details = []
    if data.get("payment") and data.get("amount"):
        details.append(_("Payment of %(amount)s") % {
            "amount": money_text(data["amount"], data.get("currency", "EUR"))})
    elif data.get("amount"):
        details.append(money_text(data["amount"], data.get("currency", "EUR")))
    if data.get("method"):
        details.append(str(METHOD_LABELS.get(data["method"], data["method"])))
    if event.verb == "issue" and data.get("number"):
        details.append(data["number"])
    if data.get("credit_note"):
        details.append(_("credit note %(number)s") % {"number": data["credit_note"]})
    if data.get("days_late"):
        details.append(_("%(days)s days late") % {"days": data["days_late"]})
    return " · ".join(details)


def register() -> None:
    track(Invoice, label=invoice_label, url=lambda pk: f"{INVOICE_URL_PREFIX}{pk}/",
          states=dict(InvoiceStatus.choices), verbs=INVOICE_VERBS,
          importance=INVOICE_IMPORTANCE, describe=describe_invoice,
          name=gettext_lazy("Invoice"))
