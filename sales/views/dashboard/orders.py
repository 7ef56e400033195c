"""Orders in the dashboard: the list, the detail page and its transition buttons."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sales.errors import IllegalTransition, SalesError, TransitionForbidden
from sales.forms import (
    ORDER_SORTS,
    ORDER_STATUS_FILTERS,
    OrderCancelForm,
    OrderFilterForm,
    OrderShipForm,
)
from sales.models import (
    Customer,
    Order,
    OrderStatus,
)
from sales.selectors import (
    order_get,
    orders_for_dashboard,
    orders_total_for_dashboard,
)
from sales.services.orders import order_transition
from sales.services.workflow import ORDER_ACTIONS, allowed_actions
from sales.views.dashboard.common import (
    ORDER_URL_PREFIX,
    RowFormat,
    customer_label,
    format_pct,
    format_qty,
    list_query,
    partial_with_oob,
    sort_headers,
    status_chips,
    url_with_query,
)
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
ORDER_COLUMNS = [("number", gettext_lazy("Order"), False), (None, gettext_lazy("Customer"), False),
                 ("date", gettext_lazy("Date"), False),
                 ("total", gettext_lazy("Total incl. VAT"), True),
                 ("status", gettext_lazy("Status"), False)]


# The columns a row prints, read as dicts (no model instances to build): addresses (JSON)
# and the rest stay in the database.
ORDER_ROW_FIELDS = ("pk", "number", "status", "placed_at", "gross_total", "currency", "email",
                    "customer_id", "customer__kind", "customer__first_name",
                    "customer__last_name", "customer__company_name", "customer__email")


def order_rows(orders: Iterable[dict], fmt: RowFormat) -> list[dict]:
    """Everything a list row prints, as strings, from ORDER_ROW_FIELDS: the template stays a
    loop of plain lookups."""
    name = Customer.name_from
    return [{
        "url": f"{ORDER_URL_PREFIX}{o['pk']}/",
        "number": o["number"],
        "customer": name(kind=o["customer__kind"], first_name=o["customer__first_name"],
                         last_name=o["customer__last_name"],
                         company_name=o["customer__company_name"], email=o["customer__email"]),
        "customer_id": o["customer_id"],
        "email": o["email"],
        "date": fmt.day(o["placed_at"]),
        "total": fmt.money(o["gross_total"], o["currency"]),
        "status": o["status"],
        "status_label": fmt.labels.get(o["status"], o["status"]),
    } for o in orders]


@require_GET
@staff_required("sales.view_order")
def order_list(request: HttpRequest) -> HttpResponse:
    values = OrderFilterForm(request.GET).values()
    sort = values.get("sort") or "-date"
    filters = {"q": (values.get("q") or "").strip(), "status": values.get("status") or "",
               "customer": values.get("customer"), "date_from": values.get("date_from"),
               "date_to": values.get("date_to")}
    qs = orders_for_dashboard(**filters, sort=ORDER_SORTS[sort])
    page = paginate(qs, page=values.get("page"), query=request.GET, deferred_join=True,
                    values=ORDER_ROW_FIELDS, total=orders_total_for_dashboard(**filters))
    rows = order_rows(page.items, RowFormat(OrderStatus.choices))
    path = request.path
    filtered = any(values.get(k) for k in ("q", "status", "customer", "date_from", "date_to"))
    context = {
        "values": values, "page": page, "rows": rows, "sort": sort, "filtered": filtered,
        "status": values.get("status") or "",
        "chips": status_chips(request, path, ORDER_STATUS_FILTERS, values.get("status") or ""),
        "headers": sort_headers(request, path, ORDER_COLUMNS, sort),
        "customer_id": values.get("customer"),
        "customer_label": customer_label(rows, values.get("customer")),
        "clear_customer_url": url_with_query(path, list_query(request, customer=None)),
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
    line_rows = [{"name": line.name, "sku": line.sku, "qty": format_qty(line.quantity),
                  "unit_net": line.unit_net, "rate": format_pct(line.tax_rate),
                  "discount": format_pct(line.discount_percent) if line.discount_percent else "",
                  "net": line.net} for line in lines]
    return {
        "order": order, "buttons": buttons, "line_rows": line_rows, "totals": summary,
        "vat_rows": [{"rate": rate, "rate_text": format_pct(rate), "base": base, "vat": tax}
                     for rate, (base, tax) in summary.vat_by_rate.items()],
        "discount": format_pct(order.discount_percent) if order.discount_percent else "",
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
        return partial_with_oob(request, template, "order-header", context,
                                 oob=("order-facts", "order-history"),
                                 status=200 if status == 200 else 422)
    return render(request, template, context, status=status)


