"""Test support (never imported by the application): a local Stripe stand-in for tests and local
runs, made of the `localstripe` package plus what our gateway needs and localstripe lacks.

localstripe (GPL, a dev/test dependency only) serves a stateful fake Stripe API on aiohttp:
customers, payment methods, payment intents, charges, refunds, events... but no Checkout
Sessions, no Connect accounts, no idempotency keys, and its refunds refuse Connect parameters.
`build_app()` makes one aiohttp application serving localstripe's own routes and these:

Stripe API (secret key required, `Stripe-Account` honoured as Connect does):
  POST /v1/checkout/sessions                 hosted Checkout Session (`cs_test_...`), payment mode
  GET  /v1/checkout/sessions/{id}            only on the account that created it
  POST /v1/checkout/sessions/{id}/expire     open -> expired (`checkout.session.expired`)
  POST /v1/refunds                           on our payment intents: partial/full, over-refund
                                             refused, `refund_application_fee`; `charge.refunded`
  GET  /v1/accounts/{id}, POST /v1/accounts, POST /v1/account_links   connected accounts
  every POST: `Idempotency-Key` (per account): same key and parameters -> the same answer
  (`Idempotent-Replayed: true`); same key, other parameters -> 400 idempotency_error.

Browser pages (no key, like Stripe's hosted pages):
  GET/POST /pay/{session_id}      the hosted checkout: a card number and "Pay". 4242424242424242
                                  (any 16 digits Stripe's test cards do not decline) pays;
                                  4000000000000002 (and localstripe's other declined test cards)
                                  shows "Your card was declined." and leaves the session open,
                                  sending nothing. The second form debits an IBAN (SEPA, delayed):
                                  the session completes unpaid and the money settles later (see
                                  settle below); IBAN DE62370400440532013001 fails.
                                  On success: the session completes, a PaymentIntent and Charge
                                  exist in localstripe (fee and metadata on them), a signed
                                  `checkout.session.completed` is POSTed to the shop webhook (and
                                  its answer awaited, unless a delivery delay is configured), then
                                  the browser is redirected (303) to success_url
                                  (`{CHECKOUT_SESSION_ID}` replaced).
  GET/POST /connect/onboard/{token}   the account link: "Submit" enables the account (sends
                                  `account.updated`) and redirects to return_url.

Test control (no key):
  POST /_config/shop_webhook {url, secret, async_settle_seconds, delivery_delay_seconds}
                                  where events go ("" = nowhere: events are still recorded);
                                  SEPA debits settle by themselves after async_settle_seconds,
                                  or only when told (default); delivery_delay_seconds > 0 sends
                                  events that long after (so the customer's browser is back on
                                  the shop, "processing", before the webhook arrives)
  GET/DELETE /_config/shop_webhook/deliveries      every event sent: body, signature, answer
  POST /_config/shop_webhook/redeliver/{event_id}  send an event again (new signature)
  GET  /_config/checkout/sessions/{id}             the session with what Stripe does not show:
                                  stripe_account, line_items, payment_intent_data, fee...
  POST /_config/checkout/sessions/{id}/settle {outcome: succeeded|failed}   the delayed debit
                                  settles: `checkout.session.async_payment_succeeded`, or
                                  `payment_intent.payment_failed` + `...async_payment_failed`

Events carry `account` (the session's Stripe-Account) and are signed with
`stripe.WebhookSignature.generate_signature_header` and the configured secret.

Run it alone: `python -m tests.support.localstripe_ext --port 8420 --webhook-url URL
--webhook-secret whsec_...`, then STRIPE_API_BASE=http://127.0.0.1:8420 STRIPE_SECRET_KEY=sk_test_x.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import stripe
from aiohttp import web
from localstripe import server as ls_server
from localstripe.errors import UserError
from localstripe.resources import (
    BalanceTransaction,
    Charge,
    Event,
    PaymentIntent,
    PaymentMethod,
    Refund,
    StripeObject,
    store,
)

API_VERSION = stripe.api_version
SESSION_LIFETIME = 24 * 3600
DELIVERY_TIMEOUT = 30  # seconds the shop has to answer a webhook
FAILING_IBAN = "DE62370400440532013001"  # localstripe's debit that fails


@dataclass
class ExtState:
    """What this extension keeps besides localstripe's store (one per application)."""

    webhook_url: str = ""
    webhook_secret: str = ""
    async_settle_seconds: float | None = None
    delivery_delay_seconds: float = 0.0
    deliveries: list[dict] = field(default_factory=list)
    idempotent: dict[tuple[str, str], dict] = field(default_factory=dict)
    in_flight: set[tuple[str, str]] = field(default_factory=set)
    links: dict[str, dict] = field(default_factory=dict)


STATE = web.AppKey("localstripe_ext_state", ExtState)


# ---------------------------------------------------------------------------------------------
# Errors shaped like Stripe's (the SDK maps them to its exception classes)
# ---------------------------------------------------------------------------------------------
def _error(status: int, message: str, *, code: str | None = None, param: str | None = None,
           kind: str = "invalid_request_error") -> web.Response:
    body: dict[str, Any] = {"type": kind, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return web.json_response({"error": body}, status=status)


class StripeFailure(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.response = _error(status, message, code=code, param=param)


def _missing(kind: str, id_: str, param: str) -> StripeFailure:
    return StripeFailure(404, f"No such {kind}: '{id_}'", code="resource_missing", param=param)


def _unknown_params(params: dict) -> None:
    if params:
        name = sorted(params)[0]
        raise StripeFailure(400, f"Received unknown parameter: {name}", code="parameter_unknown",
                            param=name)


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeFailure(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                            param=param) from None


def _bool(value: Any) -> bool:
    return str(value).lower() in {"true", "1"}


def _metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    if value in (None, ""):  # the SDK sends `metadata=` for an empty dict
        return {}
    if not isinstance(value, dict):
        raise StripeFailure(400, "Invalid object", code="parameter_invalid", param=param)
    for key, item in value.items():
        if len(key) > 40 or len(str(item)) > 500:
            raise StripeFailure(400, "Metadata keys are at most 40 characters and values at "
                                "most 500.", param=f"{param}[{key}]")
    return {str(k): str(v) for k, v in value.items()}


# ---------------------------------------------------------------------------------------------
# Objects kept in localstripe's store (so `expand`, /v1/events and its flush work on them)
# ---------------------------------------------------------------------------------------------
class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, *, account: str | None, base_url: str, mode=None, line_items=None,
                 success_url=None, cancel_url=None, metadata=None, payment_intent_data=None,
                 client_reference_id=None, customer_email=None, payment_method_types=None,
                 locale=None, expires_at=None, **unknown):
        _unknown_params(unknown)
        if mode != "payment":
            raise StripeFailure(400, "This stand-in supports mode=payment only.", param="mode")
        if not isinstance(line_items, list) or not line_items:
            raise StripeFailure(400, "Missing required param: line_items.",
                                code="parameter_missing", param="line_items")
        if not success_url:
            raise StripeFailure(400, "Missing required param: success_url.",
                                code="parameter_missing", param="success_url")
        lines, currency, total = [], None, 0
        for i, line in enumerate(line_items):
            price = (line or {}).get("price_data") or {}
            product = price.get("product_data") or {}
            if not price or not product.get("name"):
                raise StripeFailure(400, "Each line needs price_data with product_data[name] "
                                    "(prices by id are not supported here).",
                                    param=f"line_items[{i}][price_data]")
            unit = _int(price.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]")
            quantity = _int(line.get("quantity", 1), f"line_items[{i}][quantity]")
            line_currency = str(price.get("currency", "")).lower()
            if currency not in (None, line_currency):
                raise StripeFailure(400, "All line items must share one currency.",
                                    param=f"line_items[{i}][price_data][currency]")
            currency = line_currency
            total += unit * quantity
            lines.append({"description": product["name"], "quantity": quantity,
                          "unit_amount": unit, "amount_total": unit * quantity,
                          "currency": line_currency})
        intent_data = dict(payment_intent_data or {})
        fee = intent_data.pop("application_fee_amount", None)
        intent_metadata = _metadata(intent_data.pop("metadata", None),
                                    "payment_intent_data[metadata]")
        intent_description = intent_data.pop("description", None)
        _unknown_params({f"payment_intent_data[{k}]": v for k, v in intent_data.items()})
        if fee is not None:
            fee = _int(fee, "payment_intent_data[application_fee_amount]")
            if not account:
                raise StripeFailure(400, "Can only apply an application_fee_amount when the "
                                    "PaymentIntent is attempting a direct payment (using an "
                                    "OAuth key or Stripe-Account header) or destination payment.",
                                    param="payment_intent_data[application_fee_amount]")
            if not 0 <= fee <= total:
                raise StripeFailure(400, "application_fee_amount must be between 0 and the "
                                    "amount.", param="payment_intent_data[application_fee_amount]")
        session_metadata = _metadata(metadata)
        if account:
            if not re.fullmatch(r"acct_\w+", account):
                raise StripeFailure(403, "The provided key does not have access to account "
                                    f"'{account}' (or that account does not exist).",
                                    code="account_invalid")
            connected = Account._fetch(account)
            if not connected.charges_enabled:
                raise StripeFailure(400, f"The account {account} cannot currently make charges: "
                                    "its onboarding is not finished.", code="account_invalid")
        super().__init__()
        self._account = account
        self._line_items = lines
        self._application_fee_amount = fee
        self._intent_metadata = intent_metadata
        self._intent_description = intent_description
        self._payment_method_type = None
        self._pending_outcome = None
        self.mode = "payment"
        self.amount_subtotal = total
        self.amount_total = total
        self.currency = currency
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.client_reference_id = client_reference_id
        self.customer_email = customer_email
        self.customer_details = None
        self.metadata = session_metadata
        self.payment_intent = None
        self.payment_method_types = payment_method_types or ["card", "sepa_debit"]
        self.payment_status = "unpaid"
        self.status = "open"
        self.locale = locale
        self.expires_at = _int(expires_at, "expires_at") if expires_at else (
            self.created + SESSION_LIFETIME)
        self.url = f"{base_url}/pay/{self.id}"

    @classmethod
    def _fetch(cls, id_: str, *, account: str | None, check_account: bool = True):
        session = store.get(f"{cls.object}:{id_}")
        if session is None or (check_account and session._account != account):
            raise _missing("checkout.session", id_, "session")
        if session.status == "open" and session.expires_at <= time.time():
            session.status = "expired"
        return session


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(self, id=None, *, enabled: bool, email=None, country=None, type=None,
                 capabilities=None, business_type=None, business_profile=None, metadata=None,
                 **unknown):
        _unknown_params(unknown)
        super().__init__(id=id)
        self.type = type or "express"
        self.email = email
        self.country = country or "FR"
        self.default_currency = "eur"
        self.business_type = business_type
        self.business_profile = {"name": (business_profile or {}).get("name"), "url": None}
        self.metadata = _metadata(metadata)
        self.settings = {"dashboard": {"display_name": (business_profile or {}).get("name")
                                       or f"Test shop {self.id}"}}
        self._requested = sorted((capabilities or {"card_payments": {}}).keys())
        self._set_enabled(enabled)

    def _set_enabled(self, enabled: bool) -> None:
        self.charges_enabled = enabled
        self.payouts_enabled = enabled
        self.details_submitted = enabled
        state = "active" if enabled else "inactive"
        self.capabilities = {name: state for name in self._requested}
        self.requirements = {"currently_due": [] if enabled else ["external_account"],
                             "disabled_reason": None if enabled else "requirements.past_due"}

    @classmethod
    def _fetch(cls, id_: str):
        """Accounts created here, or any `acct_...` id (a shop connected elsewhere): enabled,
        unless the id contains "disabled"."""
        account = store.get(f"{cls.object}:{id_}")
        if account is not None:
            return account
        if not re.fullmatch(r"acct_\w+", id_ or ""):
            raise _missing("account", id_, "account")
        return cls(id=id_, enabled="disabled" not in id_)


# ---------------------------------------------------------------------------------------------
# Middlewares
# ---------------------------------------------------------------------------------------------
BROWSER_PATHS = ("/pay/", "/connect/")


@web.middleware
async def _auth_middleware(request: web.Request, handler):
    # Hosted pages are opened by the customer's browser, which has no key (as at Stripe).
    if request.path.startswith(BROWSER_PATHS):
        return await handler(request)
    return await ls_server.auth_middleware(request, handler)


@web.middleware
async def _idempotency_middleware(request: web.Request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await _answer(request, handler)
    state = request.app[STATE]
    scope = (request.headers.get("Stripe-Account") or "", key)
    params = await ls_server.get_post_data(request, remove_auth=False) or {}
    saved = state.idempotent.get(scope)
    if saved is not None:
        if saved["path"] != request.path or saved["params"] != params:
            return _error(400, "Keys for idempotent requests can only be used with the same "
                          f"parameters they were first used with. Try using a key other than "
                          f"'{key}' if you meant to execute a different request.",
                          kind="idempotency_error")
        return web.Response(status=saved["status"], body=saved["body"],
                            content_type="application/json",
                            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
    if scope in state.in_flight:
        return _error(409, "There is currently another in-progress request using this "
                      "Stripe token (probably the same idempotency key).",
                      code="idempotency_key_in_use", kind="idempotency_error")
    state.in_flight.add(scope)
    try:
        response = await _answer(request, handler)
    finally:
        state.in_flight.discard(scope)
    if response.status < 500:
        state.idempotent[scope] = {"path": request.path, "params": params,
                                   "status": response.status, "body": response.body}
    response.headers["Idempotency-Key"] = key
    return response


async def _answer(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StripeFailure as exc:
        return exc.response
    except UserError as exc:
        return exc.to_response()


# ---------------------------------------------------------------------------------------------
# Stripe API routes
# ---------------------------------------------------------------------------------------------
def _account_of(request: web.Request) -> str | None:
    return request.headers.get("Stripe-Account") or None


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _params(request: web.Request) -> dict:
    data = await ls_server.get_post_data(request) if request.method == "POST" else {}
    data = dict(data or {})
    data.update(ls_server.unflatten_data(request.query) or {})
    return data


def _json(obj: StripeObject, expand=None) -> web.Response:
    return ls_server.json_response(obj._export(expand=expand))


async def session_create(request: web.Request) -> web.Response:
    params = await _params(request)
    expand = params.pop("expand", None)
    session = CheckoutSession(account=_account_of(request), base_url=_base_url(request), **params)
    return _json(session, expand)


async def session_retrieve(request: web.Request) -> web.Response:
    params = await _params(request)
    session = CheckoutSession._fetch(request.match_info["id"], account=_account_of(request))
    return _json(session, params.get("expand"))


async def session_expire(request: web.Request) -> web.Response:
    session = CheckoutSession._fetch(request.match_info["id"], account=_account_of(request))
    if session.status != "open":
        raise StripeFailure(400, 'Only Checkout Sessions with a status in ["open"] can be '
                            f"expired. This session has a status of {session.status}.")
    session.status = "expired"
    await _emit(request.app[STATE], "checkout.session.expired", session, session._account,
                wait=False)
    return _json(session)


async def refund_create(request: web.Request) -> web.Response:
    """localstripe's refunds, made stricter and Connect-aware: the payment intent must belong to
    the calling account, the amount must still be refundable, and `charge.refunded` is sent."""
    params = await _params(request)
    expand = params.pop("expand", None)
    account = _account_of(request)
    intent_id = params.pop("payment_intent", None)
    amount = params.pop("amount", None)
    metadata = _metadata(params.pop("metadata", None))
    refund_fee = _bool(params.pop("refund_application_fee", False))
    params.pop("reverse_transfer", None)
    reason = params.pop("reason", None)
    _unknown_params(params)
    if not intent_id:
        raise StripeFailure(400, "This stand-in refunds payment intents: give payment_intent.",
                            code="parameter_missing", param="payment_intent")
    intent = store.get(f"payment_intent:{intent_id}")
    if intent is None or getattr(intent, "_stripe_account", None) != account:
        raise _missing("payment_intent", intent_id, "payment_intent")
    charge = intent.latest_charge
    if charge is None or charge.status != "succeeded":
        raise StripeFailure(400, f"This PaymentIntent ({intent_id}) does not have a successful "
                            "charge to refund.", param="payment_intent")
    left = charge.amount - charge.amount_refunded
    if left <= 0:
        raise StripeFailure(400, f"Charge {charge.id} has already been refunded.",
                            code="charge_already_refunded")
    amount = left if amount in (None, "") else _int(amount, "amount")
    if amount <= 0 or amount > left:
        raise StripeFailure(400, f"Refund amount ({amount / 100:.2f} {charge.currency}) is "
                            f"greater than unrefunded amount on charge ({left / 100:.2f} "
                            f"{charge.currency}).", code="amount_too_large", param="amount")
    refund = Refund(charge=charge.id, amount=amount, metadata=metadata)
    refund.payment_intent = intent.id
    refund.reason = reason
    fee = getattr(intent, "application_fee_amount", None) or 0
    # Stripe returns the fee in proportion to the refunded amount when asked to.
    refund._application_fee_refunded = round(fee * amount / charge.amount) if refund_fee else 0
    await _emit(request.app[STATE], "charge.refunded", charge, account, wait=False)
    return _json(refund, expand)


async def account_retrieve(request: web.Request) -> web.Response:
    return _json(Account._fetch(request.match_info["id"]))


async def account_create(request: web.Request) -> web.Response:
    params = await _params(request)
    params.pop("expand", None)
    return _json(Account(enabled=False, **params))


async def account_link_create(request: web.Request) -> web.Response:
    params = await _params(request)
    account = Account._fetch(params.pop("account", "") or "")
    refresh_url, return_url = params.pop("refresh_url", None), params.pop("return_url", None)
    kind = params.pop("type", None)
    params.pop("collect", None)
    _unknown_params(params)
    if kind not in ("account_onboarding", "account_update") or not refresh_url or not return_url:
        raise StripeFailure(400, "account, type, refresh_url and return_url are required.",
                            code="parameter_missing")
    token = secrets.token_urlsafe(16)
    now = int(time.time())
    request.app[STATE].links[token] = {"account": account.id, "refresh_url": refresh_url,
                                       "return_url": return_url, "expires_at": now + 300}
    return ls_server.json_response({"object": "account_link", "created": now,
                                    "expires_at": now + 300,
                                    "url": f"{_base_url(request)}/connect/onboard/{token}"})


# ---------------------------------------------------------------------------------------------
# Hosted pages
# ---------------------------------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · local Stripe (test)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}label,input,button{{display:block;
margin:.4rem 0}}.error{{color:#b00020}}form{{border:1px solid #ccc;padding:1rem;margin:1rem 0}}</style>
</head><body><main>{body}</main></body></html>"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(text=PAGE.format(title=html.escape(title), body=body), status=status,
                        content_type="text/html")


def _checkout_page(session: CheckoutSession, *, error: str = "", status: int = 200,
                   card: str = "") -> web.Response:
    e = html.escape
    lines = "".join(f"<li>{e(line['description'])} × {line['quantity']}</li>"
                    for line in session._line_items)
    amount = f"{session.amount_total / 100:.2f} {session.currency.upper()}"
    alert = f'<p class="error" role="alert" id="error">{e(error)}</p>' if error else ""
    cancel = (f'<p><a href="{e(session.cancel_url)}">Back to the shop</a></p>'
              if session.cancel_url else "")
    body = f"""<h1>Pay {e(amount)}</h1><ul>{lines}</ul>
<p>Test mode: card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.</p>{alert}
<form method="post" action="/pay/{e(session.id)}"><input type="hidden" name="method" value="card">
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number"
 value="{e(card)}" required>
<button type="submit">Pay {e(amount)}</button></form>
<form method="post" action="/pay/{e(session.id)}"><input type="hidden" name="method" value="sepa_debit">
<label for="iban">IBAN (SEPA Direct Debit: the money arrives later)</label>
<input id="iban" name="iban" value="FR1420041010050500013M02606" required>
<button type="submit">Debit my bank account</button></form>{cancel}"""
    return _page(f"Pay {amount}", body, status)


def _success_url(session: CheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


async def pay_page(request: web.Request) -> web.Response:
    session = CheckoutSession._fetch(request.match_info["id"], account=None, check_account=False)
    if session.status == "complete":
        return _page("Already paid", f'<h1>This payment is complete.</h1><p><a href="'
                     f'{html.escape(session.success_url)}">Back to the shop</a></p>', 200)
    if session.status == "expired":
        return _page("Expired", "<h1>This checkout session has expired.</h1>", 410)
    return _checkout_page(session)


async def pay_submit(request: web.Request) -> web.Response:
    state = request.app[STATE]
    session = CheckoutSession._fetch(request.match_info["id"], account=None, check_account=False)
    if session.status != "open":
        return _page("Not payable", f"<h1>This checkout session is {session.status}.</h1>", 409)
    form = await request.post()
    if form.get("method") == "sepa_debit":
        iban = re.sub(r"\s", "", str(form.get("iban", ""))).upper()
        if not 14 <= len(iban) <= 34:
            return _checkout_page(session, error="Your IBAN is incomplete.", status=400)
        method = PaymentMethod(type="sepa_debit", sepa_debit={"iban": iban})
        _complete(session, method, settled=False)
        session._pending_outcome = "failed" if method._charging_is_declined() else "succeeded"
        if state.async_settle_seconds is not None:
            asyncio.get_running_loop().call_later(
                state.async_settle_seconds,
                lambda: asyncio.ensure_future(_auto_settle(state, session)))
    else:
        number = re.sub(r"[\s-]", "", str(form.get("card_number", "")))
        if not re.fullmatch(r"\d{16}", number):
            return _checkout_page(session, error="Your card number is incomplete.", status=400,
                                  card=number)
        method = PaymentMethod(type="card", card={"number": number, "exp_month": "12",
                                                  "exp_year": "2034", "cvc": "123"})
        if method._attaching_is_declined() or method._charging_is_declined():
            # As the brief for this stand-in says: the session stays open, nothing is sent.
            return _checkout_page(session, error="Your card was declined.", status=402,
                                  card=number)
        _complete(session, method, settled=True)
    await _emit(state, "checkout.session.completed", session, session._account)
    raise web.HTTPSeeOther(_success_url(session))


def _complete(session: CheckoutSession, method: PaymentMethod, *, settled: bool) -> None:
    """The PaymentIntent and its Charge, in localstripe, on the session's account."""
    intent = PaymentIntent(amount=session.amount_total, currency=session.currency,
                           payment_method=method.id, metadata=dict(session._intent_metadata))
    intent._stripe_account = session._account
    intent.application_fee_amount = session._application_fee_amount
    intent.description = session._intent_description
    charge = Charge(amount=session.amount_total, currency=session.currency, source=method.id)
    charge.payment_intent = intent.id
    charge.metadata = dict(session._intent_metadata)
    charge.application_fee_amount = session._application_fee_amount
    charge._stripe_account = session._account
    intent.latest_charge = charge
    if settled:
        _charge_succeeded(charge)
    session.payment_intent = intent.id
    session.status = "complete"
    session.payment_status = "paid" if settled else "unpaid"
    session.customer_details = {"email": session.customer_email}
    session._payment_method_type = method.type


def _charge_succeeded(charge: Charge) -> None:
    txn = BalanceTransaction(amount=charge.amount, currency=charge.currency,
                             description=charge.description, exchange_rate=1.0,
                             reporting_category="charge", source=charge.id, type="charge")
    charge.balance_transaction = txn.id
    charge.status = "succeeded"


async def _auto_settle(state: ExtState, session: CheckoutSession) -> None:
    if session._pending_outcome is not None:  # not settled by hand in the meantime
        await _settle(state, session, None)


async def _settle(state: ExtState, session: CheckoutSession, outcome: str | None) -> str:
    outcome = outcome or session._pending_outcome
    if session._pending_outcome is None:
        raise StripeFailure(409, f"{session.id} has no delayed payment waiting to settle.")
    session._pending_outcome = None
    intent = store.get(f"payment_intent:{session.payment_intent}")
    charge = intent.latest_charge
    if outcome == "succeeded":
        _charge_succeeded(charge)
        session.payment_status = "paid"
        await _emit(state, "checkout.session.async_payment_succeeded", session, session._account)
    else:
        charge.status = "failed"
        charge.failure_code = "insufficient_funds"
        charge.failure_message = "The bank refused the debit (insufficient funds)."
        await _emit(state, "payment_intent.payment_failed", intent, session._account)
        await _emit(state, "checkout.session.async_payment_failed", session, session._account)
    return outcome


async def onboarding_page(request: web.Request) -> web.Response:
    link = request.app[STATE].links.get(request.match_info["token"])
    if link is None or link["expires_at"] < time.time():
        target = link["refresh_url"] if link else None
        if target:
            raise web.HTTPFound(target)
        return _page("Expired link", "<h1>This onboarding link is no longer valid.</h1>", 404)
    e = html.escape
    body = f"""<h1>Stripe onboarding (test)</h1><p>Account {e(link['account'])}</p>
<form method="post"><button type="submit">Submit</button></form>
<p><a href="{e(link['refresh_url'])}">Start again</a></p>"""
    return _page("Onboarding", body)


async def onboarding_submit(request: web.Request) -> web.Response:
    state = request.app[STATE]
    link = state.links.pop(request.match_info["token"], None)  # a link works once
    if link is None:
        return _page("Expired link", "<h1>This onboarding link is no longer valid.</h1>", 404)
    account = Account._fetch(link["account"])
    account._set_enabled(True)
    await _emit(state, "account.updated", account, account.id)
    raise web.HTTPSeeOther(link["return_url"])


# ---------------------------------------------------------------------------------------------
# Webhook delivery and test control
# ---------------------------------------------------------------------------------------------
_SENDING: set[asyncio.Task] = set()  # deliveries in the background (asyncio keeps weak refs)


async def _emit(state: ExtState, kind: str, obj: StripeObject, account: str | None, *,
                wait: bool = True) -> dict:
    """Record and send an event. `wait=False` for events an API call causes (a refund, an
    expiry): Stripe answers the call without waiting for the shop's webhook, and the shop may
    be holding the rows that webhook needs until the call returns (a refund is made inside the
    transaction that records it); waiting here would stall both until the delivery timeout."""
    event = Event(kind, obj)  # stored by localstripe: GET /v1/events/{id} finds it
    event.api_version = API_VERSION
    event.pending_webhooks = 1
    event.request = {"id": None, "idempotency_key": None}
    if account:
        event.account = account
    delivery = {"id": event.id, "type": kind, "account": account,
                "body": json.dumps(event._export(), indent=2), "url": None, "header": None,
                "status": None, "error": None, "response": None}
    state.deliveries.append(delivery)
    if state.delivery_delay_seconds > 0:  # the browser lands on success_url first
        asyncio.get_running_loop().call_later(
            state.delivery_delay_seconds, lambda: asyncio.ensure_future(_deliver(state, delivery)))
    elif wait:
        await _deliver(state, delivery)
    else:
        task = asyncio.ensure_future(_deliver(state, delivery))
        _SENDING.add(task)
        task.add_done_callback(_SENDING.discard)
    return delivery


async def _deliver(state: ExtState, delivery: dict) -> None:
    """POST the event, signed now, to the shop webhook, and wait for the answer (the browser's
    redirect comes after, so a test sees the webhook's effect as soon as the page returns)."""
    if not state.webhook_url:
        return
    header = stripe.WebhookSignature.generate_signature_header(delivery["body"],
                                                               state.webhook_secret)
    delivery.update(url=state.webhook_url, header=header, status=None, error=None)
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as client:
            async with client.post(state.webhook_url, data=delivery["body"].encode(),
                                   headers={"Content-Type": "application/json; charset=utf-8",
                                            "Stripe-Signature": header}) as answer:
                delivery["status"] = answer.status
                delivery["response"] = (await answer.text())[:2000]
    except (TimeoutError, aiohttp.ClientError) as exc:
        delivery["error"] = f"{exc.__class__.__name__}: {exc}"


async def config_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE]
    data = await ls_server.get_post_data(request) or {}
    url = str(data.get("url") or "")
    if url and not url.startswith(("http://", "https://")):
        raise StripeFailure(400, "url must be an http(s) URL (or empty to stop sending).")
    state.webhook_url = url
    if data.get("secret"):
        state.webhook_secret = str(data["secret"])
    settle = data.get("async_settle_seconds")
    state.async_settle_seconds = None if settle in (None, "") else float(settle)
    state.delivery_delay_seconds = float(data.get("delivery_delay_seconds") or 0)
    return ls_server.json_response({"url": state.webhook_url,
                                    "async_settle_seconds": state.async_settle_seconds,
                                    "delivery_delay_seconds": state.delivery_delay_seconds})


async def deliveries_list(request: web.Request) -> web.Response:
    return ls_server.json_response(request.app[STATE].deliveries)


async def deliveries_clear(request: web.Request) -> web.Response:
    request.app[STATE].deliveries.clear()
    return ls_server.json_response([])


async def redeliver(request: web.Request) -> web.Response:
    state = request.app[STATE]
    sent = [d for d in state.deliveries if d["id"] == request.match_info["event_id"]]
    if not sent:
        raise _missing("event", request.match_info["event_id"], "id")
    again = dict(sent[-1])
    state.deliveries.append(again)
    await _deliver(state, again)
    return ls_server.json_response(again)


async def session_inspect(request: web.Request) -> web.Response:
    session = CheckoutSession._fetch(request.match_info["id"], account=None, check_account=False)
    data = session._export()
    data.update(stripe_account=session._account, line_items=session._line_items,
                payment_intent_data={"application_fee_amount": session._application_fee_amount,
                                     "metadata": session._intent_metadata,
                                     "description": session._intent_description},
                payment_method_type=session._payment_method_type,
                pending_outcome=session._pending_outcome)
    return ls_server.json_response(data)


async def session_settle(request: web.Request) -> web.Response:
    session = CheckoutSession._fetch(request.match_info["id"], account=None, check_account=False)
    data = await ls_server.get_post_data(request) or {}
    outcome = data.get("outcome") or None
    if outcome not in (None, "succeeded", "failed"):
        raise StripeFailure(400, "outcome is succeeded or failed.")
    outcome = await _settle(request.app[STATE], session, outcome)
    return ls_server.json_response({"session": session.id, "outcome": outcome})


ROUTES = [
    ("POST", "/v1/checkout/sessions", session_create),
    ("GET", "/v1/checkout/sessions/{id}", session_retrieve),
    ("POST", "/v1/checkout/sessions/{id}/expire", session_expire),
    ("POST", "/v1/refunds", refund_create),
    ("GET", "/v1/accounts/{id}", account_retrieve),
    ("POST", "/v1/accounts", account_create),
    ("POST", "/v1/account_links", account_link_create),
    ("GET", "/pay/{id}", pay_page),
    ("POST", "/pay/{id}", pay_submit),
    ("GET", "/connect/onboard/{token}", onboarding_page),
    ("POST", "/connect/onboard/{token}", onboarding_submit),
    ("POST", "/_config/shop_webhook", config_webhook),
    ("GET", "/_config/shop_webhook/deliveries", deliveries_list),
    ("DELETE", "/_config/shop_webhook/deliveries", deliveries_clear),
    ("POST", "/_config/shop_webhook/redeliver/{event_id}", redeliver),
    ("GET", "/_config/checkout/sessions/{id}", session_inspect),
    ("POST", "/_config/checkout/sessions/{id}/settle", session_settle),
]


def _never_write_to_disk() -> None:
    # localstripe pickles its whole store into /tmp/localstripe.pickle on every write: slow,
    # and shared by every process on the machine (parallel test workers would clobber it).
    store.dump_to_disk = lambda: None


def build_app(*, webhook_url: str = "", webhook_secret: str = "") -> web.Application:
    """localstripe's routes plus ours (ours first: `POST /v1/refunds` replaces localstripe's)."""
    _never_write_to_disk()
    app = web.Application(middlewares=[ls_server.error_middleware, _auth_middleware,
                                       _idempotency_middleware])
    app[STATE] = ExtState(webhook_url=webhook_url, webhook_secret=webhook_secret)
    ours = set()
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
        ours.add((method, path))
    for route in ls_server.app.router.routes():
        key = (route.method, route.resource.canonical)
        if route.method != "HEAD" and key not in ours:
            app.router.add_route(route.method, route.resource.canonical,
                                 _as_coroutine(route.handler))
    return app


def _as_coroutine(handler):
    """localstripe's GET handlers are plain functions, which aiohttp deprecates."""
    if asyncio.iscoroutinefunction(handler):
        return handler

    async def handle(request: web.Request):
        return handler(request)

    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-secret", default="whsec_local")
    args = parser.parse_args()
    web.run_app(build_app(webhook_url=args.webhook_url, webhook_secret=args.webhook_secret),
                host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
