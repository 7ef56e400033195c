from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _


class CatalogError(Exception):
    """A catalog operation refused for a reason a person can act on."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InsufficientStock(CatalogError):
    def __init__(self, *, product_name: str, requested: Decimal, available: Decimal):
        self.product_name = product_name
        self.requested = requested
        self.available = available
        super().__init__(
            _("Not enough stock for %(product)s: %(requested)s requested, %(available)s available.")
            % {"product": product_name, "requested": _fmt(requested), "available": _fmt(available)}
        )


class LotUnavailable(CatalogError):
    pass


def _fmt(quantity: Decimal) -> str:
    normalized = quantity.normalize()
    return f"{normalized:f}"
