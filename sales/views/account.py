"""Customer accounts on the storefront (namespace `sales_account`, under /account/): sign-up,
sign-in (the visitor's cart joins the customer's), sign-out, password reset, and the
customer's own orders, quotes (accept or decline) and addresses.

Every document is read through a customer's fetcher (sales.selectors.*_for_customer): another
customer's order or quote is a 404, whatever number or id is typed.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from sales.errors import IllegalTransition, QuoteLinkInvalid, SalesError
from sales.forms_storefront import (
    AddressForm,
    CustomerLoginForm,
    QuoteAcceptForm,
    QuoteDeclineForm,
    SignUpForm,
    add_service_error,
)
from sales.models import Customer, OrderStatus, QuoteStatus
from sales.selectors import (
    address_get_for_customer,
    addresses_for_customer,
    order_get_for_customer,
    orders_for_customer,
    quote_get_for_customer,
    quotes_for_customer,
    request_customer,
)
from sales.services.carts import cart_merge
from sales.services.customers import address_delete, address_save, customer_register
from sales.services.quotes import quote_accept, quote_decline
from sales.views.public import client_ip, quote_context
from sales.views.storefront import (
    base_url,
    currency_symbol,
    order_context,
    refresh_cart_count,
)
from tenants.accounts.throttling import (
    ThrottledLoginView,
    ThrottledPasswordResetView,
    attempt,
    refused,
)
from tenants.pagination import paginate

AUTH_BACKEND = "tenants.accounts.backends.StaffBackend"


def customer_required(view):
    """Account pages: a signed-in customer (staff have no customer record: they shop as
    visitors and work in the dashboard). The view gets the customer as second argument."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("sales_account:login"))
        customer = request_customer(request)
        if customer is None:
            raise PermissionDenied(_("This page is for the shop's customers."))
        return view(request, customer, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return default


def _after_sign_in(request: HttpRequest) -> None:
    """The visitor's cart joins the customer's; what changed is said, never silent."""
    # The visitor became a customer in this request: forget who they were before.
    request.__dict__.pop("_sales_customer", None)
    customer = request_customer(request)
    if customer is None:
        return
    for change in cart_merge(session=request.session, customer=customer):
        messages.info(request, change)
    refresh_cart_count(request)


# ---------------------------------------------------------------------------------------------
# Sign-up, sign-in, sign-out, password reset
# ---------------------------------------------------------------------------------------------
class CustomerLoginView(ThrottledLoginView):
    template_name = "sales/account/login.html"
    form_class = CustomerLoginForm
    next_page = reverse_lazy("sales_account:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        _after_sign_in(self.request)
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        refusal = attempt(request, action="signup", email=data["email"])
    if refusal is not None:
        form.add_error(None, refusal.message)
    elif request.method == "POST" and form.is_valid():
        try:
            customer = customer_register(email=data["email"], password=data["password1"],
                                         first_name=data["first_name"],
                                         last_name=data["last_name"], phone=data["phone"])
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            login(request, customer.user, backend=AUTH_BACKEND)
            _after_sign_in(request)
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect(_next_url(request, reverse("sales_account:home")))
    context = {"form": form, "next": _next_url(request, "")}
    response = render(request, "sales/account/signup.html", context,
                      status=422 if form.errors else 200)
    return refused(response, refusal) if refusal else response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("catalog:home")


class CustomerPasswordResetView(ThrottledPasswordResetView):
    template_name = "sales/account/password_reset.html"
    email_template_name = "sales/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("sales_account:password_reset_done")

    def form_valid(self, form):
        self.extra_email_context = {"site_name": self.request.tenant.name}
        return super().form_valid(form)


password_reset = CustomerPasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="sales/account/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="sales/account/password_reset_confirm.html",
    success_url=reverse_lazy("sales_account:login"), post_reset_login=False)


# ---------------------------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------------------------
@require_safe
@customer_required
def home(request: HttpRequest, customer: Customer) -> HttpResponse:
    context = {
        "customer": customer,
        "orders": list(orders_for_customer(customer)[:3]),
        "open_quotes": list(quotes_for_customer(customer).filter(status=QuoteStatus.SENT)[:3]),
        "addresses": list(addresses_for_customer(customer)[:2]),
        "section": "home",
    }
    return render(request, "sales/account/home.html", context)


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


@require_safe
@customer_required
def orders(request: HttpRequest, customer: Customer) -> HttpResponse:
    page = paginate(orders_for_customer(customer), page=_page_number(request), query=request.GET)
    context = {"page": page, "section": "orders", "currency_symbol": currency_symbol(request)}
    return render(request, "sales/account/orders.html", context)


@require_safe
@customer_required
def order_detail(request: HttpRequest, customer: Customer, number: str) -> HttpResponse:
    order = order_get_for_customer(customer=customer, number=number)
    if order is None:
        raise Http404(_("No such order."))
    context = order_context(request, order)
    context["section"] = "orders"
    context["awaiting_payment"] = (order.status == OrderStatus.PENDING
                                   and order.payment_method == "bank_transfer")
    return render(request, "sales/account/order_detail.html", context)


# ---------------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------------
@require_safe
@customer_required
def quotes(request: HttpRequest, customer: Customer) -> HttpResponse:
    page = paginate(quotes_for_customer(customer), page=_page_number(request), query=request.GET)
    context = {"page": page, "section": "quotes", "currency_symbol": currency_symbol(request)}
    return render(request, "sales/account/quotes.html", context)


def _quote_or_404(customer: Customer, pk: int):
    quote = quote_get_for_customer(customer=customer, pk=pk)
    if quote is None:
        raise Http404(_("No such quote."))
    return quote


def _quote_page(request: HttpRequest, quote, *, accept_form=None, decline_form=None,
                status: int = 200) -> HttpResponse:
    context = quote_context(request, quote, accept_form=accept_form, decline_form=decline_form)
    context.update(section="quotes",
                   accept_url=reverse("sales_account:quote_accept", args=[quote.pk]),
                   decline_url=reverse("sales_account:quote_decline", args=[quote.pk]))
    return render(request, "sales/account/quote_detail.html", context, status=status)


@require_safe
@customer_required
def quote_detail(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    return _quote_page(request, _quote_or_404(customer, pk))


@require_POST
@customer_required
def quote_accept_view(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    quote = _quote_or_404(customer, pk)
    form = QuoteAcceptForm(request.POST)
    if form.is_valid():
        try:
            order = quote_accept(quote=quote, name=form.cleaned_data["name"],
                                 accept_terms=form.cleaned_data["accept_terms"],
                                 ip=client_ip(request), by=None, base_url=base_url(request))
        except (QuoteLinkInvalid, IllegalTransition) as exc:
            messages.error(request, exc.message)
            return redirect("sales_account:quote_detail", pk=quote.pk)
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            if order is not None:
                messages.success(request, _("Thank you: quote %(quote)s is accepted and your "
                                            "order %(order)s is placed.")
                                 % {"quote": quote.reference, "order": order.number})
            else:
                messages.success(request, _("Thank you: quote %(quote)s is accepted. We confirm "
                                            "your order shortly.") % {"quote": quote.reference})
            return redirect("sales_account:quote_detail", pk=quote.pk)
    return _quote_page(request, quote, accept_form=form, status=422)


@require_POST
@customer_required
def quote_decline_view(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    quote = _quote_or_404(customer, pk)
    form = QuoteDeclineForm(request.POST)
    if form.is_valid():
        try:
            quote_decline(quote=quote, reason=form.cleaned_data["reason"], by=None,
                          base_url=base_url(request))
        except (QuoteLinkInvalid, IllegalTransition) as exc:
            messages.error(request, exc.message)
            return redirect("sales_account:quote_detail", pk=quote.pk)
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Quote %(quote)s is declined. Thank you for telling us "
                                        "why.") % {"quote": quote.reference})
            return redirect("sales_account:quote_detail", pk=quote.pk)
    return _quote_page(request, quote, decline_form=form, status=422)


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
@require_safe
@customer_required
def addresses(request: HttpRequest, customer: Customer) -> HttpResponse:
    context = {"addresses": list(addresses_for_customer(customer)), "section": "addresses"}
    return render(request, "sales/account/addresses.html", context)


def _address_or_404(customer: Customer, pk: int):
    address = address_get_for_customer(customer=customer, pk=pk)
    if address is None:
        raise Http404(_("No such address."))
    return address


@require_http_methods(["GET", "POST"])
@customer_required
def address_form(request: HttpRequest, customer: Customer, pk: int | None = None
                 ) -> HttpResponse:
    address = _address_or_404(customer, pk) if pk is not None else None
    initial = {}
    if address is not None:
        initial = {**address.snapshot(), "default_billing": address.is_default_billing,
                   "default_shipping": address.is_default_shipping}
    else:
        initial = {"full_name": f"{customer.first_name} {customer.last_name}".strip(),
                   "phone": customer.phone, "country": "FR"}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            address_save(customer=customer, data=form.address_data(), address=address,
                         default_billing=form.cleaned_data["default_billing"],
                         default_shipping=form.cleaned_data["default_shipping"])
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect("sales_account:addresses")
    context = {"form": form, "address": address, "section": "addresses"}
    return render(request, "sales/account/address_form.html", context,
                  status=422 if form.errors else 200)


@require_POST
@customer_required
def address_delete_view(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    address_delete(address=_address_or_404(customer, pk))
    messages.success(request, _("Address deleted."))
    return redirect("sales_account:addresses")
