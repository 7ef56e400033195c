"""Storefront: the cart (add, change, remove, request a quote) and the checkout (details,
review, place, confirmation), on the shop's host (namespace `sales_store`).

A GET never creates a cart; writes go through the cart and checkout services. The header's
"Cart (n)" reads `request.session["cart_count"]`, kept up to date here after every change, so
pages show it without a query.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalog.pricing import currency_symbol as symbol_of
from catalog.pricing import gross
from sales.errors import SalesError
from sales.forms_storefront import (
    NEW,
    PAYMENT_HINTS,
    SAME,
    AddToCartForm,
    CheckoutForm,
    QuoteRequestForm,
    add_service_error,
    payment_methods_for,
)
from sales.models import ADDRESS_FIELDS, Customer, OrderStatus, PaymentMethod
from sales.selectors import (
    CartView,
    ShippingOption,
    addresses_for_customer,
    cart_for_request,
    cart_item_count,
    cart_view,
    checkout_totals,
    order_get_for_visitor,
    product_for_cart,
    request_customer,
    shipping_methods_all,
    shipping_options,
)
from sales.services.carts import (
    cart_add,
    cart_get_or_create,
    cart_remove_line,
    cart_set_quantity,
)
from sales.services.checkout import CheckoutInput, checkout_place_order
from sales.services.customers import address_validate
from sales.services.quotes import quote_request_from_cart
from tenants.urls_util import shop_url

CART_TEMPLATE = "sales/storefront/cart.html"
CART_BODY = "cart-body"
ADD_TEMPLATE = "sales/storefront/_add_to_cart.html"
COUNT_SESSION_KEY = "cart_count"
CHECKOUT_SESSION_KEY = "checkout"
CHECKOUT_KEY_SESSION_KEY = "checkout_key"
GUEST_ORDERS_SESSION_KEY = "guest_orders"
GUEST_ORDERS_KEPT = 20


# ---------------------------------------------------------------------------------------------
# Helpers shared with the account pages
# ---------------------------------------------------------------------------------------------
def currency_symbol(request: HttpRequest) -> str:
    currency = getattr(request.tenant, "currency", "") or "EUR"
    return symbol_of(currency)


def base_url(request: HttpRequest) -> str:
    """This shop's address as the customer reached it, for the links of emails."""
    return shop_url(request, request.get_host().split(":")[0], "")


def remember_cart_count(request: HttpRequest, count: int) -> None:
    """The header's "Cart (n)": written only when it changes, so a page view stays a read."""
    if request.session.get(COUNT_SESSION_KEY, 0) != count:
        request.session[COUNT_SESSION_KEY] = count


def refresh_cart_count(request: HttpRequest) -> None:
    """After sign-in (a merge) or when the customer's cart may have changed elsewhere."""
    remember_cart_count(request, cart_item_count(cart_for_request(request)))


def _login_url(next_url: str) -> str:
    return f"{reverse('sales_account:login')}?{urlencode({'next': next_url})}"


# ---------------------------------------------------------------------------------------------
# Cart
# ---------------------------------------------------------------------------------------------
def _cart_context(request: HttpRequest, view: CartView, *, errors: dict | None = None,
                  typed: dict | None = None, quote_form: QuoteRequestForm | None = None) -> dict:
    errors, typed = errors or {}, typed or {}
    for row in view.rows:
        # What the line shows besides its problems: the last change's refusal, and what the
        # customer typed (kept on an error, never lost).
        row.error = errors.get(row.line.pk, "")
        row.typed = typed.get(row.line.pk)
    customer = request_customer(request)
    return {
        "view": view,
        "currency_symbol": currency_symbol(request),
        "customer": customer,
        "quote_form": quote_form or QuoteRequestForm(),
        "login_url": _login_url(reverse("sales_store:cart")),
        "signup_url": (f"{reverse('sales_account:signup')}?"
                       f"{urlencode({'next': reverse('sales_store:cart')})}"),
    }


def _cart_answer(request: HttpRequest, view: CartView, *, status: int = 200,
                 **extra) -> HttpResponse:
    """The cart table (HTMX: with the header count and the messages out of band), or the page."""
    remember_cart_count(request, view.count)
    template = f"{CART_TEMPLATE}#{CART_BODY}" if request.htmx else CART_TEMPLATE
    return render(request, template, _cart_context(request, view, **extra), status=status)


@require_safe
def cart_page(request: HttpRequest) -> HttpResponse:
    return _cart_answer(request, cart_view(cart_for_request(request)))


@require_POST
def cart_add_view(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    product = product_for_cart(pk=form.cleaned_data["product"]) if form.is_valid() else None
    if product is None:
        raise Http404(_("No such product."))
    error = ""
    try:
        cart = cart_get_or_create(session=request.session, customer=request_customer(request))
        cart_add(cart=cart, product=product, quantity=form.cleaned_data["quantity"])
    except SalesError as exc:
        error = exc.message
    else:
        remember_cart_count(request, cart_item_count(cart))
        messages.success(request, _("%(product)s is in your cart.") % {"product": product.name})
    if request.htmx:
        context = {"product": product, "cart_error": error, "added": not error,
                   "cart_quantity": form.cleaned_data["quantity"] if error else "1"}
        return render(request, ADD_TEMPLATE, context, status=422 if error else 200)
    if error:
        messages.error(request, error)
        return redirect(product.get_absolute_url())
    return redirect("sales_store:cart")


@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    cart = cart_for_request(request)
    quantity = request.POST.get("quantity", "").strip()
    if cart is None:
        messages.error(request, _("This line is no longer in your cart."))
        return _cart_answer(request, cart_view(None)) if request.htmx else redirect(
            "sales_store:cart")
    try:
        line = cart_set_quantity(cart=cart, line_id=line_id, quantity=quantity)
    except SalesError as exc:
        view = cart_view(cart)
        if not request.htmx and not any(row.line.pk == line_id for row in view.rows):
            messages.error(request, exc.message)
            return redirect("sales_store:cart")
        return _cart_answer(request, view, status=422, errors={line_id: exc.message},
                            typed={line_id: quantity})
    if line is None:
        messages.success(request, _("Removed from your cart."))
    else:
        messages.success(request, _("Quantity updated."))
    if request.htmx:
        return _cart_answer(request, cart_view(cart))
    remember_cart_count(request, cart_item_count(cart))
    return redirect("sales_store:cart")


@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    cart = cart_for_request(request)
    if cart is not None:
        cart_remove_line(cart=cart, line_id=line_id)
        messages.success(request, _("Removed from your cart."))
    if request.htmx:
        return _cart_answer(request, cart_view(cart))
    remember_cart_count(request, cart_item_count(cart))
    return redirect("sales_store:cart")


@require_POST
def cart_quote_request(request: HttpRequest) -> HttpResponse:
    """A signed-in customer asks for a quote for what is in their cart."""
    customer = request_customer(request)
    if customer is None:
        messages.info(request, _("Sign in or create an account to request a quote."))
        return redirect(_login_url(reverse("sales_store:cart")))
    form = QuoteRequestForm(request.POST)
    cart = cart_for_request(request)
    if form.is_valid():
        try:
            if cart is None:
                raise SalesError(_("Your cart is empty."))
            quote = quote_request_from_cart(cart=cart, customer=customer,
                                            message=form.cleaned_data["message"],
                                            base_url=base_url(request))
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Thank you: we received your request for a quote "
                                        "(%(number)s). We will email you our offer.")
                             % {"number": quote.reference})
            return redirect("sales_store:cart")
    return _cart_answer(request, cart_view(cart), status=422, quote_form=form)


# ---------------------------------------------------------------------------------------------
# Checkout: details -> review -> place -> done
# ---------------------------------------------------------------------------------------------
def _ready_cart(request: HttpRequest) -> tuple[CartView, HttpResponse | None]:
    """The cart, or where to send the customer when it cannot be checked out."""
    view = cart_view(cart_for_request(request))
    remember_cart_count(request, view.count)
    if view.is_empty:
        messages.info(request, _("Your cart is empty: add a product before checking out."))
        return view, redirect("sales_store:cart")
    if view.blocking:
        messages.error(request, _("Some lines of your cart need your attention before you can "
                                  "check out."))
        return view, redirect("sales_store:cart")
    return view, None


def _initial_for(customer: Customer | None, addresses) -> dict:
    if customer is None:
        return {}
    initial = {"email": customer.email, "first_name": customer.first_name,
               "last_name": customer.last_name, "phone": customer.phone,
               "company_name": customer.company_name}
    billing = next((a for a in addresses if a.is_default_billing), None)
    shipping = next((a for a in addresses if a.is_default_shipping), None)
    if billing is not None:
        initial["billing_choice"] = str(billing.pk)
    if shipping is not None and shipping != billing:
        initial["shipping_choice"] = str(shipping.pk)
    return initial


def _checkout_data(form: CheckoutForm) -> dict | None:
    """What the review and the order need, JSON-ready for the session; None (with the errors
    on the form) when an address does not pass the service's checks."""
    cleaned = form.cleaned_data
    choice = cleaned["billing_choice"]
    try:
        billing = (address_validate(form.address("billing_")) if choice == NEW
                   else form.addresses[choice].snapshot())
    except SalesError as exc:
        add_service_error(form, exc, prefix="billing_")
        return None
    shipping = None
    if not form.is_pickup():
        choice = cleaned["shipping_choice"]
        try:
            if choice == NEW:
                shipping = address_validate(form.address("shipping_"))
            elif choice != SAME:
                shipping = form.addresses[choice].snapshot()
        except SalesError as exc:
            add_service_error(form, exc, prefix="shipping_")
            return None
    return {
        "form": {name: value for name, value in cleaned.items() if isinstance(value, str)},
        "contact": {name: cleaned[name].strip() for name in
                    ("email", "first_name", "last_name", "phone", "company_name")},
        "billing": billing,
        "shipping": shipping,
        "shipping_method": int(cleaned["shipping_method"]),
        "payment_method": cleaned["payment_method"],
        "note": cleaned["note"].strip(),
    }


@require_http_methods(["GET", "POST"])
def checkout_details(request: HttpRequest) -> HttpResponse:
    view, elsewhere = _ready_cart(request)
    if elsewhere is not None:
        return elsewhere
    customer = request_customer(request)
    addresses = list(addresses_for_customer(customer)) if customer is not None else []
    options = shipping_options(goods_gross=view.totals.gross)
    stored = request.session.get(CHECKOUT_SESSION_KEY)
    initial = dict(stored["form"]) if stored else _initial_for(customer, addresses)
    form = CheckoutForm(request.POST or None, initial=initial, addresses=addresses,
                        shipping_options=options, payment_methods=payment_methods_for(request.tenant))
    if request.method == "POST" and form.is_valid():
        data = _checkout_data(form)
        if data is not None:
            request.session[CHECKOUT_SESSION_KEY] = data
            return redirect("sales_store:checkout_review")
    context = {
        "form": form, "view": view, "options": options, "customer": customer,
        "currency_symbol": currency_symbol(request), "payment_hints": PAYMENT_HINTS,
        "cards_offered": PaymentMethod.CARD in form.payment_methods,
        "login_url": _login_url(reverse("sales_store:checkout")),
        "new_choice": NEW, "same_choice": SAME,
    }
    return render(request, "sales/storefront/checkout.html", context,
                  status=422 if form.errors else 200)


def _chosen_option(view: CartView, data: dict) -> ShippingOption | None:
    return next((o for o in shipping_options(goods_gross=view.totals.gross)
                 if o.method.pk == data.get("shipping_method")), None)


@require_safe
def checkout_review(request: HttpRequest) -> HttpResponse:
    view, elsewhere = _ready_cart(request)
    if elsewhere is not None:
        return elsewhere
    data = request.session.get(CHECKOUT_SESSION_KEY)
    if not data:
        return redirect("sales_store:checkout")
    option = _chosen_option(view, data)
    if option is None:
        messages.error(request, _("This delivery option is no longer offered: choose another."))
        return redirect("sales_store:checkout")
    if data["payment_method"] not in payment_methods_for(request.tenant):
        messages.error(request, _("Card payments are no longer available: choose another way "
                                  "to pay."))
        return redirect("sales_store:checkout")
    summary = checkout_totals(view, option)
    # A new one-time key per review: placing the order twice with it finds the first order.
    key = secrets.token_urlsafe(24)
    request.session[CHECKOUT_KEY_SESSION_KEY] = key
    context = {
        "view": view, "option": option, "totals": summary, "data": data,
        "billing": address_lines(data["billing"]),
        "shipping": address_lines(data["shipping"] or data["billing"]),
        "is_pickup": option.method.kind == "pickup",
        "payment_label": PaymentMethod(data["payment_method"]).label,
        "checkout_key": key, "expected_gross_total": f"{summary.gross:f}",
        "currency_symbol": currency_symbol(request),
    }
    return render(request, "sales/storefront/checkout_review.html", context)


def address_lines(address: dict | None) -> list[str]:
    if not address:
        return []
    city = " ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p)
    parts = [address.get(name, "") for name in ("full_name", "company", "line1", "line2")]
    parts += [city, address.get("country", ""), address.get("phone", "")]
    return [p for p in parts if p]


def _expected_total(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _guest_numbers(request: HttpRequest) -> list[str]:
    return list(request.session.get(GUEST_ORDERS_SESSION_KEY, []))


@require_POST
def checkout_place(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("checkout_key", "").strip()[:64]
    customer = request_customer(request)
    # A second submit of the same form: the order it placed, not an error.
    placed = (order_get_for_visitor(customer=customer, guest_numbers=_guest_numbers(request),
                                    checkout_key=key) if key else None)
    if placed is not None:
        return redirect(_after_placing(placed))
    data = request.session.get(CHECKOUT_SESSION_KEY)
    if not data:
        return redirect("sales_store:checkout")
    if not key or key != request.session.get(CHECKOUT_KEY_SESSION_KEY):
        messages.error(request, _("This checkout form has expired: review your order again."))
        return redirect("sales_store:checkout_review")
    cart = cart_for_request(request)
    method = shipping_methods_all().filter(pk=data["shipping_method"]).first()
    if cart is None or method is None:
        return redirect("sales_store:checkout_review")
    contact = data["contact"]
    order_input = CheckoutInput(
        email=contact["email"], first_name=contact["first_name"], last_name=contact["last_name"],
        company_name=contact["company_name"], phone=contact["phone"],
        billing_address=dict(data["billing"]),
        shipping_address=dict(data["shipping"]) if data["shipping"] else None,
        shipping_method=method, payment_method=data["payment_method"], checkout_key=key,
        note=data["note"], expected_gross_total=_expected_total(
            request.POST.get("expected_gross_total", "")))
    try:
        order = checkout_place_order(cart=cart, customer=customer, data=order_input,
                                     base_url=base_url(request))
    except SalesError as exc:
        messages.error(request, exc.message)
        return redirect(_after_refusal(exc, cart))
    for name in (CHECKOUT_SESSION_KEY, CHECKOUT_KEY_SESSION_KEY):
        request.session.pop(name, None)
    request.session[COUNT_SESSION_KEY] = 0
    if customer is None:
        numbers = [n for n in _guest_numbers(request) if n != order.number] + [order.number]
        request.session[GUEST_ORDERS_SESSION_KEY] = numbers[-GUEST_ORDERS_KEPT:]
    return redirect(_after_placing(order))


def _after_placing(order) -> str:
    """A card order waiting for its payment goes on to billing's card payment page (by URL:
    sales never imports billing); any other order to its confirmation."""
    if order.payment_method == PaymentMethod.CARD and order.status == OrderStatus.PENDING:
        return reverse("billing_pay:order", args=[order.number])
    return reverse("sales_store:checkout_done", args=[order.number])


_DETAIL_FIELDS = {"email", "payment_method", "shipping_method", *ADDRESS_FIELDS}


def _after_refusal(exc: SalesError, cart) -> str:
    """Where the customer can fix what the checkout refused: the details form (an address, a
    delivery option), the cart (a line), or the review (prices changed)."""
    if exc.field in _DETAIL_FIELDS:
        return reverse("sales_store:checkout")
    view = cart_view(cart)
    if view.is_empty or view.blocking:
        return reverse("sales_store:cart")
    return reverse("sales_store:checkout_review")


@require_safe
def checkout_done(request: HttpRequest, number: str) -> HttpResponse:
    customer = request_customer(request)
    order = order_get_for_visitor(customer=customer, guest_numbers=_guest_numbers(request),
                                  number=number)
    if order is None:
        raise Http404(_("No such order."))
    context = order_context(request, order)
    context["is_registered"] = customer is not None and order.customer_id == customer.pk
    return render(request, "sales/storefront/checkout_done.html", context)


def order_context(request: HttpRequest, order) -> dict:
    """What an order's page prints (confirmation page, the customer's order page)."""
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "shipping_gross": gross(order.shipping_net, order.shipping_tax_rate, order.currency),
        "currency_symbol": currency_symbol(request),
        "shipping": address_lines(order.shipping_address),
        "billing": address_lines(order.billing_address),
    }
