"""Card payments for customers (namespace `billing_pay`, under /pay/): an order placed with
"Card" at checkout, or an unpaid invoice from the customer's account, goes to a hosted Stripe
Checkout page; the customer comes back to a page that waits for the webhook.

Nothing here marks anything paid: the money is recorded by the webhook only (DESIGN:
fulfilment happens on the webhook, never on the redirect). The return page polls until the
webhook has moved the payment.

Who may open what: an order's payment page and the pages of a card payment are for the
customer who owns it (signed in) or the guest who placed the order in this session (its
number is kept in the session by the checkout); anyone else gets a 404.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.errors import BillingError, PaymentProviderError
from billing.models import Payment, PaymentStatus
from billing.selectors import card_payment_open, invoice_get_for_customer, payment_get_for_visitor
from billing.services.invoices import billing_settings
from billing.services.payments import card_checkout_start
from catalog.pricing import currency_symbol
from sales.errors import SalesError
from sales.models import Customer, Order, OrderStatus, PaymentMethod
from sales.selectors import order_get_for_visitor, request_customer
from sales.services.orders import order_payment_method_change
from sales.views.account import customer_required
from sales.views.storefront import GUEST_ORDERS_SESSION_KEY, base_url

RETURN_TEMPLATE = "billing/pay/return.html"
STATUS_PARTIAL = "payment-status"
# The return page polls while Stripe has not confirmed; after this it stops and says so
# (a forgotten tab should not poll forever).
POLL_FOR = timedelta(minutes=30)
SLOW_AFTER = timedelta(minutes=5)


def _guest_numbers(request: HttpRequest) -> list[str]:
    return list(request.session.get(GUEST_ORDERS_SESSION_KEY, []))


def _visitor_order(request: HttpRequest, number: str) -> Order:
    order = order_get_for_visitor(customer=request_customer(request),
                                  guest_numbers=_guest_numbers(request), number=number)
    if order is None:
        raise Http404(_("No such order."))
    return order


def _visitor_payment(request: HttpRequest, payment_id: int) -> Payment:
    payment = payment_get_for_visitor(pk=payment_id, customer=request_customer(request),
                                      guest_numbers=_guest_numbers(request))
    if payment is None:
        raise Http404(_("No such payment."))
    return payment


def _path_with_placeholder(name: str) -> str:
    """`/pay/return/{payment}/`: the service puts the new payment's id in place."""
    return reverse(name, args=[0]).replace("/0/", "/{payment}/")


def _see_other(url: str) -> HttpResponse:
    # 303: the browser GETs Stripe's page whatever method brought it here.
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _start(request: HttpRequest, *, order: Order | None = None, invoice=None,
           context: dict) -> HttpResponse:
    """Send the customer to the Stripe page of this order or invoice: the one still open for
    the same amount if there is one (one page, one possible charge), or a new one."""
    try:
        payment = card_payment_open(order=order, invoice=invoice) or card_checkout_start(
            order=order, invoice=invoice, base_url=base_url(request),
            success_path=_path_with_placeholder("billing_pay:return"),
            cancel_path=_path_with_placeholder("billing_pay:cancelled"))
    except BillingError as exc:
        # Stripe unreachable: try again later (503); otherwise the state says no (409).
        status = 503 if isinstance(exc, PaymentProviderError) else 409
        return render(request, "billing/pay/refused.html",
                      {**context, "error": exc.message}, status=status)
    return _see_other(payment.checkout_url)


def _order_context(request: HttpRequest, order: Order) -> dict:
    customer = request_customer(request)
    return {"order": order, "currency_symbol": currency_symbol(order.currency),
            "is_registered": customer is not None and order.customer_id == customer.pk,
            "can_switch_to_transfer": (order.status == OrderStatus.PENDING
                                       and order.payment_method == PaymentMethod.CARD)}


@never_cache
@require_http_methods(["GET", "POST"])
def pay_order(request: HttpRequest, number: str) -> HttpResponse:
    order = _visitor_order(request, number)
    return _start(request, order=order, context=_order_context(request, order))


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def pay_invoice(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    invoice = invoice_get_for_customer(customer=customer, pk=pk)
    if invoice is None:
        raise Http404(_("No such invoice."))
    return _start(request, invoice=invoice, context={
        "invoice": invoice, "currency_symbol": currency_symbol(invoice.currency),
        "is_registered": True})


@require_POST
def pay_order_by_transfer(request: HttpRequest, number: str) -> HttpResponse:
    """The customer gives up on the card and will pay by bank transfer: the order then waits
    for the transfer (and is no longer cancelled as an unpaid card order)."""
    order = _visitor_order(request, number)
    try:
        order = order_payment_method_change(order=order, method=PaymentMethod.BANK_TRANSFER,
                                            by=None, by_customer=True)
    except SalesError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your order %(number)s now waits for your bank transfer.")
                         % {"number": order.number})
    if _order_context(request, order)["is_registered"]:
        return redirect("sales_account:order_detail", number=order.number)
    return redirect("sales_store:checkout_done", number=order.number)


def _retry_url(payment: Payment) -> str:
    """Where to try again: the invoice it was started for, or the order. (Once an order's
    payment has succeeded it also names the invoice made for it; nothing to retry then.)"""
    if payment.invoice_id and payment.status != PaymentStatus.SUCCEEDED:
        return reverse("billing_pay:invoice", args=[payment.invoice_id])
    if payment.order_id:
        return reverse("billing_pay:order", args=[payment.order.number])
    return ""


def _payment_context(request: HttpRequest, payment: Payment) -> dict:
    customer = request_customer(request)
    registered = customer is not None and payment.customer_id == customer.pk
    waiting = payment.status == PaymentStatus.PENDING
    age = timezone.now() - payment.created_at
    invoice = payment.invoice
    for_order = payment.order_id is not None and (
        invoice is None or payment.status == PaymentStatus.SUCCEEDED)
    return {
        "payment": payment, "order": payment.order, "invoice": invoice,
        "for_order": for_order,
        # An invoice is shown to its customer once issued (a draft is not theirs to see).
        "invoice_visible": registered and invoice is not None and not invoice.is_draft,
        "is_registered": registered,
        "currency_symbol": currency_symbol(payment.currency),
        "waiting": waiting,
        "polling": waiting and age < POLL_FOR,
        "slow": waiting and age >= SLOW_AFTER,
        "retry_url": _retry_url(payment),
        # An order paid by card is kept this long, then cancelled if no payment arrived.
        "unpaid_hours": billing_settings().unpaid_checkout_hours if for_order else None,
        "can_switch_to_transfer": (for_order and payment.order.status == OrderStatus.PENDING
                                   and payment.order.payment_method == PaymentMethod.CARD),
    }


@never_cache
@require_safe
def pay_return(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Back from Stripe: "processing" until the webhook has recorded the payment (HTMX polls
    the status part; without JavaScript the page reloads itself), then paid or failed."""
    payment = _visitor_payment(request, payment_id)
    template = f"{RETURN_TEMPLATE}#{STATUS_PARTIAL}" if request.htmx else RETURN_TEMPLATE
    return render(request, template, _payment_context(request, payment))


@never_cache
@require_safe
def pay_cancelled(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Back from Stripe without paying: try again, or (an order) pay by bank transfer."""
    payment = _visitor_payment(request, payment_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        return redirect("billing_pay:return", payment_id=payment.pk)
    return render(request, "billing/pay/cancelled.html", _payment_context(request, payment))
