"""The only module that talks to Stripe (DESIGN: nothing else imports `stripe`).

Card payments are hosted Stripe Checkout Sessions created on the merchant's connected account
(the `Stripe-Account` header), with the platform's fee as `application_fee_amount`, and an
idempotency key on every call that creates something. Webhook payloads are verified with the
SDK. Settings: STRIPE_SECRET_KEY (none: card payments are off), STRIPE_WEBHOOK_SECRET,
STRIPE_API_BASE (tests and local runs point it at a local stand-in server), STRIPE_FEE_PERCENT.

Implementation: see the functions below (written against the `localstripe` package in tests,
extended with Checkout Sessions, refunds and connected accounts in tests/support/).

Every failure of a call is a `GatewayError` whose `message` a merchant can act on (and whose
`code` says which kind of failure it was); the SDK's own exceptions never leave this module.
Objects come back as the small frozen dataclasses below, never as SDK objects.

Production onboarding of a shop (Stripe Connect, Express accounts):
1. `account_create(email=..., country=...)` once; store the returned `acct_...` on the shop;
2. `account_onboarding_link(account=..., refresh_url=..., return_url=...)` and redirect the
   owner to it (the link works once and for a few minutes: `refresh_url` must make a new one);
3. back on `return_url`, `account_status(account=...)`: card payments are offered once
   `charges_enabled` is true (Stripe also sends `account.updated` webhooks when it changes).
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from dataclasses import dataclass, field

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Connection and network failures are retried by the SDK (with the same idempotency key, so a
# retry never creates a second object). Tests that point at a closed port set this to 0.
MAX_NETWORK_RETRIES = 2
# (connect, read) seconds: the SDK's default is 80 s, far too long for a customer's request.
TIMEOUT = (5.0, 30.0)
# How old a webhook signature may be (seconds): older ones are refused as replays.
WEBHOOK_TOLERANCE = 300


class GatewayError(Exception):
    """Stripe refused the call or could not be reached. `message` can be shown to staff;
    `code` is one of CODES (what kind of failure, for callers that react to it)."""

    CODES = ("card_declined", "account", "network", "configuration", "rate_limit",
             "idempotency", "stripe_unavailable", "refused")

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class SignatureError(Exception):
    """A webhook payload whose signature is missing, forged or too old."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open / complete / expired
    payment_status: str  # unpaid / paid / no_payment_required
    payment_intent: str | None
    amount_total: int | None = None
    currency: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending / succeeded / failed
    amount_cents: int


@dataclass(frozen=True)
class AccountStatus:
    id: str
    charges_enabled: bool
    details_submitted: bool
    payouts_enabled: bool
    display_name: str


def is_configured() -> bool:
    """Card payments are possible on this platform at all (a shop also needs its account)."""
    return bool(settings.STRIPE_SECRET_KEY)


# ---------------------------------------------------------------------------------------------
# Checkout Sessions
# ---------------------------------------------------------------------------------------------
def checkout_session_create(*, account: str, amount_cents: int, currency: str, description: str,
                            customer_email: str, success_url: str, cancel_url: str,
                            metadata: dict[str, str], application_fee_cents: int,
                            idempotency_key: str,
                            client_reference_id: str | None = None) -> CheckoutSession:
    """A hosted Checkout page (one line: `description` for `amount_cents`) on the connected
    `account`, the platform taking `application_fee_cents`. `metadata` goes on the session and
    on its PaymentIntent (so charge and refund events carry it too). `client_reference_id`
    defaults to `metadata["client_reference_id"]` when present. `success_url` may contain
    `{CHECKOUT_SESSION_ID}`, which Stripe replaces. The same `idempotency_key` returns the same
    session (for 24 hours at Stripe)."""
    if amount_cents <= 0:
        raise ValueError(f"a checkout needs a positive amount, not {amount_cents}")
    if not 0 <= application_fee_cents <= amount_cents:
        raise ValueError(f"fee {application_fee_cents} outside 0..{amount_cents}")
    if not idempotency_key:
        raise ValueError("every create carries an idempotency key")
    metadata = {str(k): str(v) for k, v in metadata.items()}
    intent_data: dict = {"metadata": metadata}
    if application_fee_cents:
        intent_data["application_fee_amount"] = application_fee_cents
    params: dict = {
        "mode": "payment",
        "line_items": [{
            "quantity": 1,
            "price_data": {"currency": currency.lower(), "unit_amount": amount_cents,
                           "product_data": {"name": description[:250]}},
        }],
        "payment_intent_data": intent_data,
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    reference = client_reference_id or metadata.get("client_reference_id")
    if reference:
        params["client_reference_id"] = reference[:200]
    if customer_email:
        params["customer_email"] = customer_email
    session = _call(lambda client: client.v1.checkout.sessions.create(
        params, {"stripe_account": account, "idempotency_key": idempotency_key}), account=account)
    return _checkout_session(session)


def checkout_session_retrieve(*, account: str, session_id: str) -> CheckoutSession:
    session = _call(lambda client: client.v1.checkout.sessions.retrieve(
        session_id, None, {"stripe_account": account}), account=account)
    return _checkout_session(session)


def checkout_session_expire(*, account: str, session_id: str) -> CheckoutSession:
    """Close an open Checkout page so it can no longer be paid (an order cancelled while its
    customer may still be on the page). Expiring a session that is already expired is
    harmless; a completed one is refused (GatewayError): the payment went through."""
    current = checkout_session_retrieve(account=account, session_id=session_id)
    if current.status == "expired":
        return current
    session = _call(lambda client: client.v1.checkout.sessions.expire(
        session_id, None, {"stripe_account": account}), account=account)
    return _checkout_session(session)


def _checkout_session(session) -> CheckoutSession:
    data = session.to_dict()
    intent = data.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return CheckoutSession(
        id=data["id"], url=data.get("url") or "", status=data.get("status") or "",
        payment_status=data.get("payment_status") or "", payment_intent=intent or None,
        amount_total=data.get("amount_total"), currency=data.get("currency") or "",
        metadata=dict(data.get("metadata") or {}))


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------
def refund_create(*, account: str, payment_intent: str, amount_cents: int, idempotency_key: str,
                  metadata: dict[str, str]) -> RefundResult:
    """Refund `amount_cents` of a card payment on the connected account. The same
    `idempotency_key` returns the same refund (a retried click never refunds twice)."""
    if amount_cents <= 0:
        raise ValueError(f"a refund needs a positive amount, not {amount_cents}")
    if not idempotency_key:
        raise ValueError("every create carries an idempotency key")
    params = {
        "payment_intent": payment_intent,
        "amount": amount_cents,
        "metadata": {str(k): str(v) for k, v in metadata.items()},
        # Product decision: the platform gives back its fee in proportion to what is refunded
        # (a half refund returns half the fee), so a merchant never pays a fee on money it did
        # not keep. Stripe's default would keep the whole fee.
        "refund_application_fee": True,
    }
    refund = _call(lambda client: client.v1.refunds.create(
        params, {"stripe_account": account, "idempotency_key": idempotency_key}), account=account)
    data = refund.to_dict()
    return RefundResult(id=data["id"], status=data.get("status") or "pending",
                        amount_cents=int(data.get("amount") or 0))


# ---------------------------------------------------------------------------------------------
# Connected accounts (Stripe Connect)
# ---------------------------------------------------------------------------------------------
def account_status(*, account: str) -> AccountStatus:
    result = _call(lambda client: client.v1.accounts.retrieve(account), account=account)
    data = result.to_dict()
    dashboard = ((data.get("settings") or {}).get("dashboard") or {})
    profile = data.get("business_profile") or {}
    return AccountStatus(
        id=data["id"], charges_enabled=bool(data.get("charges_enabled")),
        details_submitted=bool(data.get("details_submitted")),
        payouts_enabled=bool(data.get("payouts_enabled")),
        display_name=(dashboard.get("display_name") or profile.get("name")
                      or data.get("email") or data["id"]))


def account_create(*, email: str, country: str = "FR", idempotency_key: str | None = None) -> str:
    """A new Express connected account for a shop; returns its id (`acct_...`). Give an
    `idempotency_key` naming the shop (e.g. `account-<schema>`) so that a double click makes one
    account; without one, every call makes a new account. (Not derived from the email: two
    shops of one owner would then share an account.)"""
    params = {
        "type": "express",
        "email": email,
        "country": country,
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    }
    key = idempotency_key or f"account-create-{uuid.uuid4()}"
    result = _call(lambda client: client.v1.accounts.create(params, {"idempotency_key": key}),
                   account=None)
    return result.to_dict()["id"]


def account_onboarding_link(*, account: str, refresh_url: str, return_url: str) -> str:
    """A one-time link to Stripe's hosted onboarding for `account` (expires within minutes:
    `refresh_url` is visited when it did, and should create a new one)."""
    params = {"account": account, "refresh_url": refresh_url, "return_url": return_url,
              "type": "account_onboarding"}
    result = _call(lambda client: client.v1.account_links.create(params), account=account)
    return result.to_dict()["url"]


# ---------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------
def event_from_webhook(*, payload: bytes, signature: str | None) -> dict:
    """The verified event (a plain dict, as Stripe sent it), or SignatureError when the
    signature is missing, forged, made with another secret or older than the tolerance (a
    replay). Without STRIPE_WEBHOOK_SECRET every payload is refused."""
    try:
        stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET,
                                       tolerance=WEBHOOK_TOLERANCE)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise SignatureError(str(exc.user_message or exc)) from exc
    except ValueError as exc:  # not UTF-8 / not JSON / not an event: nothing Stripe signed
        raise SignatureError(f"unreadable payload: {exc}") from exc
    if not isinstance(event, dict) or event.get("object") != "event":
        raise SignatureError("the payload is not a Stripe event")
    return event


# ---------------------------------------------------------------------------------------------
# Client and errors
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _client_for(secret_key: str, api_base: str, retries: int) -> stripe.StripeClient:
    # One client per configuration: it keeps a connection pool per thread. Tests change the
    # settings, which gives them their own client.
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
    )


def _call(request, *, account: str | None):
    if not is_configured():
        raise GatewayError(_("Card payments are not set up on this platform (no Stripe key)."),
                           code="configuration")
    client = _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE or "",
                         MAX_NETWORK_RETRIES)
    try:
        return request(client)
    except stripe.StripeError as exc:
        logger.warning("stripe call failed for account %s: %r (code %s)", account, exc,
                       getattr(exc, "code", None))
        raise _gateway_error(exc, account=account) from exc


def _gateway_error(exc: stripe.StripeError, *, account: str | None) -> GatewayError:
    reason = (exc.user_message or "").strip().rstrip(".") or exc.__class__.__name__
    code = getattr(exc, "code", None)
    if isinstance(exc, stripe.CardError):
        return GatewayError(_("The card was declined (%(reason)s). The customer can try another "
                              "card.") % {"reason": reason}, code="card_declined")
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError(_("Stripe could not be reached (network problem). Try again in a few "
                              "minutes: trying again is safe."), code="network")
    if isinstance(exc, stripe.AuthenticationError):
        return GatewayError(_("The platform's Stripe key was refused: card payments are "
                              "unavailable until the platform administrator fixes it."),
                            code="configuration")
    if isinstance(exc, stripe.PermissionError) or code == "account_invalid":
        return GatewayError(_("The shop's Stripe account %(account)s cannot take payments yet: it "
                              "is not connected to the platform or its Stripe onboarding is not "
                              "finished. Finish it from the shop's payment settings.")
                            % {"account": account or "?"}, code="account")
    if isinstance(exc, stripe.RateLimitError):
        return GatewayError(_("Stripe is receiving too many requests. Try again in a minute."),
                            code="rate_limit")
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(_("Stripe already received this request with different details. "
                              "Reload the page and try again."), code="idempotency")
    if code == "charge_already_refunded":
        return GatewayError(_("This payment was already refunded in full at Stripe."))
    if code == "amount_too_large":
        return GatewayError(_("Stripe refused the amount: %(reason)s.") % {"reason": reason})
    if isinstance(exc, stripe.InvalidRequestError):
        return GatewayError(_("Stripe refused the request: %(reason)s.") % {"reason": reason})
    if isinstance(exc, stripe.APIError):
        return GatewayError(_("Stripe had a temporary problem. Try again in a few minutes."),
                            code="stripe_unavailable")
    return GatewayError(_("Stripe refused the request: %(reason)s.") % {"reason": reason})
