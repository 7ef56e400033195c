"""Quotes in the dashboard: the list, a new quote, the detail page with its inline line editor
and its buttons (send, revise, record an answer, convert, cancel)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import ProductStatus
from catalog.pricing import line_totals, totals
from catalog.selectors import products_for_dashboard, tax_rates_list
from sales.errors import IllegalTransition, SalesError, TransitionForbidden
from sales.forms import (
    QUOTE_SORTS,
    QUOTE_STATUS_FILTERS,
    CatalogLineForm,
    FreeLineForm,
    LineEditForm,
    QuoteAcceptForm,
    QuoteFilterForm,
    QuoteForm,
    ReasonForm,
)
from sales.models import (
    Quote,
    QuoteSource,
    QuoteStatus,
)
from sales.selectors import (
    customer_get,
    customers_for_dashboard,
    quote_customer_message,
    quote_get,
    quote_revisions,
    quotes_for_dashboard,
)
from sales.services.quotes import (
    quote_accept,
    quote_cancel,
    quote_convert,
    quote_create,
    quote_decline,
    quote_line_add,
    quote_line_input,
    quote_line_remove,
    quote_line_update,
    quote_revise,
    quote_send,
    quote_update,
)
from sales.services.workflow import QUOTE_ACTIONS, allowed_actions
from sales.views.dashboard.common import (
    PICKER_LIMIT,
    QUOTE_URL_PREFIX,
    ZERO,
    RowFormat,
    customer_label,
    field_error_or_message,
    form_error,
    format_day,
    format_pct,
    format_qty,
    list_query,
    money,
    partial_with_oob,
    shop_base_url,
    sort_headers,
    status_chips,
    url_with_query,
)
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

# ---------------------------------------------------------------------------------------------
# Quotes: list, new
# ---------------------------------------------------------------------------------------------
QUOTE_COLUMNS = [("number", gettext_lazy("Quote"), False), (None, gettext_lazy("Customer"), False),
                 ("date", gettext_lazy("Created"), False),
                 ("valid", gettext_lazy("Valid until"), False),
                 ("total", gettext_lazy("Total incl. VAT"), True),
                 ("status", gettext_lazy("Status"), False)]


def quote_row(quote: Quote, fmt: RowFormat) -> dict:
    customer = quote.customer
    return {
        "url": f"{QUOTE_URL_PREFIX}{quote.pk}/",
        "reference": quote.reference,
        "customer": customer.display_name,
        "customer_id": customer.pk,
        "date": fmt.day(quote.created_at),
        "valid_until": fmt.day(quote.valid_until),
        "total": fmt.money(quote.gross_total, quote.currency),
        "status": quote.status,
        "status_label": fmt.labels.get(quote.status, quote.status),
        "requested": quote.source == QuoteSource.CART,
    }


@require_GET
@staff_required("sales.view_quote")
def quote_list(request: HttpRequest) -> HttpResponse:
    values = QuoteFilterForm(request.GET).values()
    sort = values.get("sort") or "-date"
    qs = quotes_for_dashboard(
        q=(values.get("q") or "").strip(), status=values.get("status") or "",
        customer=values.get("customer"), date_from=values.get("date_from"),
        date_to=values.get("date_to"), sort=QUOTE_SORTS[sort])
    page = paginate(qs, page=values.get("page"), query=request.GET, deferred_join=True)
    fmt = RowFormat(QuoteStatus.choices)
    rows = [quote_row(quote, fmt) for quote in page.items]
    path = request.path
    filtered = any(values.get(k) for k in ("q", "status", "customer", "date_from", "date_to"))
    context = {
        "values": values, "page": page, "rows": rows, "sort": sort, "filtered": filtered,
        "status": values.get("status") or "",
        "chips": status_chips(request, path, QUOTE_STATUS_FILTERS, values.get("status") or ""),
        "headers": sort_headers(request, path, QUOTE_COLUMNS, sort),
        "customer_id": values.get("customer"),
        "customer_label": customer_label(rows, values.get("customer")),
        "clear_customer_url": url_with_query(path, list_query(request, customer=None)),
    }
    template = "sales/dashboard/quote_list.html"
    if request.htmx and request.htmx.target == "quote-table":
        template += "#quote-table"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@staff_required("sales.add_quote")
def quote_new(request: HttpRequest) -> HttpResponse:
    """Choose the customer (search), then the quote's validity, discount, terms and notes."""
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = customer_get(pk=int(raw)) if raw.isdigit() else None
    form = QuoteForm(request.POST or None)
    if request.method == "POST":
        if customer is None:
            messages.error(request, _("Choose the customer first."))
        elif form.is_valid():
            try:
                quote = quote_create(customer=customer, by=request.user,
                                     data=form.service_data())
            except SalesError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Quote %(ref)s created: add its lines.")
                                 % {"ref": quote.reference})
                return redirect("sales_dashboard:quote_detail", pk=quote.pk)
    q = (request.GET.get("q") or "").strip()
    results = []
    if customer is None and q:
        results = [{"name": c.display_name, "email": c.email,
                    "url": f"{request.path}?customer={c.pk}"}
                   for c in customers_for_dashboard(q=q)[:PICKER_LIMIT]]
    context = {"form": form, "customer": customer, "q": q, "results": results}
    template = "sales/dashboard/quote_new.html"
    if request.htmx and request.htmx.target == "customer-results":
        template += "#customer-results"
    status = 422 if request.method == "POST" else 200
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------------
# Quote detail and its inline editor
# ---------------------------------------------------------------------------------------------
def _quote_or_404(pk: int) -> Quote:
    quote = quote_get(pk=pk)
    if quote is None:
        raise Http404(_("No such quote."))
    return quote


def _link_status(quote: Quote) -> str:
    """What the customer's link does now, in words."""
    today = timezone.localdate()
    if quote.status == QuoteStatus.DRAFT:
        return _("Not sent yet: the customer has no link.")
    if quote.status == QuoteStatus.SENT:
        if quote.is_expired_on(today):
            return _("Expired on %(date)s: the link no longer takes an answer.") % {
                "date": format_day(quote.valid_until)}
        return _("Active: the customer can accept or decline until %(date)s.") % {
            "date": format_day(quote.valid_until)}
    if quote.status == QuoteStatus.SUPERSEDED:
        return _("Replaced: the link tells the customer to use the newer version.")
    if quote.status == QuoteStatus.EXPIRED:
        return _("Expired: the link no longer takes an answer.")
    if quote.status == QuoteStatus.CANCELLED:
        return _("Closed: the link says the quote is no longer available.")
    return _("The link shows the customer's answer.")


def _read_only_reason(quote: Quote, can_edit: bool) -> str:
    if quote.status == QuoteStatus.DRAFT:
        return "" if can_edit else _("Your role does not allow editing quotes.")
    if quote.status == QuoteStatus.SENT:
        return _("This quote was sent to the customer, so it is read-only. Revise it to change "
                 "anything: the new version replaces this one.")
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.CONVERTED):
        return _("The customer accepted this quote: it is read-only.")
    if quote.status == QuoteStatus.SUPERSEDED:
        return _("A newer revision replaced this one: it is kept read-only for the record.")
    return _("This quote is %(state)s: it is read-only.") % {
        "state": quote.get_status_display().lower()}


def _line_form(line, data=None) -> LineEditForm:
    return LineEditForm(data, line_id=line.pk, initial={
        "name": line.name, "quantity": line.quantity.normalize(), "unit_net": line.unit_net,
        "discount_percent": line.discount_percent.normalize()})


def _product_results(q: str) -> list[dict]:
    """Active products matching a name or SKU, for the line editor's picker."""
    if not q:
        return []
    qs = products_for_dashboard(q=q, status=ProductStatus.ACTIVE, sort="name")[:PICKER_LIMIT]
    return [{"pk": p.pk, "name": p.name, "sku": p.sku, "price": money(p.net_price)}
            for p in qs]


def _quote_context(request: HttpRequest, quote: Quote, **parts) -> dict:
    user = request.user
    can_edit = user.has_perm("sales.change_quote")
    editable = quote.status == QuoteStatus.DRAFT and can_edit
    lines = list(quote.lines.all())
    summary = quote.compute_totals(lines)
    before_global = totals([line.pricing_line() for line in lines], quote.currency)
    line_errors = parts.get("line_forms", {})
    rows = []
    for line in lines:
        amounts = line_totals(line.pricing_line(), quote.currency)
        rows.append({"line": line, "net": amounts.net, "qty": format_qty(line.quantity),
                     "rate": format_pct(line.tax_rate),
                     "discount": format_pct(line.discount_percent) if line.discount_percent else "",
                     "form": (line_errors.get(line.pk) or _line_form(line)) if editable else None,
                     "url": reverse("sales_dashboard:quote_line_edit", args=[quote.pk, line.pk]),
                     "remove_url": reverse("sales_dashboard:quote_line_remove",
                                           args=[quote.pk, line.pk])})
    actions = allowed_actions(quote, user)
    buttons = [{"name": name, "label": QUOTE_ACTIONS[name][0], "style": QUOTE_ACTIONS[name][1],
                "url": reverse("sales_dashboard:quote_action", args=[quote.pk, name])}
               for name in actions]
    buttons.sort(key=lambda b: {"primary": 0, "secondary": 1}.get(b["style"], 2))
    message = quote_customer_message(quote) if quote.source == QuoteSource.CART else ""
    tax_rates = list(tax_rates_list()) if editable else []
    product_q = (request.GET.get("product_q") or "").strip() if request.method == "GET" else ""
    context = {
        "quote": quote, "rows": rows, "totals": summary, "editable": editable,
        "can_edit": can_edit,
        "lines_net": before_global.net,
        "global_discount": before_global.net - summary.net,
        "vat_rows": [{"rate": rate, "rate_text": format_pct(rate), "base": base, "vat": tax}
                     for rate, (base, tax) in summary.vat_by_rate.items()],
        "discount": format_pct(quote.discount_percent) if quote.discount_percent else "",
        "buttons": buttons,
        "can_revise": quote.status == QuoteStatus.SENT and can_edit,
        "read_only_reason": _read_only_reason(quote, can_edit),
        "link_status": _link_status(quote),
        "requested": quote.source == QuoteSource.CART,
        "customer_message": message,
        "revisions": list(quote_revisions(quote)) if quote.revision > 1
        or quote.status == QuoteStatus.SUPERSEDED else [],
        "order": getattr(quote, "order", None) if quote.status == QuoteStatus.CONVERTED
        else None,
        "fields_form": parts.get("fields_form") or (QuoteForm(initial={
            "valid_until": quote.valid_until, "discount_percent": quote.discount_percent,
            "terms": quote.terms, "notes": quote.notes}) if editable else None),
        "catalog_form": parts.get("catalog_form") or CatalogLineForm(prefix="catalog"),
        "free_form": parts.get("free_form") or FreeLineForm(prefix="free", tax_rates=tax_rates),
        "open_form": parts.get("open_form", ""),
        "product_q": product_q,
        "product_results": parts.get("product_results") or _product_results(product_q),
        "accept_form": parts.get("accept_form") or QuoteAcceptForm(
            prefix="accept", initial={"name": quote.customer.display_name}),
        "decline_form": parts.get("decline_form") or ReasonForm(prefix="decline"),
        "cancel_form": parts.get("cancel_form") or ReasonForm(prefix="cancel"),
        "open_action": parts.get("open_action", ""),
    }
    return context


TEMPLATE_QUOTE = "sales/dashboard/quote_detail.html"


@require_http_methods(["GET", "POST"])
@staff_required("sales.view_quote")
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote; a POST changes a draft's validity, global discount, terms and notes."""
    quote = _quote_or_404(pk)
    if request.method == "GET":
        return render(request, TEMPLATE_QUOTE, _quote_context(request, quote))
    if not request.user.has_perm("sales.change_quote"):
        raise PermissionDenied(_("Your role does not allow editing quotes."))
    form, status = QuoteForm(request.POST), 422
    if form.is_valid():
        try:
            quote_update(quote=quote, by=request.user, data=form.service_data())
        except SalesError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("Quote details saved."))
            if not request.htmx:
                return redirect("sales_dashboard:quote_detail", pk=pk)
            form, status = None, 200
    quote = _quote_or_404(pk)
    context = _quote_context(request, quote, fields_form=form)
    if request.htmx:
        if not context["editable"]:  # sent meanwhile: the form is gone, show the page
            return HttpResponseClientRedirect(reverse("sales_dashboard:quote_detail",
                                                      args=[pk]))
        return partial_with_oob(request, TEMPLATE_QUOTE, "quote-fields", context,
                                 oob=("quote-lines",), status=status)
    return render(request, TEMPLATE_QUOTE, context, status=status)


def _lines_answer(request: HttpRequest, pk: int, status: int, **parts) -> HttpResponse:
    """After a line change: the lines+totals block (HTMX) or the page (a redirect after a
    success without JavaScript)."""
    if status == 200 and not request.htmx:
        return redirect(reverse("sales_dashboard:quote_detail", args=[pk]) + "#quote-lines")
    quote = _quote_or_404(pk)
    context = _quote_context(request, quote, **parts)
    if request.htmx:
        return render(request, f"{TEMPLATE_QUOTE}#quote-lines", context, status=status)
    return render(request, TEMPLATE_QUOTE, context, status=status)


@require_GET
@staff_required("sales.change_quote")
def quote_product_search(request: HttpRequest) -> HttpResponse:
    """The line editor's product picker: active products matching a name or SKU."""
    q = (request.GET.get("product_q") or "").strip()
    context = {"product_q": q, "product_results": _product_results(q)}
    return render(request, f"{TEMPLATE_QUOTE}#product-results", context)


@require_POST
@staff_required("sales.change_quote")
def quote_line_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote_or_404(pk)
    kind = "free" if request.POST.get("kind") == "free" else "catalog"
    if kind == "free":
        form = FreeLineForm(request.POST, prefix="free", tax_rates=list(tax_rates_list()))
    else:
        form = CatalogLineForm(request.POST, prefix="catalog")
    picked = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            if kind == "free":
                line = quote_line_input(name=data["name"], quantity=data["quantity"],
                                        unit_net=data["unit_net"], tax_rate=data["tax_rate"],
                                        discount_percent=data["discount_percent"] or ZERO)
            else:
                line = quote_line_input(product=data["product"], quantity=data["quantity"],
                                        unit_net=data["unit_net"],
                                        discount_percent=data["discount_percent"] or ZERO)
            row = quote_line_add(quote=quote, line=line, by=request.user)
        except SalesError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("Line added: %(name)s.") % {"name": row.name})
            return _lines_answer(request, pk, 200)
    if kind == "catalog" and form.cleaned_data.get("product") is not None:
        product = form.cleaned_data["product"]  # keep the choice on screen
        picked = [{"pk": product.pk, "name": product.name, "sku": product.sku,
                   "price": money(product.net_price), "checked": True}]
    return _lines_answer(request, pk, 422, open_form=kind, product_results=picked,
                         **{f"{kind}_form": form})


@require_POST
@staff_required("sales.change_quote")
def quote_line_edit(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    quote = _quote_or_404(pk)
    line = next((li for li in quote.lines.all() if li.pk == line_pk), None)
    if line is None:
        raise Http404(_("This line is no longer on the quote."))
    form = _line_form(line, request.POST)
    if form.is_valid():
        try:
            quote_line_update(quote=quote, line_id=line.pk, data=form.service_data(),
                              by=request.user)
        except SalesError as exc:
            field_error_or_message(request, form, exc)
        else:
            messages.success(request, _("Line updated."))
            return _lines_answer(request, pk, 200)
    return _lines_answer(request, pk, 422, line_forms={line.pk: form})


@require_POST
@staff_required("sales.change_quote")
def quote_line_remove_view(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    quote = _quote_or_404(pk)
    try:
        quote_line_remove(quote=quote, line_id=line_pk, by=request.user)
    except SalesError as exc:
        messages.error(request, exc.message)
        return _lines_answer(request, pk, 422)
    messages.success(request, _("Line removed."))
    return _lines_answer(request, pk, 200)


QUOTE_BUTTON_ACTIONS = ("send", "convert", "accept", "decline", "cancel", "revise")


def _quote_action_run(request: HttpRequest, quote: Quote, action: str, forms: dict):
    """Run one quote action; returns (where to go next, success message)."""
    user = request.user
    if action == "send":
        quote = quote_send(quote=quote, by=user, base_url=shop_base_url(request))
        return quote, _("Quote %(ref)s sent to %(email)s.") % {
            "ref": quote.reference, "email": quote.customer.email}
    if action == "revise":
        revision = quote_revise(quote=quote, by=user)
        return revision, _("Revision %(ref)s created from the sent quote: change it, then "
                           "send it.") % {"ref": revision.reference}
    if action == "convert":
        order = quote_convert(quote=quote, by=user)
        return quote, _("Order %(number)s placed from the quote.") % {"number": order.number}
    if action == "cancel":
        quote_cancel(quote=quote, by=user, reason=forms["cancel"].cleaned_data["reason"])
        return quote, _("Quote %(ref)s cancelled.") % {"ref": quote.reference}
    if action == "decline":
        quote_decline(quote=quote, by=user, reason=forms["decline"].cleaned_data["reason"])
        return quote, _("Refusal recorded.")
    data = forms["accept"].cleaned_data
    order = quote_accept(quote=quote, name=data["name"], accept_terms=data["accept_terms"],
                         ip=None, by=user)
    if order is None:
        return quote, _("Acceptance recorded, but the order could not be placed yet: see "
                        "the problem on the quote.")
    return quote, _("Acceptance recorded: order %(number)s placed.") % {"number": order.number}


@require_POST
@staff_required("sales.view_quote")
def quote_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Send, convert, record acceptance or refusal, cancel, revise. The services check the
    state and the user's role; a refusal changes nothing and says why."""
    if action not in QUOTE_BUTTON_ACTIONS:
        raise Http404
    quote = _quote_or_404(pk)
    forms = {"accept": QuoteAcceptForm(request.POST if action == "accept" else None,
                                       prefix="accept",
                                       initial={"name": quote.customer.display_name}),
             "decline": ReasonForm(request.POST if action == "decline" else None,
                                   prefix="decline"),
             "cancel": ReasonForm(request.POST if action == "cancel" else None, prefix="cancel")}
    form = forms.get(action)
    status = 200
    if form is not None and not form.is_valid():
        status = 422
    else:
        try:
            target, message = _quote_action_run(request, quote, action, forms)
        except TransitionForbidden as exc:
            messages.error(request, exc.message)
            status = 403
        except IllegalTransition as exc:
            messages.error(request, exc.message)
            status = 409
        except SalesError as exc:
            if form is not None and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
            status = 422
        else:
            messages.success(request, message)
            url = reverse("sales_dashboard:quote_detail", args=[target.pk])
            # The whole page changes (a sent quote becomes read-only): load it again.
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    quote = _quote_or_404(pk)
    context = _quote_context(request, quote, accept_form=forms["accept"],
                             decline_form=forms["decline"], cancel_form=forms["cancel"],
                             open_action=action if form is not None and form.errors else "")
    if request.htmx:
        return render(request, f"{TEMPLATE_QUOTE}#quote-header", context, status=422)
    return render(request, TEMPLATE_QUOTE, context, status=status)


