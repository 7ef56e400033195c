"""Draft invoices: made from an order (whole, deposit or instalment) or for a customer, then
edited in place (title, date of service, notes; lines added and removed) with live totals,
like a draft quote."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.errors import BillingError
from billing.forms import InvoiceFieldsForm, InvoiceForOrderForm, InvoiceLineForm, InvoiceNewForm
from billing.services.invoices import invoice_create, invoice_create_for_order, invoice_update
from billing.views.dashboard.common import invoice_or_404
from billing.views.dashboard.invoices import (
    TEMPLATE_DETAIL,
    invoice_context,
    invoice_url,
    page_reload,
)
from catalog.pricing import Line, line_totals, totals
from catalog.selectors import tax_rates_list
from sales.selectors import customer_get, customers_for_dashboard, order_get
from sales.services.orders import LineInput
from sales.views.dashboard.common import (
    PICKER_LIMIT,
    field_error_or_message,
    form_error,
    money,
    partial_with_oob,
)
from tenants.accounts.views import staff_required

TEMPLATE_NEW = "billing/dashboard/invoice_new.html"


def _line_input(data: dict) -> LineInput:
    return LineInput(name=data["name"], quantity=data["quantity"], unit_net=data["unit_net"],
                     tax_rate=data["tax_rate"].rate)


# ---------------------------------------------------------------------------------------------
# New drafts
# ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_required("billing.add_invoice")
def invoice_new(request: HttpRequest) -> HttpResponse:
    """Choose the customer (search), then the invoice's title, notes and first line."""
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = customer_get(pk=int(raw)) if raw.isdigit() else None
    tax_rates = list(tax_rates_list()) if customer is not None else []
    form = InvoiceNewForm(request.POST or None, tax_rates=tax_rates)
    if request.method == "POST":
        if customer is None:
            messages.error(request, _("Choose the customer first."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                invoice = invoice_create(customer=customer, lines=[_line_input(data)],
                                         by=request.user, title=data["title"],
                                         notes=data["notes"], service_date=data["service_date"])
            except BillingError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Draft invoice created for %(name)s: add its other "
                                            "lines, then issue it.")
                                 % {"name": customer.display_name})
                return redirect("billing_dashboard:invoice_detail", pk=invoice.pk)
    q = (request.GET.get("q") or "").strip()
    results = []
    if customer is None and q:
        results = [{"name": c.display_name, "email": c.email,
                    "url": f"{request.path}?customer={c.pk}"}
                   for c in customers_for_dashboard(q=q)[:PICKER_LIMIT]]
    context = {"form": form, "customer": customer, "q": q, "results": results}
    template = TEMPLATE_NEW
    if request.htmx and request.htmx.target == "customer-results":
        template += "#customer-results"
    return render(request, template, context, status=422 if request.method == "POST" else 200)


@require_POST
@staff_required("billing.add_invoice")
def invoice_new_for_order(request: HttpRequest, order_pk: int) -> HttpResponse:
    """The button on the order's page: invoice the whole order, or a deposit / instalment
    percentage of it. A refusal (more than 100 % invoiced, a cancelled order) goes back to the
    order with the reason."""
    order = order_get(pk=order_pk)
    if order is None:
        raise Http404(_("No such order."))
    back = reverse("sales_dashboard:order_detail", args=[order.pk]) + "#order-invoices"
    form = InvoiceForOrderForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        invoice = invoice_create_for_order(order=order, by=request.user,
                                           percent=form.cleaned_data["percent"])
    except BillingError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("Draft invoice made from order %(number)s: check it, then "
                                "issue it.") % {"number": order.number})
    return redirect("billing_dashboard:invoice_detail", pk=invoice.pk)


# ---------------------------------------------------------------------------------------------
# Editing a draft
# ---------------------------------------------------------------------------------------------
@require_POST
@staff_required("billing.change_invoice")
def invoice_fields_update(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft's title, date of service and notes."""
    invoice = invoice_or_404(pk)
    form, status = InvoiceFieldsForm(request.POST), 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            invoice_update(invoice=invoice, by=request.user, title=data["title"],
                           notes=data["notes"], service_date=data["service_date"])
        except BillingError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("Invoice details saved."))
            if not request.htmx:
                return redirect(invoice_url(pk))
            form, status = None, 200
    invoice = invoice_or_404(pk)
    context = invoice_context(request, invoice, fields_form=form)
    if request.htmx:
        if not context["editable"]:  # issued meanwhile: the form is gone, show the page
            return page_reload(request, invoice_url(pk))
        return partial_with_oob(request, TEMPLATE_DETAIL, "invoice-fields", context,
                                 oob=("invoice-lines",), status=status)
    return render(request, TEMPLATE_DETAIL, context, status=status)


def _lines_answer(request: HttpRequest, pk: int, status: int, **parts) -> HttpResponse:
    """After a line change: the lines and totals (HTMX) or the page (a redirect after a
    success without JavaScript)."""
    if status == 200 and not request.htmx:
        return redirect(invoice_url(pk) + "#invoice-lines")
    invoice = invoice_or_404(pk)
    context = invoice_context(request, invoice, **parts)
    if request.htmx:
        if not context["editable"]:
            return page_reload(request, invoice_url(pk))
        return partial_with_oob(request, TEMPLATE_DETAIL, "invoice-lines", context,
                                 oob=("invoice-amounts",), status=status)
    return render(request, TEMPLATE_DETAIL, context, status=status)


@require_POST
@staff_required("billing.change_invoice")
def invoice_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_or_404(pk)
    form = InvoiceLineForm(request.POST, prefix="line", tax_rates=list(tax_rates_list()))
    if form.is_valid():
        try:
            invoice_update(invoice=invoice, by=request.user,
                           add_lines=[_line_input(form.cleaned_data)])
        except BillingError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("Line added: %(name)s.")
                             % {"name": form.cleaned_data["name"]})
            return _lines_answer(request, pk, 200)
    return _lines_answer(request, pk, 422, line_form=form)


@require_POST
@staff_required("billing.change_invoice")
def invoice_line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = invoice_or_404(pk)
    if not any(line.pk == line_pk for line in invoice.lines.all()):
        raise Http404(_("This line is no longer on the invoice."))
    try:
        invoice_update(invoice=invoice, by=request.user, remove_line_ids=[line_pk])
    except BillingError as exc:
        messages.error(request, exc.message)
        return _lines_answer(request, pk, 422)
    messages.success(request, _("Line removed."))
    return _lines_answer(request, pk, 200)


@require_GET
@staff_required("billing.change_invoice")
def invoice_line_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Live totals while a line is typed: what the line comes to, and the invoice's new total
    with it. Computed, never saved (the line is added with its button)."""
    invoice = invoice_or_404(pk)
    form = InvoiceLineForm(request.GET, prefix="line", tax_rates=list(tax_rates_list()))
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        new = Line(unit_net=data["unit_net"], quantity=data["quantity"],
                   rate_percent=data["tax_rate"].rate)
        amounts = line_totals(new, invoice.currency)
        summary = totals([*(line.pricing_line(line.extra_discount_percent)
                            for line in invoice.lines.all()), new], invoice.currency)
        preview = {"net": money(amounts.net, invoice.currency),
                   "vat": money(amounts.vat, invoice.currency),
                   "gross": money(summary.gross, invoice.currency),
                   "net_total": money(summary.net, invoice.currency)}
    return render(request, f"{TEMPLATE_DETAIL}#line-preview",
                  {"invoice": invoice, "preview": preview})

