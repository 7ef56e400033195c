"""Shipping methods in the dashboard (managers and owners)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sales.errors import SalesError
from sales.forms import (
    ShippingMethodForm,
)
from sales.models import (
    ShippingMethod,
)
from sales.selectors import (
    shipping_methods_all,
)
from sales.services.shipping import shipping_method_save
from sales.views.dashboard.common import (
    form_error,
    money,
)
from tenants.accounts.views import staff_required


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
            form_error(form, exc)
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


