"""The customer's quote page, reached by the signed link of the quote email (namespace
`sales_public`, under /q/): no sign-in, the token is the key. The customer reads the quote and
accepts it (typed full name as signature, terms ticked; time and IP kept) or declines it with
a reason. A tampered, superseded, expired or closed link shows a page saying so and changes
nothing. These pages are never indexed and never leak their address to another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from catalog.pricing import LineTotals, line_totals
from sales.errors import IllegalTransition, QuoteLinkInvalid, SalesError
from sales.forms_storefront import QuoteAcceptForm, QuoteDeclineForm, add_service_error
from sales.links import quote_from_link
from sales.models import Quote, QuoteLine, QuoteStatus
from sales.selectors import order_for_quote
from sales.services.quotes import quote_accept, quote_check_link, quote_decline
from sales.views.storefront import base_url, currency_symbol
from tenants.accounts.throttling import client_address

# What each refused link answers: an unknown link is not found; one that was real but can no
# longer be used is gone.
LINK_STATUS = {"invalid": 404, "superseded": 410, "expired": 410, "closed": 410}
ZERO = Decimal("0")


def client_ip(request: HttpRequest) -> str | None:
    """The address the acceptance is recorded with: the customer's, not the TLS proxy's
    (read like the rate limits read it, trusting only API_NUM_PROXIES proxies)."""
    address = client_address(request)
    return None if address == "unknown" else address


def private_page(view):
    """The link is a secret: no search engine indexes the page, no other site learns its
    address through the Referer header, no shared cache keeps it.

    `same-origin`, not `no-referrer`: with `no-referrer` browsers send `Origin: null` with the
    page's own form posts (Fetch standard), and Django's CSRF check refuses them (403): the
    customer could not accept or decline."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "same-origin"
        add_never_cache_headers(response)
        return response

    return wrapper


# ---------------------------------------------------------------------------------------------
# The quote as the customer reads it (also used by the account's quote page)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuoteRow:
    line: QuoteLine
    amounts: LineTotals  # after the line's own discount, before the quote's global discount


def quote_context(request: HttpRequest, quote: Quote, *, accept_form=None,
                  decline_form=None) -> dict:
    lines = list(quote.lines.all())
    rows = [QuoteRow(line, line_totals(line.pricing_line(), quote.currency)) for line in lines]
    summary = quote.compute_totals(lines)
    subtotal = sum((row.amounts.net for row in rows), ZERO)
    expired = quote.status == QuoteStatus.SENT and quote.is_expired_on(timezone.localdate())
    answered = quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.CONVERTED)
    return {
        "quote": quote,
        "customer": quote.customer,
        "rows": rows,
        "totals": summary,
        "subtotal": subtotal,
        "discount_amount": subtotal - summary.net,
        "order": order_for_quote(quote) if answered else None,
        "can_answer": quote.status == QuoteStatus.SENT and not expired,
        "expired": expired or quote.status == QuoteStatus.EXPIRED,
        "accept_form": accept_form or QuoteAcceptForm(),
        "decline_form": decline_form or QuoteDeclineForm(),
        "currency_symbol": currency_symbol(request),
        "shop": request.tenant,
    }


def _invalid(request: HttpRequest, exc: QuoteLinkInvalid, quote: Quote | None) -> HttpResponse:
    context = {"reason": exc.reason, "message": exc.message,
               "quote": quote if exc.reason != "invalid" else None}
    return render(request, "sales/public/quote_invalid.html", context,
                  status=LINK_STATUS.get(exc.reason, 410))


def _linked_quote(token: str) -> tuple[Quote | None, QuoteLinkInvalid | None]:
    quote = quote_from_link(token)
    try:
        quote_check_link(quote)
    except QuoteLinkInvalid as exc:
        return quote, exc
    return quote, None


def _page(request: HttpRequest, quote: Quote, token: str, *, status: int = 200,
          **forms) -> HttpResponse:
    context = quote_context(request, quote, **forms)
    context.update(token=token,
                   accept_url=reverse("sales_public:quote_accept", args=[token]),
                   decline_url=reverse("sales_public:quote_decline", args=[token]))
    return render(request, "sales/public/quote.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------
@require_safe
@private_page
def quote_page(request: HttpRequest, token: str) -> HttpResponse:
    quote, refused = _linked_quote(token)
    if refused is not None:
        return _invalid(request, refused, quote)
    return _page(request, quote, token)


@require_POST
@private_page
def quote_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    quote, refused = _linked_quote(token)
    if refused is not None:
        return _invalid(request, refused, quote)
    form = QuoteAcceptForm(request.POST)
    if form.is_valid():
        try:
            quote_accept(quote=quote, name=form.cleaned_data["name"],
                         accept_terms=form.cleaned_data["accept_terms"], ip=client_ip(request),
                         by=None, base_url=base_url(request))
        except QuoteLinkInvalid as exc:
            return _invalid(request, exc, quote)
        except IllegalTransition:
            messages.info(request, _("This quote was already answered."))
            return redirect("sales_public:quote", token=token)
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            return redirect("sales_public:quote_thanks", token=token)
    return _page(request, quote, token, status=422, accept_form=form)


@require_POST
@private_page
def quote_decline_view(request: HttpRequest, token: str) -> HttpResponse:
    quote, refused = _linked_quote(token)
    if refused is not None:
        return _invalid(request, refused, quote)
    form = QuoteDeclineForm(request.POST)
    if form.is_valid():
        try:
            quote_decline(quote=quote, reason=form.cleaned_data["reason"], by=None,
                          base_url=base_url(request))
        except QuoteLinkInvalid as exc:
            return _invalid(request, exc, quote)
        except IllegalTransition:
            messages.info(request, _("This quote was already answered."))
            return redirect("sales_public:quote", token=token)
        except SalesError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Thank you for your answer: we noted that you decline "
                                        "this quote."))
            return redirect("sales_public:quote", token=token)
    return _page(request, quote, token, status=422, decline_form=form)


@require_safe
@private_page
def quote_thanks(request: HttpRequest, token: str) -> HttpResponse:
    quote, refused = _linked_quote(token)
    if refused is not None:
        return _invalid(request, refused, quote)
    if quote.status not in (QuoteStatus.ACCEPTED, QuoteStatus.CONVERTED):
        return redirect("sales_public:quote", token=token)
    context = {"quote": quote, "order": order_for_quote(quote), "token": token}
    return render(request, "sales/public/quote_thanks.html", context)
