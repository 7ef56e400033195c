"""Carts: one per anonymous session (its token kept in the session) or per customer.

Adding the same product twice merges the lines; quantities are checked against what is
available when added and again at checkout; signing in merges the session's cart into the
customer's. Problems (archived product, changed price, not enough stock) are computed when the
cart is shown (sales.selectors.cart_view), never by silently dropping a line.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import BaseProduct, LotAvailability, RealEstateLot, StockLevel
from sales.errors import SalesError
from sales.models import Cart, CartLine, Customer

CART_SESSION_KEY = "cart"
MAX_LINE_QUANTITY = Decimal("9999")


def _quantity(value) -> Decimal:
    try:
        quantity = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise SalesError(_("Enter a quantity, e.g. 2."), field="quantity") from exc
    if not quantity.is_finite() or quantity < 0:
        raise SalesError(_("Enter a quantity, e.g. 2."), field="quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise SalesError(_("For more than %(max)s, ask us for a quote.")
                         % {"max": MAX_LINE_QUANTITY}, field="quantity")
    return quantity


def _fmt(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def cart_get_or_create(*, session, customer: Customer | None) -> Cart:
    """The visitor's cart, created on first use (a GET never creates one)."""
    if customer is not None:
        cart, _created = Cart.objects.get_or_create(customer=customer)
        return cart
    token = session.get(CART_SESSION_KEY)
    cart = Cart.objects.filter(token=token).first() if token else None
    if cart is None:
        cart = Cart.objects.create(token=Cart.new_token())
        session[CART_SESSION_KEY] = cart.token
    return cart


def available_for(product: BaseProduct) -> Decimal | None:
    """How much of a product can still be ordered: None means no limit (services)."""
    if isinstance(product, RealEstateLot):
        return Decimal("1") if product.availability == LotAvailability.AVAILABLE else Decimal("0")
    if product.STOCKED:
        level = StockLevel.objects.filter(product_id=product.pk).first()
        return level.available if level is not None else Decimal("0")
    return None


def _check_can_hold(product: BaseProduct, quantity: Decimal) -> None:
    if product.is_archived:
        raise SalesError(_("%(product)s is no longer sold.") % {"product": product.name})
    if isinstance(product, RealEstateLot):
        if quantity != 1:
            raise SalesError(_("A lot is unique: its quantity is 1."), field="quantity")
        if product.availability != LotAvailability.AVAILABLE:
            raise SalesError(_("Lot %(lot)s is %(state)s.") % {
                "lot": product.name, "state": product.get_availability_display().lower()})
        return
    if product.unit == "unit" and quantity != quantity.to_integral_value():
        raise SalesError(_("%(product)s is sold by the unit: enter a whole number.")
                         % {"product": product.name}, field="quantity")
    available = available_for(product)
    if available is not None and quantity > available:
        if available <= 0:
            raise SalesError(_("%(product)s is out of stock.") % {"product": product.name},
                             field="quantity")
        raise SalesError(_("Only %(available)s of %(product)s available.")
                         % {"available": _fmt(available), "product": product.name},
                         field="quantity")


@transaction.atomic
def cart_add(*, cart: Cart, product: BaseProduct, quantity) -> CartLine:
    """Add to the cart; the same product again adds to its line."""
    quantity = _quantity(quantity)
    if quantity == 0:
        raise SalesError(_("Enter a quantity, e.g. 2."), field="quantity")
    Cart.objects.select_for_update().filter(pk=cart.pk).first()  # one writer per cart
    # The real kind decides the rules (a lot is unique, goods are stocked): a product reached
    # through a foreign key or a non-polymorphic list is a plain BaseProduct.
    if type(product) is BaseProduct:
        product = BaseProduct.objects.get(pk=product.pk)
    line = CartLine.objects.filter(cart=cart, product=product).first()
    wanted = quantity + (line.quantity if line else 0)
    if line is not None and isinstance(product, RealEstateLot):
        raise SalesError(_("%(lot)s is already in your cart.") % {"lot": product.name})
    _check_can_hold(product, wanted)
    if line is None:
        line = CartLine.objects.create(cart=cart, product=product, quantity=wanted,
                                       unit_net_seen=product.net_price)
    else:
        line.quantity = wanted
        line.unit_net_seen = product.net_price
        line.save(update_fields=["quantity", "unit_net_seen"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_set_quantity(*, cart: Cart, line_id: int, quantity) -> CartLine | None:
    """Change a line's quantity (0 removes it). Updating a line also acknowledges a price
    change shown on it."""
    quantity = _quantity(quantity)
    line = CartLine.objects.select_related("product").filter(cart=cart, pk=line_id).first()
    if line is None:
        raise SalesError(_("This line is no longer in your cart."))
    if quantity == 0:
        line.delete()
        cart.save(update_fields=["updated_at"])
        return None
    product = BaseProduct.objects.get(pk=line.product_id)
    _check_can_hold(product, quantity)
    line.quantity = quantity
    line.unit_net_seen = product.net_price
    line.save(update_fields=["quantity", "unit_net_seen"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_remove_line(*, cart: Cart, line_id: int) -> None:
    CartLine.objects.filter(cart=cart, pk=line_id).delete()
    cart.save(update_fields=["updated_at"])


@transaction.atomic
def cart_merge(*, session, customer: Customer) -> list[str]:
    """On sign-in: the session's cart joins the customer's. Quantities are summed and capped
    by what is available; returns what changed, in words, for the customer to read."""
    token = session.pop(CART_SESSION_KEY, None)
    source = (Cart.objects.select_for_update().filter(token=token).first() if token else None)
    if source is None:
        return []
    target = Cart.objects.select_for_update().filter(customer=customer).first()
    if target is None:
        source.token = None
        source.customer = customer
        source.save(update_fields=["token", "customer", "updated_at"])
        return []
    changes: list[str] = []
    existing = {line.product_id: line for line in target.lines.all()}
    products = BaseProduct.objects.in_bulk([line.product_id for line in source.lines.all()])
    for line in source.lines.all():
        product = products[line.product_id]
        current = existing.get(product.pk)
        wanted = line.quantity + (current.quantity if current else 0)
        if isinstance(product, RealEstateLot):
            wanted = Decimal("1")
        available = available_for(product)
        if product.is_archived:
            changes.append(_("%(product)s is no longer sold: it was not added.")
                           % {"product": product.name})
            continue
        if available is not None and wanted > available:
            if available <= 0:
                changes.append(_("%(product)s is out of stock: it was not added.")
                               % {"product": product.name})
                continue
            changes.append(_("%(product)s: %(wanted)s wanted, only %(available)s available, so "
                             "your cart has %(available)s.") % {
                "product": product.name, "wanted": _fmt(wanted), "available": _fmt(available)})
            wanted = available
        if current is None:
            CartLine.objects.create(cart=target, product=product, quantity=wanted,
                                    unit_net_seen=line.unit_net_seen)
        elif current.quantity != wanted:
            current.quantity = wanted
            current.save(update_fields=["quantity"])
            if not isinstance(product, RealEstateLot):
                changes.append(_("%(product)s: the quantities of both carts were added up "
                                 "(%(quantity)s).") % {"product": product.name,
                                                        "quantity": _fmt(wanted)})
    source.delete()
    target.save(update_fields=["updated_at"])
    return changes
