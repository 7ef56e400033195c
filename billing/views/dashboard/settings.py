"""Billing settings (numbering, payment terms, penalties, reminders, card orders) and the
shop's Stripe account: connect it, read its status, start Stripe's onboarding, disconnect."""

from __future__ import annotations

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing import stripe_gateway as gateway
from billing.errors import BillingError
from billing.forms import BillingSettingsForm, StripeConnectForm
from billing.selectors import next_document_numbers
from billing.services.invoices import billing_settings, billing_settings_update
from billing.services.payments import cards_available
from billing.services.stripe_account import (
    shop_stripe_connect,
    shop_stripe_disconnect,
    shop_stripe_onboarding_link,
    shop_stripe_refresh,
)
from sales.views.dashboard.common import form_error, shop_base_url
from tenants.accounts.views import staff_required

TEMPLATE = "billing/dashboard/settings.html"
PERM = "billing.manage_billing_settings"


def _context(request: HttpRequest, **parts) -> dict:
    shop = connection.tenant
    settings = parts.pop("settings", None) or billing_settings()
    return {
        "form": parts.get("form") or BillingSettingsForm(instance=settings),
        "next_numbers": next_document_numbers(settings),
        "shop": shop,
        "stripe_configured": gateway.is_configured(),
        "cards_available": cards_available(shop),
        "connect_form": parts.get("connect_form") or StripeConnectForm(
            initial={"account_id": shop.stripe_account_id or ""}),
        "status": parts.get("status"),
        "stripe_error": parts.get("stripe_error", ""),
    }


def _stripe_answer(request: HttpRequest, code: int = 200, **parts) -> HttpResponse:
    """The Stripe card again (HTMX) or the page; `status` (in parts) is what Stripe said."""
    context = _context(request, **parts)
    if request.htmx:
        return render(request, f"{TEMPLATE}#stripe-account", context,
                      status=200 if code == 200 else 422)
    return render(request, TEMPLATE, context, status=code)


@require_http_methods(["GET", "POST"])
@staff_required(PERM)
def settings_view(request: HttpRequest) -> HttpResponse:
    settings = billing_settings()
    if request.method == "GET":
        return render(request, TEMPLATE, _context(request, settings=settings))
    before = (settings.invoice_prefix, settings.credit_note_prefix)
    form = BillingSettingsForm(request.POST, instance=settings)
    if form.is_valid():
        try:
            saved = billing_settings_update(by=request.user, **form.service_data())
        except BillingError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Billing settings saved."))
            if (saved.invoice_prefix, saved.credit_note_prefix) != before:
                numbers = next_document_numbers(saved)
                messages.info(request, _("New prefixes apply from the next number: the next "
                                         "invoice will be %(invoice)s, the next credit note "
                                         "%(credit)s. Issued documents keep theirs.")
                              % {"invoice": numbers["invoice"], "credit": numbers["credit_note"]})
            return redirect("billing_dashboard:settings")
    return render(request, TEMPLATE, _context(request, form=form), status=422)


# ---------------------------------------------------------------------------------------------
# Stripe
# ---------------------------------------------------------------------------------------------
@require_POST
@staff_required(PERM)
def stripe_connect_view(request: HttpRequest) -> HttpResponse:
    """Store the account id, then read its status from Stripe when the platform has keys."""
    shop = connection.tenant
    form = StripeConnectForm(request.POST)
    if not form.is_valid():
        return _stripe_answer(request, 422, connect_form=form)
    try:
        shop_stripe_connect(shop=shop, account_id=form.cleaned_data["account_id"],
                            by=request.user)
    except BillingError as exc:
        form_error(form, exc)
        return _stripe_answer(request, 422, connect_form=form)
    messages.success(request, _("Stripe account %(account)s connected.")
                     % {"account": shop.stripe_account_id})
    status, problem = None, ""
    if gateway.is_configured():
        try:
            status = shop_stripe_refresh(shop=shop)
        except BillingError as exc:
            problem = exc.message
    return _stripe_answer(request, status=status, stripe_error=problem)


@require_POST
@staff_required(PERM)
def stripe_refresh_view(request: HttpRequest) -> HttpResponse:
    """Ask Stripe again (after the owner finished onboarding, or Stripe asked for more)."""
    try:
        status = shop_stripe_refresh(shop=connection.tenant)
    except BillingError as exc:
        return _stripe_answer(request, 422, stripe_error=exc.message)
    messages.success(request, _("Stripe status updated."))
    return _stripe_answer(request, status=status)


@require_POST
@staff_required(PERM)
def stripe_disconnect_view(request: HttpRequest) -> HttpResponse:
    try:
        shop_stripe_disconnect(shop=connection.tenant, by=request.user)
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Stripe disconnected: customers can no longer pay by card."))
    url = reverse("billing_dashboard:settings")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _onboarding_redirect(request: HttpRequest) -> HttpResponse:
    base = shop_base_url(request)
    try:
        url = shop_stripe_onboarding_link(
            shop=connection.tenant, by=request.user,
            email=connection.tenant.owner_email or request.user.email,
            refresh_url=base + reverse("billing_dashboard:stripe_onboarding_refresh"),
            return_url=base + reverse("billing_dashboard:stripe_onboarding_return"))
    except BillingError as exc:
        messages.error(request, exc.message)
        return redirect("billing_dashboard:settings")
    # Stripe's own page (another site): a plain redirect, never an HTMX swap.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@staff_required(PERM)
def stripe_onboarding_view(request: HttpRequest) -> HttpResponse:
    """Production onboarding: an Express account for the shop (made once), then Stripe's
    hosted pages where the owner gives their identity and bank details."""
    return _onboarding_redirect(request)


@require_GET
@staff_required(PERM)
def stripe_onboarding_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe sends the owner here when the onboarding link expired: a new one (for the
    account already made; never a second account)."""
    if not connection.tenant.stripe_account_id:
        return redirect("billing_dashboard:settings")
    return _onboarding_redirect(request)


@require_GET
@staff_required(PERM)
def stripe_onboarding_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe's onboarding: read the account's status and say where it stands."""
    shop = connection.tenant
    if shop.stripe_account_id:
        try:
            status = shop_stripe_refresh(shop=shop)
        except BillingError as exc:
            messages.error(request, exc.message)
        else:
            if status.charges_enabled:
                messages.success(request, _("Stripe is ready: customers can pay by card."))
            else:
                messages.warning(request, _("Stripe still needs information before card "
                                            "payments can start: continue the onboarding."))
    return redirect("billing_dashboard:settings")

