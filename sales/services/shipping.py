"""Shipping methods the storefront offers (flat rate, free above an amount, pickup), kept by
the shop's managers from the dashboard."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import TaxRate
from sales.errors import SalesError
from sales.models import ShippingKind, ShippingMethod

if TYPE_CHECKING:
    from tenants.accounts.models import User

ZERO = Decimal("0")
MAX_PRICE = Decimal("999999999")


def _amount(value, *, field: str, optional: bool = False) -> Decimal | None:
    if value in (None, "") and optional:
        return None
    try:
        number = Decimal(str(value if value is not None else "").replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise SalesError(_("Enter an amount, e.g. 5.90."), field=field) from exc
    if not number.is_finite() or number < ZERO:
        raise SalesError(_("This amount cannot be negative."), field=field)
    if number > MAX_PRICE:
        raise SalesError(_("This amount is too large."), field=field)
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def shipping_method_save(*, method: ShippingMethod | None = None, data: dict,
                         by: User | None) -> ShippingMethod:
    """Create (`method=None`) or change a shipping method. `data` holds name, kind, price_net,
    tax_rate (a TaxRate), free_above (None: never free), description, is_active, position.
    A pickup costs nothing, so its price and threshold are cleared."""
    name = " ".join(str(data.get("name") or "").split())[:100]  # empty: the standard wording
    kind = data.get("kind") or ShippingKind.FLAT
    if kind not in ShippingKind.values:
        raise SalesError(_("Choose flat rate or pickup."), field="kind")
    tax_rate = data.get("tax_rate")
    if not isinstance(tax_rate, TaxRate):
        raise SalesError(_("Choose a VAT rate."), field="tax_rate")
    price = _amount(data.get("price_net", ZERO), field="price_net")
    free_above = _amount(data.get("free_above"), field="free_above", optional=True)
    if kind == ShippingKind.PICKUP:
        price, free_above = ZERO, None
    position = data.get("position") or 0
    try:
        position = int(position)
    except (TypeError, ValueError) as exc:
        raise SalesError(_("Enter a whole number."), field="position") from exc
    if not 0 <= position <= 32767:
        raise SalesError(_("Enter a number from 0 to 32767."), field="position")

    if method is None:
        method = ShippingMethod()
    else:
        method = ShippingMethod.objects.select_for_update().get(pk=method.pk)
    method.name = name
    method.kind = kind
    method.price_net = price
    method.tax_rate = tax_rate
    method.free_above = free_above
    method.description = str(data.get("description") or "").strip()[:200]
    method.is_active = bool(data.get("is_active", True))
    method.position = position
    method.save()
    return method
