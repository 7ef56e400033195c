"""Dashboard pages for sales: orders, quotes (with their inline line editor), customers and
their addresses, shipping methods, and the dashboard home cards.

Views parse input, call one service or selector and render; HTMX requests get the partial
whose name is the DOM id they target (plus out-of-band copies of what else changed)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, formats, numberformat, timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import ProductStatus
from catalog.pricing import line_totals, totals
from catalog.selectors import products_for_dashboard, tax_rates_list
from sales.errors import IllegalTransition, SalesError, TransitionForbidden
from sales.forms import (
    CUSTOMER_SORTS,
    ORDER_SORTS,
    ORDER_STATUS_FILTERS,
    QUOTE_SORTS,
    QUOTE_STATUS_FILTERS,
    AddressForm,
    CatalogLineForm,
    CustomerFilterForm,
    CustomerForm,
    FreeLineForm,
    LineEditForm,
    OrderCancelForm,
    OrderFilterForm,
    OrderShipForm,
    QuoteAcceptForm,
    QuoteFilterForm,
    QuoteForm,
    ReasonForm,
    ShippingMethodForm,
)
from sales.models import (
    CustomerKind,
    CustomerState,
    Order,
    OrderStatus,
    Quote,
    QuoteSource,
    QuoteStatus,
    ShippingMethod,
)
from sales.selectors import (
    customer_get,
    customers_for_dashboard,
    order_get,
    order_history,
    orders_for_dashboard,
    quote_get,
    quote_history,
    quote_revisions,
    quotes_for_dashboard,
    sales_summary,
    shipping_methods_all,
)
from sales.services.customers import (
    address_delete,
    address_save,
    customer_create,
    customer_update,
)
from sales.services.orders import order_transition
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
from sales.services.shipping import shipping_method_save
from sales.services.workflow import ORDER_ACTIONS, QUOTE_ACTIONS, allowed_actions
from tenants.accounts.views import staff_required
from tenants.pagination import paginate
from tenants.urls_util import shop_url

ZERO = Decimal("0")
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "JPY": "¥"}
PICKER_LIMIT = 10

# What each history row says happened (verbs written by sales.services).
VERB_LABELS = {
    "placed": gettext_lazy("Order placed"),
    "created": gettext_lazy("Quote created"),
    "revised": gettext_lazy("New revision"),
    "customer_message": gettext_lazy("Message from the customer"),
    "confirm": gettext_lazy("Confirmed"),
    "start_processing": gettext_lazy("Preparation started"),
    "ship": gettext_lazy("Shipped"),
    "deliver": gettext_lazy("Delivered"),
    "cancel": gettext_lazy("Cancelled"),
    "send": gettext_lazy("Sent to the customer"),
    "accept": gettext_lazy("Accepted"),
    "decline": gettext_lazy("Declined"),
    "expire": gettext_lazy("Expired"),
    "supersede": gettext_lazy("Replaced by a new revision"),
    "convert": gettext_lazy("Converted into an order"),
}


# ---------------------------------------------------------------------------------------------
# Small helpers: formatting, list links, errors
# ---------------------------------------------------------------------------------------------
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """An amount as the shop's locale writes it: 1 234,56 € in French."""
    number = formats.number_format(amount or ZERO, 2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{CURRENCY_SYMBOLS.get(currency, currency)}"


def _day(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class RowFormat:
    """Formatting for list rows, with the locale's formats and the status labels looked up
    once per page: per row, Django's helpers would resolve them again (and
    get_FOO_display() rebuilds its choices on each call), which costs more than the query."""

    def __init__(self, *status_choices):
        self.date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.decimal = formats.get_format("DECIMAL_SEPARATOR")
        self.thousand = formats.get_format("THOUSAND_SEPARATOR")
        self.grouping = formats.get_format("NUMBER_GROUPING")
        self.labels = {value: str(label) for choices in status_choices
                       for value, label in choices}
        self._days: dict = {}

    def money(self, amount: Decimal | None, currency: str = "EUR") -> str:
        number = numberformat.format(amount or ZERO, self.decimal, 2, self.grouping,
                                     self.thousand, force_grouping=True)
        return f"{number}\xa0{CURRENCY_SYMBOLS.get(currency, currency)}"

    def day(self, value) -> str:
        if value is None:
            return ""
        if hasattr(value, "hour"):
            value = timezone.localtime(value).date()
        text = self._days.get(value)
        if text is None:  # a page's rows share a few dates
            text = self._days[value] = dateformat.format(value, self.date_format)
        return text


def _qty(quantity: Decimal) -> str:
    """2.000 -> 2, 1.500 -> 1.5 (1,5 in French)."""
    return formats.number_format(quantity.normalize(), use_l10n=True)


def _pct(rate: Decimal) -> str:
    """A rate as people write it: 20, 5.5 (5,5 in French)."""
    return _qty(rate)


def _query(request: HttpRequest, **changes) -> QueryDict:
    """The list's current query with `changes` applied (None removes a key) and no page."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query


def _url(path: str, query: QueryDict) -> str:
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path


def _sort_headers(request: HttpRequest, path: str, columns: list[tuple], current: str
                  ) -> list[dict]:
    """The table's column headers, in order. A sortable column (a key) links to the list
    sorted by it, or reversed when it already is; the others (key None) are plain labels."""
    headers = []
    for key, label, numeric in columns:
        ascending, descending = current == key, current == f"-{key}"
        headers.append({
            "label": label, "num": numeric,
            "url": _url(path, _query(request, sort=f"-{key}" if ascending else key))
            if key else "",
            "indicator": "▲" if ascending else "▼" if descending else "",
            "aria_sort": "ascending" if ascending else "descending" if descending else "",
        })
    return headers


def _chips(request: HttpRequest, path: str, choices, current: str) -> list[dict]:
    return [{"label": label, "current": value == (current or ""),
             "url": _url(path, _query(request, status=value or None))}
            for value, label in choices]


def _form_error(form, exc: SalesError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _field_or_message(request: HttpRequest, form, exc: SalesError) -> None:
    """A field's mistake goes next to the field; anything else (the quote is no longer a
    draft, the line was removed meanwhile) is a message: the form may no longer be shown."""
    if exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    else:
        messages.error(request, exc.message)


def _partial_with_oob(request: HttpRequest, template: str, main: str, context: dict,
                      oob: tuple[str, ...] = (), status: int = 200) -> HttpResponse:
    """An HTMX answer: the targeted partial, then copies of other partials that changed,
    swapped out of band (each partial marks its root with hx-swap-oob when `oob` is set)."""
    html = render_to_string(f"{template}#{main}", context, request=request)
    for name in oob:
        html += render_to_string(f"{template}#{name}", {**context, "oob": True},
                                 request=request)
    return HttpResponse(html, status=status)


def _base_url(request: HttpRequest) -> str:
    """The shop's own address, for links in customers' emails (same scheme and port)."""
    return shop_url(request, connection.tenant.get_primary_domain().domain, "")


def _who(entry) -> str:
    if entry.by_id:
        return entry.by.get_full_name()
    return _("The customer") if entry.by_customer else _("Automatic")


def _history_rows(entries, labels: dict) -> list[dict]:
    rows = []
    for entry in entries:
        data = entry.data or {}
        detail = ""
        if data.get("tracking"):
            detail = _("Tracking: %(ref)s") % {"ref": data["tracking"]}
        elif entry.verb == "send" and data.get("to"):
            detail = _("To %(email)s") % {"email": data["to"]}
        elif entry.verb == "accept" and data.get("name"):
            detail = _("Signed by %(name)s") % {"name": data["name"]}
        elif entry.verb == "revised" and data.get("previous"):
            detail = _("Replaces %(ref)s") % {"ref": data["previous"]}
        elif entry.verb == "convert" and data.get("order"):
            detail = _("Order %(number)s") % {"number": data["order"]}
        rows.append({
            "what": VERB_LABELS.get(entry.verb, entry.verb), "who": _who(entry),
            "at": entry.at, "from": labels.get(entry.from_status, ""),
            "to": labels.get(entry.to_status, ""), "message": entry.message, "detail": detail,
        })
    return rows


# One reverse() per page instead of one per row (like catalog's product list).
_ORDER_URL = SimpleLazyObject(lambda: reverse("sales_dashboard:order_detail", args=[0])[:-2])
_QUOTE_URL = SimpleLazyObject(lambda: reverse("sales_dashboard:quote_detail", args=[0])[:-2])
_CUSTOMER_URL = SimpleLazyObject(
    lambda: reverse("sales_dashboard:customer_detail", args=[0])[:-2])


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
ORDER_COLUMNS = [("number", gettext_lazy("Order"), False), (None, gettext_lazy("Customer"), False),
                 ("date", gettext_lazy("Date"), False),
                 ("total", gettext_lazy("Total incl. VAT"), True),
                 ("status", gettext_lazy("Status"), False)]


# The columns a row prints: addresses (JSON) and the rest stay in the database.
ORDER_ROW_FIELDS = ("number", "status", "placed_at", "gross_total", "currency", "email",
                    "customer", "customer__kind", "customer__first_name",
                    "customer__last_name", "customer__company_name", "customer__email")


def _order_row(order: Order, fmt: RowFormat) -> dict:
    """Everything a list row prints, as strings: the template stays a loop of plain lookups."""
    customer = order.customer
    return {
        "url": f"{_ORDER_URL}{order.pk}/",
        "number": order.number,
        "customer": customer.display_name,
        "customer_id": customer.pk,
        "email": order.email,
        "date": fmt.day(order.placed_at),
        "total": fmt.money(order.gross_total, order.currency),
        "status": order.status,
        "status_label": fmt.labels.get(order.status, order.status),
    }


def _customer_label(rows: list[dict], customer_id: int | None) -> str:
    """The filtered customer's name: from the rows when there are some (no extra query)."""
    if not customer_id:
        return ""
    if rows:
        return rows[0]["customer"]
    customer = customer_get(pk=customer_id)
    return customer.display_name if customer else _("Unknown customer")


@require_GET
@staff_required("sales.view_order")
def order_list(request: HttpRequest) -> HttpResponse:
    values = OrderFilterForm(request.GET).values()
    sort = values.get("sort") or "-date"
    qs = orders_for_dashboard(
        q=(values.get("q") or "").strip(), status=values.get("status") or "",
        customer=values.get("customer"), date_from=values.get("date_from"),
        date_to=values.get("date_to"), sort=ORDER_SORTS[sort]).only(*ORDER_ROW_FIELDS)
    page = paginate(qs, page=values.get("page"), query=request.GET)
    fmt = RowFormat(OrderStatus.choices)
    rows = [_order_row(order, fmt) for order in page.items]
    path = request.path
    filtered = any(values.get(k) for k in ("q", "status", "customer", "date_from", "date_to"))
    context = {
        "values": values, "page": page, "rows": rows, "sort": sort, "filtered": filtered,
        "status": values.get("status") or "",
        "chips": _chips(request, path, ORDER_STATUS_FILTERS, values.get("status") or ""),
        "headers": _sort_headers(request, path, ORDER_COLUMNS, sort),
        "customer_id": values.get("customer"),
        "customer_label": _customer_label(rows, values.get("customer")),
        "clear_customer_url": _url(path, _query(request, customer=None)),
    }
    template = "sales/dashboard/order_list.html"
    if request.htmx and request.htmx.target == "order-table":
        template += "#order-table"
    return render(request, template, context)


def _order_or_404(pk: int) -> Order:
    order = order_get(pk=pk)
    if order is None:
        raise Http404(_("No such order."))
    return order


def _order_context(request: HttpRequest, order: Order, **forms) -> dict:
    user = request.user
    actions = allowed_actions(order, user)
    buttons = [{"name": name, "label": ORDER_ACTIONS[name][0], "style": ORDER_ACTIONS[name][1],
                "url": reverse("sales_dashboard:order_transition", args=[order.pk, name])}
               for name in actions]
    # The usual next step first, destructive ones last (UI.md).
    buttons.sort(key=lambda b: {"primary": 0, "secondary": 1}.get(b["style"], 2))
    lines = list(order.lines.all())
    summary = order.compute_totals(lines)
    labels = dict(OrderStatus.choices)
    line_rows = [{"name": line.name, "sku": line.sku, "qty": _qty(line.quantity),
                  "unit_net": line.unit_net, "rate": _pct(line.tax_rate),
                  "discount": _pct(line.discount_percent) if line.discount_percent else "",
                  "net": line.net} for line in lines]
    return {
        "order": order, "buttons": buttons, "line_rows": line_rows, "totals": summary,
        "vat_rows": [{"rate": rate, "rate_text": _pct(rate), "base": base, "vat": tax}
                     for rate, (base, tax) in summary.vat_by_rate.items()],
        "discount": _pct(order.discount_percent) if order.discount_percent else "",
        "history": _history_rows(order_history(order), labels),
        "cancel_form": forms.get("cancel_form") or OrderCancelForm(),
        "ship_form": forms.get("ship_form") or OrderShipForm(),
        "open_action": forms.get("open_action", ""),
    }


@require_GET
@staff_required("sales.view_order")
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(pk)
    return render(request, "sales/dashboard/order_detail.html", _order_context(request, order))


@require_POST
@staff_required("sales.view_order")
def order_transition_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One button: the service checks the state and the user's role; a refusal changes
    nothing and says why."""
    order = _order_or_404(pk)
    cancel_form = OrderCancelForm(request.POST if action == "cancel" else None)
    ship_form = OrderShipForm(request.POST if action == "ship" else None)
    form = cancel_form if action == "cancel" else ship_form
    status = 200
    if action in ("cancel", "ship") and not form.is_valid():
        status = 422
    else:
        data = form.cleaned_data if form.is_bound else {}
        try:
            order = order_transition(order=order, action=action, by=request.user,
                                     reason=data.get("reason", ""),
                                     tracking=data.get("tracking", ""))
        except TransitionForbidden as exc:
            messages.error(request, exc.message)
            status = 403
        except IllegalTransition as exc:
            messages.error(request, exc.message)
            status = 409
        except SalesError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
            status = 422
        else:
            label = ORDER_ACTIONS.get(action, (action,))[0]
            messages.success(request, _("%(number)s: %(action)s — now %(state)s.") % {
                "number": order.number, "action": label,
                "state": order.get_status_display().lower()})
            if not request.htmx:
                return redirect("sales_dashboard:order_detail", pk=order.pk)
    order = _order_or_404(pk)  # fresh state, lines and history
    context = _order_context(request, order, cancel_form=cancel_form, ship_form=ship_form,
                             open_action=action if form.errors else "")
    template = "sales/dashboard/order_detail.html"
    if request.htmx:
        # HTMX swaps 2xx and 422 only: every refusal answers 422 with the reason shown.
        return _partial_with_oob(request, template, "order-header", context,
                                 oob=("order-facts", "order-history"),
                                 status=200 if status == 200 else 422)
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------------
# Quotes: list, new
# ---------------------------------------------------------------------------------------------
QUOTE_COLUMNS = [("number", gettext_lazy("Quote"), False), (None, gettext_lazy("Customer"), False),
                 ("date", gettext_lazy("Created"), False),
                 ("valid", gettext_lazy("Valid until"), False),
                 ("total", gettext_lazy("Total incl. VAT"), True),
                 ("status", gettext_lazy("Status"), False)]


def _quote_row(quote: Quote, fmt: RowFormat) -> dict:
    customer = quote.customer
    return {
        "url": f"{_QUOTE_URL}{quote.pk}/",
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
    page = paginate(qs, page=values.get("page"), query=request.GET)
    fmt = RowFormat(QuoteStatus.choices)
    rows = [_quote_row(quote, fmt) for quote in page.items]
    path = request.path
    filtered = any(values.get(k) for k in ("q", "status", "customer", "date_from", "date_to"))
    context = {
        "values": values, "page": page, "rows": rows, "sort": sort, "filtered": filtered,
        "status": values.get("status") or "",
        "chips": _chips(request, path, QUOTE_STATUS_FILTERS, values.get("status") or ""),
        "headers": _sort_headers(request, path, QUOTE_COLUMNS, sort),
        "customer_id": values.get("customer"),
        "customer_label": _customer_label(rows, values.get("customer")),
        "clear_customer_url": _url(path, _query(request, customer=None)),
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
                _form_error(form, exc)
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
                "date": _day(quote.valid_until)}
        return _("Active: the customer can accept or decline until %(date)s.") % {
            "date": _day(quote.valid_until)}
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
        rows.append({"line": line, "net": amounts.net, "qty": _qty(line.quantity),
                     "rate": _pct(line.tax_rate),
                     "discount": _pct(line.discount_percent) if line.discount_percent else "",
                     "form": (line_errors.get(line.pk) or _line_form(line)) if editable else None,
                     "url": reverse("sales_dashboard:quote_line_edit", args=[quote.pk, line.pk]),
                     "remove_url": reverse("sales_dashboard:quote_line_remove",
                                           args=[quote.pk, line.pk])})
    actions = allowed_actions(quote, user)
    buttons = [{"name": name, "label": QUOTE_ACTIONS[name][0], "style": QUOTE_ACTIONS[name][1],
                "url": reverse("sales_dashboard:quote_action", args=[quote.pk, name])}
               for name in actions]
    buttons.sort(key=lambda b: {"primary": 0, "secondary": 1}.get(b["style"], 2))
    labels = dict(QuoteStatus.choices)
    entries = list(quote_history(quote))
    message = next((e.message for e in entries if e.verb == "customer_message"), "")
    tax_rates = list(tax_rates_list()) if editable else []
    product_q = (request.GET.get("product_q") or "").strip() if request.method == "GET" else ""
    context = {
        "quote": quote, "rows": rows, "totals": summary, "editable": editable,
        "can_edit": can_edit,
        "lines_net": before_global.net,
        "global_discount": before_global.net - summary.net,
        "vat_rows": [{"rate": rate, "rate_text": _pct(rate), "base": base, "vat": tax}
                     for rate, (base, tax) in summary.vat_by_rate.items()],
        "discount": _pct(quote.discount_percent) if quote.discount_percent else "",
        "buttons": buttons,
        "can_revise": quote.status == QuoteStatus.SENT and can_edit,
        "read_only_reason": _read_only_reason(quote, can_edit),
        "link_status": _link_status(quote),
        "requested": quote.source == QuoteSource.CART,
        "customer_message": message,
        "history": _history_rows(entries, labels),
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
            _field_or_message(request, form, exc)
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
        return _partial_with_oob(request, TEMPLATE_QUOTE, "quote-fields", context,
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
            _field_or_message(request, form, exc)
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
            _field_or_message(request, form, exc)
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
        quote = quote_send(quote=quote, by=user, base_url=_base_url(request))
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


# ---------------------------------------------------------------------------------------------
# Customers and their addresses
# ---------------------------------------------------------------------------------------------
CUSTOMER_COLUMNS = [("name", gettext_lazy("Customer"), False),
                    ("email", gettext_lazy("Email"), False),
                    (None, gettext_lazy("Kind"), False), (None, gettext_lazy("Account"), False),
                    ("orders", gettext_lazy("Orders"), True),
                    ("date", gettext_lazy("Since"), False)]
KIND_LABELS = dict(CustomerKind.choices)
STATE_LABELS = dict(CustomerState.choices)


def _customer_row(customer, fmt: RowFormat) -> dict:
    return {
        "url": f"{_CUSTOMER_URL}{customer.pk}/",
        "name": customer.display_name,
        "email": customer.email,
        "phone": customer.phone,
        "kind": KIND_LABELS.get(customer.kind, customer.kind),
        "state": customer.state,
        "state_label": STATE_LABELS.get(customer.state, customer.state),
        "orders": customer.order_count,
        "date": fmt.day(customer.created_at),
    }


@require_GET
@staff_required("sales.view_customer")
def customer_list(request: HttpRequest) -> HttpResponse:
    values = CustomerFilterForm(request.GET).values()
    sort = values.get("sort") or "-date"
    qs = customers_for_dashboard(q=(values.get("q") or "").strip(),
                                 kind=values.get("kind") or "", state=values.get("state") or "",
                                 sort=CUSTOMER_SORTS[sort])
    page = paginate(qs, page=values.get("page"), query=request.GET)
    fmt = RowFormat()
    context = {
        "values": values, "page": page,
        "rows": [_customer_row(c, fmt) for c in page.items],
        "sort": sort, "filtered": any(values.get(k) for k in ("q", "kind", "state")),
        "headers": _sort_headers(request, request.path, CUSTOMER_COLUMNS, sort),
        "form": CustomerFilterForm(request.GET),
    }
    template = "sales/dashboard/customer_list.html"
    if request.htmx and request.htmx.target == "customer-table":
        template += "#customer-table"
    return render(request, template, context)


def _customer_or_404(pk: int):
    customer = customer_get(pk=pk)
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


@require_http_methods(["GET", "POST"])
@staff_required("sales.add_customer")
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(data=form.service_data(), by=request.user)
        except SalesError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.")
                             % {"name": customer.display_name})
            return redirect("sales_dashboard:customer_detail", pk=customer.pk)
    return render(request, "sales/dashboard/customer_form.html", {"form": form},
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_required("sales.change_customer")
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_update(customer=customer, data=form.service_data(),
                                       by=request.user)
        except SalesError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("sales_dashboard:customer_detail", pk=customer.pk)
    customer = _customer_or_404(pk)  # the form changed the instance in memory
    return render(request, "sales/dashboard/customer_form.html",
                  {"form": form, "customer": customer}, status=422 if form.errors else 200)


def _customer_context(request: HttpRequest, customer, **extra) -> dict:
    user = request.user
    context = {
        "customer": customer,
        "kind_label": KIND_LABELS.get(customer.kind, ""),
        "state_label": STATE_LABELS.get(customer.state, ""),
        "addresses": list(customer.addresses.all()),  # prefetched by customer_get
        "address_form": extra.get("address_form") or AddressForm(),
        "quotes": [], "orders": [],
    }
    fmt = RowFormat(QuoteStatus.choices, OrderStatus.choices)
    if user.has_perm("sales.view_quote"):
        context["quotes"] = [_quote_row(q, fmt) for q in
                             quotes_for_dashboard(customer=customer.pk)[:PICKER_LIMIT]]
    if user.has_perm("sales.view_order"):
        context["orders"] = [_order_row(o, fmt) for o in
                             orders_for_dashboard(customer=customer.pk)[:PICKER_LIMIT]]
    return context


@require_GET
@staff_required("sales.view_customer")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    return render(request, "sales/dashboard/customer_detail.html",
                  _customer_context(request, customer))


@require_POST
@staff_required("sales.change_customer")
def address_new(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            address_save(customer=customer, data=form.service_data(),
                         default_billing=form.cleaned_data["is_default_billing"],
                         default_shipping=form.cleaned_data["is_default_shipping"])
        except SalesError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Address added."))
            return redirect(reverse("sales_dashboard:customer_detail", args=[pk]) + "#addresses")
    return render(request, "sales/dashboard/customer_detail.html",
                  _customer_context(request, customer, address_form=form), status=422)


def _address_or_404(customer, address_pk: int):
    # Only this customer's own addresses (prefetched): another id is a 404, whoever owns it.
    address = next((a for a in customer.addresses.all() if a.pk == address_pk), None)
    if address is None:
        raise Http404(_("No such address."))
    return address


@require_http_methods(["GET", "POST"])
@staff_required("sales.change_customer")
def address_edit(request: HttpRequest, pk: int, address_pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    address = _address_or_404(customer, address_pk)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            address_save(customer=customer, address=address, data=form.service_data(),
                         default_billing=form.cleaned_data["is_default_billing"],
                         default_shipping=form.cleaned_data["is_default_shipping"])
        except SalesError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect(reverse("sales_dashboard:customer_detail", args=[pk]) + "#addresses")
    return render(request, "sales/dashboard/address_form.html",
                  {"form": form, "customer": customer, "address": address},
                  status=422 if form.errors else 200)


@require_POST
@staff_required("sales.change_customer")
def address_delete_view(request: HttpRequest, pk: int, address_pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    address = _address_or_404(customer, address_pk)
    address_delete(address=address)
    messages.success(request, _("Address deleted."))
    return redirect(reverse("sales_dashboard:customer_detail", args=[pk]) + "#addresses")


# ---------------------------------------------------------------------------------------------
# Shipping methods
# ---------------------------------------------------------------------------------------------
@require_GET
@staff_required("sales.change_shippingmethod")
def shipping_list(request: HttpRequest) -> HttpResponse:
    rows = [{"method": m, "url": reverse("sales_dashboard:shipping_edit", args=[m.pk]),
             "price": money(m.price_net), "free_above": money(m.free_above)
             if m.free_above is not None else ""}
            for m in shipping_methods_all()]
    return render(request, "sales/dashboard/shipping_list.html", {"rows": rows})


def _shipping_form_page(request: HttpRequest, method: ShippingMethod | None) -> HttpResponse:
    form = ShippingMethodForm(request.POST or None, instance=method)
    if request.method == "POST" and form.is_valid():
        try:
            saved = shipping_method_save(method=method, data=form.service_data(),
                                         by=request.user)
        except SalesError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Shipping method “%(name)s” saved.") % {"name": saved.name})
            return redirect("sales_dashboard:shipping_list")
    return render(request, "sales/dashboard/shipping_form.html",
                  {"form": form, "method": method}, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_required("sales.add_shippingmethod")
def shipping_new(request: HttpRequest) -> HttpResponse:
    return _shipping_form_page(request, None)


@require_http_methods(["GET", "POST"])
@staff_required("sales.change_shippingmethod")
def shipping_edit(request: HttpRequest, pk: int) -> HttpResponse:
    method = shipping_methods_all().filter(pk=pk).first()
    if method is None:
        raise Http404(_("No such shipping method."))
    return _shipping_form_page(request, method)


# ---------------------------------------------------------------------------------------------
# Dashboard home (declared on SalesConfig.dashboard_widgets)
# ---------------------------------------------------------------------------------------------
def sales_widget(request: HttpRequest) -> str | None:
    """Dashboard home cards: open quotes, orders to ship, today's sales; each opens the list
    it counts. None when the user may not see orders."""
    user = request.user
    if not user.has_perm("sales.view_order"):
        return None
    summary = sales_summary()
    today = timezone.localdate().isoformat()
    orders_url = reverse("sales_dashboard:order_list")
    context = {
        "summary": summary,
        "show_quotes": user.has_perm("sales.view_quote"),
        "quotes_value": money(summary.open_quotes_value),
        "today_value": money(summary.today_sales),
        "quotes_url": reverse("sales_dashboard:quote_list") + "?status=open",
        "to_ship_url": f"{orders_url}?status=to_ship",
        "today_url": f"{orders_url}?date_from={today}&date_to={today}",
    }
    return render_to_string("sales/dashboard/_home_widget.html", context, request=request)
