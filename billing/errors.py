"""Errors of billing: each carries a message a person can act on."""

from __future__ import annotations

from sales.errors import SalesError


class BillingError(SalesError):
    """A billing operation refused (same shape as sales errors: message and field), so views
    and the API show both the same way."""


class PaymentProviderError(BillingError):
    """Stripe refused or could not be reached; nothing was recorded as paid."""
