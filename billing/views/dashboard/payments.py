"""Money on an invoice, from its page: payments staff received (transfer, cheque, cash),
refunds (through Stripe for card payments; each documented by a credit note), and a card
payment link for the customer (Stripe Checkout on the shop's account)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.errors import BillingError
from billing.forms import PaymentForm, RefundForm
from billing.services.payments import card_checkout_start, payment_record, payment_refund
from billing.views.dashboard.common import invoice_or_404, optional_url
from billing.views.dashboard.invoices import (
    TEMPLATE_DETAIL,
    invoice_context,
    invoice_url,
    page_reload,
)
from sales.views.dashboard.common import field_error_or_message, money, shop_base_url
from tenants.accounts.views import staff_required


@require_POST
@staff_required("billing.record_payment")
def payment_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A transfer, cheque or cash received. Over-payment is refused by the service, whose
    message is shown next to the amount; nothing is recorded then."""
    invoice = invoice_or_404(pk)
    form = PaymentForm(request.POST, prefix="payment", balance=invoice.balance)
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = payment_record(invoice=invoice, method=data["method"],
                                     amount=data["amount"], by=request.user,
                                     received_on=data["received_on"],
                                     reference=data["reference"])
        except BillingError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("%(amount)s received on %(invoice)s (%(method)s).") % {
                "amount": money(payment.amount, payment.currency), "invoice": invoice.reference,
                "method": payment.get_method_display().lower()})
            return page_reload(request, invoice_url(pk))
    invoice = invoice_or_404(pk)
    context = invoice_context(request, invoice, payment_form=form, open_action="payment")
    if request.htmx:
        return render(request, f"{TEMPLATE_DETAIL}#invoice-header", context, status=422)
    return render(request, TEMPLATE_DETAIL, context, status=422)


@require_POST
@staff_required("billing.refund_payment")
def payment_refund_view(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    """Give money back on one payment of this invoice (full or partial, with a reason): a
    card payment through Stripe, money returned by hand recorded as such; either way the
    invoice gets a credit note for the amount."""
    invoice = invoice_or_404(pk)
    payment = next((p for p in invoice.payments.all() if p.pk == payment_pk), None)
    if payment is None:
        raise Http404(_("No such payment on this invoice."))
    form = RefundForm(request.POST, payment_id=payment.pk)
    if form.is_valid():
        try:
            refund = payment_refund(payment=payment, amount=form.cleaned_data["amount"],
                                    reason=form.cleaned_data["reason"], by=request.user)
        except BillingError as exc:
            field_error_or_message(request, form, exc)
        else:
            note = refund.credit_note.number if refund.credit_note_id else ""
            message = (_("%(amount)s refunded; credit note %(note)s issued.") if note
                       else _("%(amount)s refunded.")) % {
                "amount": money(refund.amount, payment.currency), "note": note}
            messages.success(request, message)
            return page_reload(request, invoice_url(pk))
    invoice = invoice_or_404(pk)
    context = invoice_context(request, invoice, refund_forms={payment.pk: form})
    if request.htmx:
        return render(request, f"{TEMPLATE_DETAIL}#invoice-payments", context, status=422)
    return render(request, TEMPLATE_DETAIL, context, status=422)


def _return_path(invoice) -> str:
    """Where the customer lands after Stripe's page: a registered customer, on the invoice in
    their account (it says paid once the webhook has recorded the money); anyone else, on the
    shop's home page (the link may be opened by someone without an account or a session)."""
    if invoice.customer.user_id:
        return optional_url("billing_account:detail", invoice.pk) or "/"
    return "/"


@require_POST
@staff_required("billing.record_payment")
def pay_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A Stripe Checkout page for what is left to pay, to send to the customer: the link is
    shown in the payments panel until the customer pays (or it expires)."""
    invoice = invoice_or_404(pk)
    back = _return_path(invoice)
    try:
        payment = card_checkout_start(invoice=invoice, base_url=shop_base_url(request),
                                      success_path=back, cancel_path=back, by=request.user)
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Card payment link ready for %(amount)s: copy it from the "
                                    "payments panel and send it to the customer.")
                         % {"amount": money(payment.amount, payment.currency)})
    # Not with HTMX: a location differing from the page's only by its #fragment would scroll
    # instead of loading the page again.
    return page_reload(request, invoice_url(pk) if request.htmx
                       else invoice_url(pk) + "#invoice-payments")
