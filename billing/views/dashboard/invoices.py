"""Invoices and credit notes in the dashboard: the list with the totals of what it shows, the
detail page (lines, VAT per rate, amounts due, payments, history) with the buttons this user
may use, and the credit note page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed, has_transition_perm
from django_htmx.http import HttpResponseClientRedirect

from billing.errors import BillingError
from billing.forms import (
    INVOICE_KIND_FILTERS,
    INVOICE_SORTS,
    INVOICE_STATUS_FILTERS,
    CreditNoteForm,
    DeleteDraftForm,
    InvoiceFieldsForm,
    InvoiceFilterForm,
    InvoiceLineForm,
    PaymentForm,
    RefundForm,
)
from billing.models import (
    PAYABLE,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
)
from billing.selectors import invoice_sums, invoices_for_dashboard, payments_of
from billing.services.invoices import credit_note_create, invoice_delete_draft, invoice_issue
from billing.services.payments import cards_available
from billing.views.dashboard.common import (
    document_title,
    invoice_or_404,
    optional_url,
)
from catalog.selectors import tax_rates_list
from sales.errors import IllegalTransition, TransitionForbidden
from sales.services.orders import LineInput
from sales.views.dashboard.common import (
    CUSTOMER_URL_PREFIX,
    RowFormat,
    customer_label,
    field_error_or_message,
    format_pct,
    format_qty,
    list_query,
    money,
    sort_headers,
    status_chips,
    url_with_query,
)
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

TEMPLATE_LIST = "billing/dashboard/invoice_list.html"
TEMPLATE_DETAIL = "billing/dashboard/invoice_detail.html"
TEMPLATE_CREDIT = "billing/dashboard/credit_note_new.html"
# Stripe closes a Checkout page after 24 hours: an older link is shown as expired.
CHECKOUT_LINK_LIFE = timedelta(hours=23)

# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
INVOICE_COLUMNS = [("number", gettext_lazy("Number"), False),
                   (None, gettext_lazy("Customer"), False),
                   ("date", gettext_lazy("Issued"), False),
                   ("due", gettext_lazy("Due"), False),
                   ("total", gettext_lazy("Total incl. VAT"), True),
                   (None, gettext_lazy("Balance"), True),
                   (None, gettext_lazy("Status"), False)]

# The columns a row prints: snapshots (JSON) and notes stay in the database.
INVOICE_ROW_FIELDS = ("kind", "number", "status", "title", "issue_date", "due_date",
                      "gross_total", "amount_paid", "amount_credited", "currency", "created_at",
                      "customer", "customer__kind", "customer__first_name",
                      "customer__last_name", "customer__company_name", "customer__email")


def invoice_url(pk: int) -> str:
    return reverse("billing_dashboard:invoice_detail", args=[pk])


def invoice_row(invoice: Invoice, fmt: RowFormat, prefix: str, customer_filter: str,
                kinds: dict) -> dict:
    """Everything a list row prints, as strings: the template stays a loop of plain lookups."""
    customer = invoice.customer
    balance = invoice.balance
    return {
        "url": f"{prefix}{invoice.pk}/",
        "number": invoice.number or "",
        "reference": invoice.reference,
        "is_credit_note": invoice.is_credit_note,
        "kind_label": kinds[invoice.kind],
        "title": invoice.title,
        "customer": customer.display_name,
        "customer_id": customer.pk,
        "customer_url": f"{customer_filter}{customer.pk}",
        "date": fmt.day(invoice.issue_date),
        "due": fmt.day(invoice.due_date) if not invoice.is_credit_note else "",
        "total": fmt.money(invoice.gross_total, invoice.currency),
        "balance": fmt.money(balance, invoice.currency) if balance else "",
        "status": invoice.status,
        "status_label": fmt.labels.get(invoice.status, invoice.status),
    }


@require_GET
@staff_required("billing.view_invoice")
def invoice_list(request: HttpRequest) -> HttpResponse:
    values = InvoiceFilterForm(request.GET).values()
    sort = values.get("sort") or "-date"
    qs = invoices_for_dashboard(
        q=(values.get("q") or "").strip(), kind=values.get("kind") or "",
        status=values.get("status") or "", customer=values.get("customer"),
        date_from=values.get("date_from"), date_to=values.get("date_to"),
        sort=INVOICE_SORTS[sort])
    # The totals of everything the filters select (not only this page): issued invoices, so
    # drafts and credit notes never count as money owed.
    sums = invoice_sums(qs.filter(kind=DocumentKind.INVOICE).exclude(status=InvoiceStatus.DRAFT))
    page = paginate(qs.only(*INVOICE_ROW_FIELDS), page=values.get("page"), query=request.GET,
                    deferred_join=True)
    fmt = RowFormat(InvoiceStatus.choices)
    path = request.path
    prefix = invoice_url(0)[:-2]
    without_customer = url_with_query(path, list_query(request, customer=None))
    customer_filter = without_customer + ("&" if "?" in without_customer else "?") + "customer="
    kinds = {value: str(label) for value, label in DocumentKind.choices}
    rows = [invoice_row(invoice, fmt, prefix, customer_filter, kinds) for invoice in page.items]
    filtered = any(values.get(k) for k in ("q", "status", "kind", "customer", "date_from",
                                           "date_to"))
    context = {
        "values": values, "page": page, "rows": rows, "sort": sort, "filtered": filtered,
        "status": values.get("status") or "", "kind": values.get("kind") or "",
        "kinds": INVOICE_KIND_FILTERS,
        "chips": status_chips(request, path, INVOICE_STATUS_FILTERS, values.get("status") or ""),
        "headers": sort_headers(request, path, INVOICE_COLUMNS, sort),
        "sums": {key: money(value) for key, value in sums.items()},
        "customer_id": values.get("customer"),
        "customer_label": customer_label(rows, values.get("customer")),
        "clear_customer_url": url_with_query(path, list_query(request, customer=None)),
    }
    template = TEMPLATE_LIST
    if request.htmx and request.htmx.target == "invoice-table":
        template += "#invoice-table"
    return render(request, template, context)


# ---------------------------------------------------------------------------------------------
# The detail page
# ---------------------------------------------------------------------------------------------
def _read_only_reason(invoice: Invoice, can_edit: bool) -> str:
    if invoice.status == InvoiceStatus.DRAFT:
        return "" if can_edit else _("Your role does not allow editing invoices.")
    if invoice.is_credit_note:
        return _("Issued credit notes are never edited: they are part of your books.")
    return _("Issued invoices are never edited: make a credit note to correct this one.")


def _credit_left(invoice: Invoice):
    return invoice.gross_total - invoice.amount_credited


def _may_issue(invoice: Invoice, user) -> bool:
    return can_proceed(invoice.issue) and has_transition_perm(invoice.issue, user)


def _payment_rows(invoice: Invoice, user, forms: dict) -> list[dict]:
    may_refund = user.has_perm("billing.refund_payment")
    rows = []
    fresh_since = timezone.now() - CHECKOUT_LINK_LIFE
    for payment in payments_of(invoice):
        refundable = payment.refundable
        waiting = (payment.method == PaymentMethod.CARD and payment.status == PaymentStatus.PENDING
                   and bool(payment.checkout_url))
        rows.append({
            "payment": payment,
            "method": payment.get_method_display(),
            "amount": money(payment.amount, payment.currency),
            "status": payment.status,
            "status_label": payment.get_status_display(),
            "day": payment.received_on or timezone.localtime(payment.created_at).date(),
            "refunded": money(payment.amount_refunded, payment.currency)
            if payment.amount_refunded else "",
            "refunds": [{"amount": money(r.amount, payment.currency), "reason": r.reason,
                         "status": r.status, "status_label": r.get_status_display(),
                         "at": r.created_at, "credit_note_id": r.credit_note_id}
                        for r in payment.refunds.all()],
            "checkout_url": payment.checkout_url if waiting and payment.created_at >= fresh_since
            else "",
            "link_expired": waiting and payment.created_at < fresh_since,
            "is_card": payment.method == PaymentMethod.CARD,
            "refund_form": (forms.get(payment.pk) or RefundForm(
                payment_id=payment.pk, refundable=refundable))
            if may_refund and refundable > 0 else None,
            "refund_url": reverse("billing_dashboard:payment_refund",
                                  args=[invoice.pk, payment.pk]),
        })
    return rows


def _buttons(invoice: Invoice, user, payments: list[dict]) -> dict:
    """The actions this user may take on this document now (UI.md: exactly those). No second
    card payment link while one for what is owed is still open (one page, one charge)."""
    payable = not invoice.is_credit_note and invoice.status in PAYABLE and invoice.balance > 0
    link_open = any(p["checkout_url"] and p["payment"].amount == invoice.balance
                    for p in payments)
    return {
        "issue": _may_issue(invoice, user),
        "delete": invoice.is_draft and user.has_perm("billing.delete_invoice"),
        "payment": payable and user.has_perm("billing.record_payment"),
        "credit": (not invoice.is_credit_note and not invoice.is_draft
                   and _credit_left(invoice) > 0 and user.has_perm("billing.add_invoice")),
        "pay_link": payable and not link_open and user.has_perm("billing.record_payment")
        and cards_available(),
    }


def invoice_context(request: HttpRequest, invoice: Invoice, **parts) -> dict:
    user = request.user
    can_edit = user.has_perm("billing.change_invoice")
    editable = invoice.is_draft and can_edit
    lines = list(invoice.lines.all())
    summary = invoice.compute_totals(lines)
    line_rows = [{
        "line": line, "qty": format_qty(line.quantity), "rate": format_pct(line.tax_rate),
        "discount": format_pct(line.discount_percent) if line.discount_percent else "",
        "extra": format_pct(line.extra_discount_percent) if line.extra_discount_percent else "",
        "net": line.net,
        "remove_url": reverse("billing_dashboard:invoice_line_remove",
                              args=[invoice.pk, line.pk]),
    } for line in lines]
    tax_rates = list(tax_rates_list()) if editable else []
    show_payments = user.has_perm("billing.view_payment") and not invoice.is_credit_note
    payments = _payment_rows(invoice, user, parts.get("refund_forms", {})) \
        if show_payments else []
    buttons = _buttons(invoice, user, payments)
    credit_notes = list(invoice.credit_notes.order_by("created_at", "id")) \
        if not invoice.is_credit_note else []
    # The documents are served by billing_documents (a draft gets a preview, marked as such).
    pdf_url = optional_url("billing_documents:invoice_pdf", invoice.pk)
    xml_url = optional_url("billing_documents:invoice_xml", invoice.pk) \
        if not invoice.is_draft else ""
    return {
        "invoice": invoice, "title": document_title(invoice), "line_rows": line_rows,
        "totals": summary, "editable": editable, "can_edit": can_edit,
        "vat_rows": [{"rate": rate, "rate_text": format_pct(rate), "base": base, "vat": tax}
                     for rate, (base, tax) in summary.vat_by_rate.items()],
        "read_only_reason": _read_only_reason(invoice, can_edit),
        "buttons": buttons, "any_button": any(buttons.values()),
        "payments": payments, "show_payments": show_payments,
        "credit_notes": credit_notes,
        "is_overdue": invoice.status == InvoiceStatus.OVERDUE,
        "order_url": reverse("sales_dashboard:order_detail", args=[invoice.order_id])
        if invoice.order_id and user.has_perm("sales.view_order") else "",
        "customer_url": f"{CUSTOMER_URL_PREFIX}{invoice.customer_id}/"
        if user.has_perm("sales.view_customer") else "",
        "pdf_url": pdf_url, "xml_url": xml_url,
        "fields_form": parts.get("fields_form") or (InvoiceFieldsForm(initial={
            "title": invoice.title, "notes": invoice.notes,
            "service_date": invoice.service_date}) if editable else None),
        "line_form": parts.get("line_form") or (InvoiceLineForm(prefix="line",
                                                                tax_rates=tax_rates)
                                                if editable else None),
        "payment_form": parts.get("payment_form") or PaymentForm(
            prefix="payment", balance=invoice.balance),
        "delete_form": parts.get("delete_form") or DeleteDraftForm(prefix="delete"),
        "open_action": parts.get("open_action", ""),
    }


@require_GET
@staff_required("billing.view_invoice")
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_or_404(pk)
    return render(request, TEMPLATE_DETAIL, invoice_context(request, invoice))


def _header_answer(request: HttpRequest, invoice: Invoice, status: int, **parts
                   ) -> HttpResponse:
    """A refused action: the header again, its form open with the error (HTMX: 422, the
    only error status htmx swaps), or the whole page."""
    invoice = invoice_or_404(invoice.pk)  # fresh state after the rollback
    context = invoice_context(request, invoice, **parts)
    if request.htmx:
        return render(request, f"{TEMPLATE_DETAIL}#invoice-header", context, status=422)
    return render(request, TEMPLATE_DETAIL, context, status=status)


def page_reload(request: HttpRequest, url: str) -> HttpResponse:
    """After an action that changes the whole page (status, amounts, payments, history)."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@staff_required("billing.view_invoice")
def invoice_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Number and freeze the draft. The service checks the state and the user's role."""
    invoice = invoice_or_404(pk)
    try:
        invoice = invoice_issue(invoice=invoice, by=request.user)
    except TransitionForbidden as exc:
        messages.error(request, exc.message)
        return _header_answer(request, invoice, 403)
    except IllegalTransition as exc:
        messages.error(request, exc.message)
        return _header_answer(request, invoice, 409)
    except BillingError as exc:
        messages.error(request, exc.message)
        return _header_answer(request, invoice, 422)
    messages.success(request, _("%(title)s issued: it can no longer change.")
                     % {"title": document_title(invoice)})
    return page_reload(request, invoice_url(invoice.pk))


@require_POST
@staff_required("billing.delete_invoice")
def invoice_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_or_404(pk)
    form = DeleteDraftForm(request.POST, prefix="delete")
    if not form.is_valid():
        return _header_answer(request, invoice, 422, delete_form=form, open_action="delete")
    try:
        invoice_delete_draft(invoice=invoice, by=request.user)
    except BillingError as exc:
        messages.error(request, exc.message)
        return _header_answer(request, invoice, 422)
    messages.success(request, _("%(title)s deleted.") % {"title": invoice.reference})
    return page_reload(request, reverse("billing_dashboard:invoice_list"))


# ---------------------------------------------------------------------------------------------
# Credit notes
# ---------------------------------------------------------------------------------------------
def _credit_lines(invoice: Invoice, form: CreditNoteForm) -> list[LineInput] | None:
    """None: the whole invoice; otherwise its lines at the quantities asked for."""
    if form.cleaned_data["scope"] == CreditNoteForm.FULL:
        return None
    quantities = form.quantities()
    return [LineInput(name=line.name, quantity=quantities[line.pk], unit_net=line.unit_net,
                      tax_rate=line.tax_rate, product=line.product, sku=line.sku,
                      unit=line.unit, discount_percent=line.discount_percent,
                      extra_discount_percent=line.extra_discount_percent)
            for line in invoice.lines.all() if line.pk in quantities]


@require_http_methods(["GET", "POST"])
@staff_required("billing.add_invoice")
def credit_note_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A credit note for an issued invoice: all of it, or some lines; the reason is
    mandatory. It is made as a draft to check, then issued from its page."""
    invoice = invoice_or_404(pk)
    if invoice.is_credit_note:
        raise Http404(_("A credit note is not credited."))
    lines = list(invoice.lines.all())
    form = CreditNoteForm(request.POST or None, lines=lines)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                note = credit_note_create(invoice=invoice, by=request.user,
                                          reason=form.cleaned_data["reason"],
                                          lines=_credit_lines(invoice, form))
            except BillingError as exc:
                field_error_or_message(request, form, exc)
            else:
                messages.success(request, _("Draft credit note made for %(invoice)s: check it, "
                                            "then issue it.") % {"invoice": invoice.reference})
                return redirect("billing_dashboard:invoice_detail", pk=note.pk)
    context = {"invoice": invoice, "title": document_title(invoice), "form": form,
               "left": _credit_left(invoice),
               "line_rows": [{"line": line, "qty": format_qty(line.quantity),
                              "rate": format_pct(line.tax_rate), "field": field}
                             for line, field in form.line_fields()],
               "partly_credited": invoice.amount_credited > 0}
    return render(request, TEMPLATE_CREDIT, context, status=status)
