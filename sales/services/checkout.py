"""Checkout: a cart becomes a pending order with its stock reserved, in one transaction.

A double submit (same one-time checkout key) finds the order the first submit placed; 50
buyers racing for 10 units get exactly 10 orders (stock rows are locked in product-id order by
catalog.services.stock; the rest get InsufficientStock's message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils.translation import gettext as _

from catalog.errors import CatalogError
from catalog.models import BaseProduct, RealEstateLot
from catalog.pricing import ZERO as MONEY_ZERO
from catalog.pricing import Line, totals
from sales.errors import SalesError
from sales.models import (
    Cart,
    Customer,
    CustomerKind,
    CustomerState,
    Order,
    OrderSource,
    PaymentMethod,
    ShippingKind,
    ShippingMethod,
)
from sales.services.customers import address_validate
from sales.services.orders import LineInput, OrderInput, order_create
from sales.tasks import order_confirmation_send

if TYPE_CHECKING:
    from tenants.accounts.models import User

# Payment methods the storefront offers today; billing adds card payments (Stripe Checkout)
# by handing the placed order over by URL.
CHECKOUT_PAYMENT_METHODS = [PaymentMethod.BANK_TRANSFER, PaymentMethod.CARD]


@dataclass
class CheckoutInput:
    email: str
    billing_address: dict
    shipping_method: ShippingMethod
    payment_method: str
    checkout_key: str
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    phone: str = ""
    shipping_address: dict | None = None  # None: same as billing
    note: str = ""
    expected_gross_total: Decimal | None = None
    extra: dict = field(default_factory=dict)


def shipping_price(method: ShippingMethod, goods_gross: Decimal) -> Decimal:
    """Net price of shipping for an order whose goods cost `goods_gross` incl. VAT."""
    if method.kind == ShippingKind.PICKUP:
        return MONEY_ZERO
    if method.free_above is not None and goods_gross >= method.free_above:
        return MONEY_ZERO
    return method.price_net


def _lock_key(key: str) -> None:
    # Same key twice at once: the second waits here, then finds the first one's order.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                       [f"checkout:{key}"])


def _guest(data: CheckoutInput) -> Customer:
    return Customer.objects.create(
        state=CustomerState.GUEST, email=data.email.strip().lower(),
        first_name=data.first_name.strip(), last_name=data.last_name.strip(),
        company_name=data.company_name.strip(), phone=data.phone.strip(),
        kind=CustomerKind.COMPANY if data.company_name.strip() else CustomerKind.PERSON)


@transaction.atomic
def checkout_place_order(*, cart: Cart, customer: Customer | None, data: CheckoutInput,
                         base_url: str, by: User | None = None) -> Order:
    """Place the order for what is in the cart now, at today's prices. Refuses (SalesError)
    an empty cart, an unavailable product, not enough stock, or a total different from the one
    the customer reviewed."""
    key = (data.checkout_key or "").strip()
    if not key:
        raise SalesError(_("This checkout form has expired: review your order again."))
    _lock_key(key)
    existing = Order.objects.filter(checkout_key=key).first()
    if existing is not None:
        return existing
    Cart.objects.select_for_update().filter(pk=cart.pk).first()  # no cart edit meanwhile
    cart_lines = list(cart.lines.order_by("product_id"))
    if not cart_lines:
        raise SalesError(_("Your cart is empty."))
    if data.payment_method not in CHECKOUT_PAYMENT_METHODS:
        raise SalesError(_("Choose how you will pay."), field="payment_method")
    if not data.shipping_method.is_active:
        raise SalesError(_("This delivery option is no longer offered: choose another."),
                         field="shipping_method")
    billing = address_validate(data.billing_address)
    shipping: dict = {}
    if data.shipping_method.kind != ShippingKind.PICKUP:
        shipping = (address_validate(data.shipping_address) if data.shipping_address
                    else dict(billing))
    products = BaseProduct.objects.select_related("tax_rate").in_bulk(
        [line.product_id for line in cart_lines])
    lines = []
    for cart_line in cart_lines:
        product = products[cart_line.product_id]
        if product.is_archived:
            raise SalesError(_("%(product)s is no longer sold: remove it from your cart.")
                             % {"product": product.name})
        if isinstance(product, RealEstateLot) and not product.is_available():
            raise SalesError(_("Lot %(lot)s is no longer available: remove it from your cart.")
                             % {"lot": product.name})
        lines.append(LineInput.from_product(product, cart_line.quantity))
    goods = totals([Line(unit_net=li.unit_net, quantity=li.quantity, rate_percent=li.tax_rate)
                    for li in lines])
    shipping_net = shipping_price(data.shipping_method, goods.gross)
    shipping_rate = data.shipping_method.tax_rate.rate
    if customer is None:
        customer = _guest(data)
    try:
        order = order_create(data=OrderInput(
            customer=customer, email=(data.email or customer.email).strip().lower(), lines=lines,
            billing_address=billing, shipping_address=shipping,
            shipping_method=data.shipping_method, shipping_net=shipping_net,
            shipping_tax_rate=shipping_rate if shipping_net else MONEY_ZERO,
            payment_method=data.payment_method, source=OrderSource.STOREFRONT,
            checkout_key=key, customer_note=data.note.strip()[:2000],
        ), by=by)
    except CatalogError as exc:
        raise SalesError(exc.message) from exc
    if data.expected_gross_total is not None and order.gross_total != data.expected_gross_total:
        raise SalesError(_("Prices changed since you reviewed your order (now %(total)s): "
                           "please review it again.") % {"total": order.gross_total})
    cart.lines.all().delete()
    order_confirmation_send(order=order, base_url=base_url)
    return order
