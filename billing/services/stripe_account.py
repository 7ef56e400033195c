"""The shop's Stripe account (Stripe Connect): which connected account receives its card
payments, and whether Stripe lets it take them.

The account id and its status live on the Shop row (public schema), read by the platform's
webhook endpoint to find the shop an event belongs to. They are written with an UPDATE of that
one row, so a concurrent change of the shop's other settings is never overwritten.

Production onboarding (docs/operations.md, "Stripe accounts of shops"): an Express account is
created for the shop (`shop_stripe_onboarding_link` does it on first use), its owner fills in
Stripe's hosted onboarding, and back on the return page the status is read again; card payments
are offered once Stripe says `charges_enabled`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway as gateway
from billing.errors import BillingError, PaymentProviderError
from tenants.models import Shop

if TYPE_CHECKING:
    from tenants.accounts.models import User

logger = logging.getLogger(__name__)
# Stripe's connected account ids: `acct_` then letters and digits (16 of them at Stripe).
STRIPE_ACCOUNT_RE = re.compile(r"^acct_[A-Za-z0-9]{6,59}$")


def _store(shop: Shop, **values) -> Shop:
    Shop.objects.filter(pk=shop.pk).update(**values)
    for field, value in values.items():
        setattr(shop, field, value)  # the request's copy shows the change at once
    return shop


@transaction.atomic
def shop_stripe_connect(*, shop: Shop, account_id: str, by: User | None) -> Shop:
    """Store the shop's connected account (`acct_...`). Card payments stay off until its
    status is read from Stripe (`shop_stripe_refresh`) and says charges are enabled."""
    account_id = (account_id or "").strip()
    if not STRIPE_ACCOUNT_RE.match(account_id):
        raise BillingError(_("This is not a Stripe account id: it looks like "
                             "acct_1A2b3C4d5E6f7G8h."), field="account_id")
    if Shop.objects.filter(stripe_account_id=account_id).exclude(pk=shop.pk).exists():
        raise BillingError(_("This Stripe account is already connected to another shop."),
                           field="account_id")
    if shop.stripe_account_id == account_id:
        return shop
    logger.info("shop %s connects Stripe account %s (was %s) by user %s", shop.schema_name,
                account_id, shop.stripe_account_id or "-", getattr(by, "pk", None))
    return _store(shop, stripe_account_id=account_id, stripe_charges_enabled=False,
                  stripe_checked_at=None)


@transaction.atomic
def shop_stripe_disconnect(*, shop: Shop, by: User | None) -> Shop:
    """Forget the connected account: card payments stop at once (payments already made and
    their refunds keep the account they were made on)."""
    if not shop.stripe_account_id:
        raise BillingError(_("No Stripe account is connected."))
    logger.info("shop %s disconnects Stripe account %s by user %s", shop.schema_name,
                shop.stripe_account_id, getattr(by, "pk", None))
    return _store(shop, stripe_account_id=None, stripe_charges_enabled=False,
                  stripe_checked_at=None)


def shop_stripe_refresh(*, shop: Shop) -> gateway.AccountStatus:
    """Ask Stripe how the connected account stands and store whether it may take card
    payments. The call is made outside any transaction (no row stays locked while Stripe
    answers); a failure changes nothing and says why (PaymentProviderError)."""
    if not shop.stripe_account_id:
        raise BillingError(_("Connect a Stripe account first."))
    account = shop.stripe_account_id
    try:
        status = gateway.account_status(account=account)
    except gateway.GatewayError as exc:
        raise PaymentProviderError(_("Stripe could not tell the account's status: %(reason)s")
                                   % {"reason": exc.message}) from exc
    # Only if the account is still the one asked about (a disconnect may have raced).
    Shop.objects.filter(pk=shop.pk, stripe_account_id=account).update(
        stripe_charges_enabled=status.charges_enabled, stripe_checked_at=timezone.now())
    shop.stripe_charges_enabled = status.charges_enabled
    shop.stripe_checked_at = timezone.now()
    return status


def shop_stripe_onboarding_link(*, shop: Shop, by: User | None, email: str, refresh_url: str,
                                return_url: str) -> str:
    """The address of Stripe's hosted onboarding for the shop's account, creating an Express
    account first when the shop has none (its id is stored at once: a second click reuses
    it). The link works once and for a few minutes: `refresh_url` asks for a new one."""
    if not gateway.is_configured():
        raise BillingError(_("Card payments need the platform's Stripe keys: ask the platform "
                             "administrator."))
    try:
        if not shop.stripe_account_id:
            account = gateway.account_create(email=email, country=shop.country or "FR")
            shop_stripe_connect(shop=shop, account_id=account, by=by)
        return gateway.account_onboarding_link(account=shop.stripe_account_id,
                                               refresh_url=refresh_url, return_url=return_url)
    except gateway.GatewayError as exc:
        raise PaymentProviderError(_("Stripe onboarding could not start: %(reason)s")
                                   % {"reason": exc.message}) from exc
