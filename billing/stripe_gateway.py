"""The only module that talks to Stripe (DESIGN: nothing else imports `stripe`).

Card payments are hosted Stripe Checkout Sessions created on the merchant's connected account
(the `Stripe-Account` header), with the platform's fee as `application_fee_amount`, and an
idempotency key on every call that creates something. Webhook payloads are verified with the
SDK. Settings: STRIPE_SECRET_KEY (none: card payments are off), STRIPE_WEBHOOK_SECRET,
STRIPE_API_BASE (tests and local runs point it at a local stand-in server), STRIPE_FEE_PERCENT.

Implementation: see the functions below (written against the `localstripe` package in tests).
"""

from __future__ import annotations

from dataclasses import dataclass


class GatewayError(Exception):
    """Stripe refused the call or could not be reached. `message` can be shown to staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SignatureError(Exception):
    """A webhook payload whose signature is missing, forged or too old."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open / complete / expired
    payment_status: str  # unpaid / paid / no_payment_required
    payment_intent: str | None


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
