"""How quotes, orders and customers appear on timelines and in the activity feed (streams).

`register()` runs in SalesConfig.ready(): each model says how it is named ("Order
C-2026-00042"), where its staff page is, what its states and verbs are called, which verbs
matter most and what detail line an event gets. Transitions are recorded by streams itself
(post_transition); the services record the other events (`streams.events.record`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils import formats
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.pricing import currency_symbol
from sales.models import Customer, Order, OrderStatus, PaymentMethod, Quote, QuoteStatus
from streams.models import Importance
from streams.subjects import track

HIGH = Importance.HIGH

QUOTE_VERBS = {
    "created": gettext_lazy("Quote created"),
    "revised": gettext_lazy("New revision"),
    "customer_message": gettext_lazy("Message from the customer"),
    "send": gettext_lazy("Sent to the customer"),
    "accept": gettext_lazy("Accepted"),
    "decline": gettext_lazy("Declined"),
    "expire": gettext_lazy("Expired"),
    "cancel": gettext_lazy("Cancelled"),
    "supersede": gettext_lazy("Replaced by a new revision"),
    "convert": gettext_lazy("Converted into an order"),
}
ORDER_VERBS = {
    "placed": gettext_lazy("Order placed"),
    "confirm": gettext_lazy("Confirmed"),
    "start_processing": gettext_lazy("Preparation started"),
    "ship": gettext_lazy("Shipped"),
    "deliver": gettext_lazy("Delivered"),
    "cancel": gettext_lazy("Cancelled"),
    "payment_method": gettext_lazy("Payment method changed"),
    # Written by billing about the order it is paid or refunded for.
    "payment": gettext_lazy("Payment received"),
    "refund": gettext_lazy("Refunded"),
    "invoice_not_issued": gettext_lazy("Invoice not issued"),
    "paid_after_cancel": gettext_lazy("Paid after cancellation"),
    "refund_by_hand": gettext_lazy("Refund to make by hand"),
    "refund_failed": gettext_lazy("Refund failed"),
}
CUSTOMER_VERBS = {
    "created": gettext_lazy("Customer created"),
    "updated": gettext_lazy("Details changed"),
}
QUOTE_IMPORTANCE = {"accept": HIGH, "decline": HIGH, "cancel": HIGH}
ORDER_IMPORTANCE = {"cancel": HIGH, "payment": HIGH, "refund": HIGH, "invoice_not_issued": HIGH,
                    "paid_after_cancel": HIGH, "refund_by_hand": HIGH, "refund_failed": HIGH}
METHOD_LABELS = dict(PaymentMethod.choices)

# One reverse() per process instead of one per row (as the dashboard lists do).
QUOTE_URL_PREFIX = SimpleLazyObject(lambda: reverse("sales_dashboard:quote_detail", args=[0])[:-2])
ORDER_URL_PREFIX = SimpleLazyObject(lambda: reverse("sales_dashboard:order_detail", args=[0])[:-2])
CUSTOMER_URL_PREFIX = SimpleLazyObject(
    lambda: reverse("sales_dashboard:customer_detail", args=[0])[:-2])


def money_text(amount, currency: str = "EUR") -> str:
    """1 234,56 € in French: an amount kept as text in an event's data, as people read it."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    number = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{currency_symbol(currency)}"


def quote_label(quote: Quote) -> str:
    return _("Quote %(reference)s") % {"reference": quote.reference}


def order_label(order: Order) -> str:
    return _("Order %(number)s") % {"number": order.number}


def describe_document(event) -> str:
    """The detail line of a quote's or an order's event."""
    data = event.data or {}
    verb = event.verb
    if data.get("tracking"):
        return _("Tracking: %(ref)s") % {"ref": data["tracking"]}
    if verb == "send" and data.get("to"):
        return _("To %(email)s") % {"email": data["to"]}
    if verb == "accept" and data.get("name"):
        return _("Signed by %(name)s") % {"name": data["name"]}
    if verb == "revised" and data.get("previous"):
        return _("Replaces %(ref)s") % {"ref": data["previous"]}
    if verb == "convert" and data.get("order"):
        return _("Order %(number)s") % {"number": data["order"]}
    if verb == "placed" and data.get("gross_total"):
        return _("Total %(amount)s") % {
            "amount": money_text(data["gross_total"], data.get("currency", "EUR"))}
    if verb == "payment_method" and data.get("to"):
        return f"{METHOD_LABELS.get(data.get('from'), data.get('from', ''))} → " \
               f"{METHOD_LABELS.get(data['to'], data['to'])}"
    if verb in ("payment", "refund") and data.get("amount"):
        parts = [money_text(data["amount"], data.get("currency", "EUR"))]
        if data.get("method"):
            parts.append(str(METHOD_LABELS.get(data["method"], data["method"])))
        if data.get("credit_note"):
            parts.append(_("credit note %(number)s") % {"number": data["credit_note"]})
        return " · ".join(parts)
    return ""


def describe_customer(event) -> str:
    fields = (event.data or {}).get("fields") or []
    if event.verb != "updated" or not fields:
        return ""
    names = []
    for name in fields:
        try:
            names.append(str(Customer._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            names.append(name)
    return _("Changed: %(fields)s") % {"fields": ", ".join(names)}


def register() -> None:
    track(Quote, label=quote_label, url=lambda pk: f"{QUOTE_URL_PREFIX}{pk}/",
          states=dict(QuoteStatus.choices), verbs=QUOTE_VERBS, importance=QUOTE_IMPORTANCE,
          describe=describe_document, name=gettext_lazy("Quote"))
    track(Order, label=order_label, url=lambda pk: f"{ORDER_URL_PREFIX}{pk}/",
          states=dict(OrderStatus.choices), verbs=ORDER_VERBS, importance=ORDER_IMPORTANCE,
          describe=describe_document, name=gettext_lazy("Order"))
    track(Customer, label=lambda customer: customer.display_name,
          url=lambda pk: f"{CUSTOMER_URL_PREFIX}{pk}/", verbs=CUSTOMER_VERBS,
          describe=describe_customer, name=gettext_lazy("Customer"), transitions=False)
