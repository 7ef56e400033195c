"""Customers in the dashboard: the list, create and edit, the detail page with their
documents, and their addresses."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sales.errors import SalesError
from sales.forms import (
    CUSTOMER_SORTS,
    AddressForm,
    CustomerFilterForm,
    CustomerForm,
)
from sales.models import (
    CustomerKind,
    CustomerState,
    OrderStatus,
    QuoteStatus,
)
from sales.selectors import (
    customer_get,
    customers_for_dashboard,
    orders_for_dashboard,
    quotes_for_dashboard,
)
from sales.services.customers import (
    address_delete,
    address_save,
    customer_create,
    customer_update,
)
from sales.views.dashboard.common import (
    CUSTOMER_URL_PREFIX,
    PICKER_LIMIT,
    RowFormat,
    form_error,
    sort_headers,
)
from sales.views.dashboard.orders import ORDER_ROW_FIELDS, order_rows
from sales.views.dashboard.quotes import quote_row
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

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
        "url": f"{CUSTOMER_URL_PREFIX}{customer.pk}/",
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
    page = paginate(qs, page=values.get("page"), query=request.GET, deferred_join=True)
    fmt = RowFormat()
    context = {
        "values": values, "page": page,
        "rows": [_customer_row(c, fmt) for c in page.items],
        "sort": sort, "filtered": any(values.get(k) for k in ("q", "kind", "state")),
        "headers": sort_headers(request, request.path, CUSTOMER_COLUMNS, sort),
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
            form_error(form, exc)
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
            form_error(form, exc)
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
        context["quotes"] = [quote_row(q, fmt) for q in
                             quotes_for_dashboard(customer=customer.pk)[:PICKER_LIMIT]]
    if user.has_perm("sales.view_order"):
        context["orders"] = order_rows(orders_for_dashboard(customer=customer.pk)
                                       .values(*ORDER_ROW_FIELDS)[:PICKER_LIMIT], fmt)
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
            form_error(form, exc)
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
            form_error(form, exc)
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


