"""Orders: creation (from a checkout or a quote) and their life as a state machine.

Lock order, the same in every sales transaction so none can deadlock another: the document
(quote row, or the checkout key's advisory lock), then the number counter, then the stock rows
(catalog.services.stock locks them in product-id order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils.translation import gettext as _

from catalog.errors import CatalogError
from catalog.models import BaseProduct, RealEstateLot
from catalog.pricing import line_totals
from catalog.services.stock import stock_commit, stock_release, stock_reserve
from sales.errors import IllegalTransition, SalesError
from sales.models import (
    Customer,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    PaymentMethod,
    Quote,
    ShippingMethod,
)
from sales.services.numbering import ORDER_PREFIX, document_number
from sales.services.workflow import allowed_actions, transition_run
from streams.events import auto_follow, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

ZERO = Decimal("0")


@dataclass(frozen=True)
class LineInput:
    """One line to snapshot into a document."""

    name: str
    quantity: Decimal
    unit_net: Decimal
    tax_rate: Decimal
    product: BaseProduct | None = None
    sku: str = ""
    unit: str = "unit"
    discount_percent: Decimal = ZERO
    # A document-wide discount applied on top (an invoice line made from a discounted order).
    extra_discount_percent: Decimal = ZERO

    @classmethod
    def from_product(cls, product: BaseProduct, quantity: Decimal,
                     discount_percent: Decimal = ZERO) -> LineInput:
        return cls(name=product.name, quantity=Decimal(quantity), unit_net=product.net_price,
                   tax_rate=product.tax_rate.rate, product=product, sku=product.sku,
                   unit=product.unit, discount_percent=discount_percent)


@dataclass
class OrderInput:
    customer: Customer
    email: str
    lines: Sequence[LineInput]
    billing_address: dict
    shipping_address: dict = field(default_factory=dict)
    shipping_method: ShippingMethod | None = None
    shipping_net: Decimal = ZERO
    shipping_tax_rate: Decimal = ZERO
    payment_method: str = PaymentMethod.BANK_TRANSFER
    discount_percent: Decimal = ZERO
    source: str = OrderSource.STOREFRONT
    quote: Quote | None = None
    checkout_key: str | None = None
    customer_note: str = ""
    currency: str = "EUR"


def _moves_stock(product: BaseProduct) -> bool:
    return product.STOCKED or isinstance(product, RealEstateLot)


def _stock_lines(lines: Sequence[LineInput]) -> list[tuple[BaseProduct, Decimal]]:
    """The lines that move stock (goods, lots), decided on each product's real kind. A product
    reached through a foreign key is a plain BaseProduct whatever its kind: those are loaded
    again as their real class (checkout passes real classes already)."""
    plain = [line.product.pk for line in lines
             if line.product is not None and type(line.product) is BaseProduct]
    real = BaseProduct.objects.in_bulk(plain) if plain else {}
    moving = []
    for line in lines:
        if line.product is None:
            continue
        product = real.get(line.product.pk, line.product)
        if _moves_stock(product):
            moving.append((product, line.quantity))
    return moving


def order_create(*, data: OrderInput, by: User | None) -> Order:
    """Number the order, reserve its stock and write it with its lines, all or nothing.
    Must run inside the caller's transaction (checkout or quote conversion)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order_create runs inside the checkout's or the quote's transaction")
    if not data.lines:
        raise SalesError(_("An order needs at least one line."))
    number = document_number(ORDER_PREFIX, kind="order")
    # Raises InsufficientStock / LotUnavailable naming the product: the whole order rolls back.
    stock_reserve(lines=_stock_lines(data.lines), by=by, reference=number)
    order = Order(
        number=number, customer=data.customer, email=data.email, quote=data.quote,
        checkout_key=data.checkout_key, billing_address=data.billing_address,
        shipping_address=data.shipping_address, shipping_method=data.shipping_method,
        shipping_name=data.shipping_method.label if data.shipping_method else "",
        shipping_net=data.shipping_net, shipping_tax_rate=data.shipping_tax_rate,
        payment_method=data.payment_method, discount_percent=data.discount_percent,
        source=data.source, customer_note=data.customer_note, currency=data.currency,
        created_by=by if by is not None and by.is_staff else None,
    )
    lines = []
    for position, line in enumerate(data.lines):
        row = OrderLine(product=line.product, name=line.name, sku=line.sku,
                        quantity=line.quantity, unit=line.unit, unit_net=line.unit_net,
                        tax_rate=line.tax_rate, discount_percent=line.discount_percent,
                        position=position)
        amounts = line_totals(row.pricing_line(data.discount_percent), data.currency)
        row.net, row.vat, row.gross = amounts.net, amounts.vat, amounts.gross
        lines.append(row)
    summary = order.compute_totals(lines)
    order.net_total, order.vat_total, order.gross_total = summary.net, summary.vat, summary.gross
    order.save()
    for row in lines:
        row.order = order
    OrderLine.objects.bulk_create(lines)
    staff = by if by is not None and by.is_staff else None
    record(subject=order, verb="placed", actor=staff, customer=staff is None,
           data={"source": data.source, "gross_total": str(order.gross_total),
                 "currency": order.currency})
    auto_follow(user=staff, subject=order)
    return order


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _stock_products(order: Order) -> list[tuple[BaseProduct, Decimal]]:
    # The real subclass decides whether a product moves stock (goods, vehicles, lots).
    ids = list(order.lines.filter(product__isnull=False).values_list("product_id", "quantity"))
    products = BaseProduct.objects.in_bulk([pk for pk, _q in ids])
    merged = [(products[pk], quantity) for pk, quantity in ids]
    return [(p, q) for p, q in merged if _moves_stock(p)]


@transaction.atomic
def order_confirm(*, order: Order, by: User | None) -> Order:
    order = _locked(order)
    transition_run(order, "confirm", by=by)
    return order


@transaction.atomic
def order_start_processing(*, order: Order, by: User | None) -> Order:
    order = _locked(order)
    transition_run(order, "start_processing", by=by)
    return order


@transaction.atomic
def order_ship(*, order: Order, by: User | None, tracking: str = "") -> Order:
    """Shipping turns the order's reservations into sale movements."""
    order = _locked(order)
    transition_run(order, "ship", by=by, tracking=tracking.strip()[:100],
                   data={"tracking": tracking.strip()[:100]} if tracking.strip() else None)
    try:
        stock_commit(lines=_stock_products(order), by=by, reference=order.number)
    except CatalogError as exc:
        raise SalesError(exc.message) from exc
    return order


@transaction.atomic
def order_deliver(*, order: Order, by: User | None) -> Order:
    order = _locked(order)
    transition_run(order, "deliver", by=by)
    return order


@transaction.atomic
def order_cancel(*, order: Order, by: User | None, reason: str) -> Order:
    """Cancelling before shipping gives the reserved stock back (a reserved lot becomes
    available again). Payments are refunded by billing, which listens to its own flows."""
    reason = (reason or "").strip()
    if not reason:
        raise SalesError(_("Say why the order is cancelled (the customer will read it)."),
                         field="reason")
    order = _locked(order)
    transition_run(order, "cancel", by=by, reason=reason, message=reason)
    try:
        stock_release(lines=_stock_products(order), by=by, reference=order.number)
    except CatalogError as exc:
        raise SalesError(exc.message) from exc
    return order


@transaction.atomic
def order_payment_method_change(*, order: Order, method: str, by: User | None,
                                by_customer: bool = False) -> Order:
    """The customer (or staff) changes how a pending order will be paid, e.g. bank transfer
    after giving up on a card payment: the order then waits for the transfer instead of being
    cancelled as an unpaid card order. Recorded on the order's timeline."""
    if method not in PaymentMethod.values:
        raise SalesError(_("Choose how the order will be paid."), field="payment_method")
    order = _locked(order)
    if order.status != OrderStatus.PENDING:
        raise SalesError(_("Order %(number)s is %(state)s: its payment method can no longer "
                           "change.") % {"number": order.number,
                                         "state": order.get_status_display().lower()},
                         field="payment_method")
    before = order.payment_method
    if before == method:
        return order
    order.payment_method = method
    order.save(update_fields=["payment_method", "updated_at"])
    record(subject=order, verb="payment_method", actor=by, customer=by_customer,
           data={"from": before, "to": method})
    return order


ORDER_TRANSITIONS = {
    "confirm": order_confirm,
    "start_processing": order_start_processing,
    "ship": order_ship,
    "deliver": order_deliver,
    "cancel": order_cancel,
}


def order_transition(*, order: Order, action: str, by: User | None, reason: str = "",
                     tracking: str = "") -> Order:
    """One entry point for buttons and API actions: dispatches to the named service."""
    service = ORDER_TRANSITIONS.get(action)
    if service is None:
        raise IllegalTransition(document=order.number, action=action,
                                state=order.get_status_display().lower(),
                                allowed=allowed_actions(order, by))
    if action == "cancel":
        return service(order=order, by=by, reason=reason)
    if action == "ship":
        return service(order=order, by=by, tracking=tracking)
    return service(order=order, by=by)


# Committed deltas folded into the count rows in one statement: rows a running transaction is
# still writing are invisible to it and stay for the next time; two compactions at once
# cannot both move a delta (the second skips rows the first deleted).
_COMPACT = """
WITH moved AS (DELETE FROM sales_orderstatusdelta RETURNING status, change)
INSERT INTO sales_orderstatuscount AS c (status, count)
SELECT status, SUM(change) FROM moved GROUP BY status ORDER BY status
ON CONFLICT (status) DO UPDATE SET count = c.count + EXCLUDED.count
"""


def order_counts_compact() -> None:
    """Fold the per-transaction deltas of the kept order counts into the per-status rows
    (OrderStatusCount), so reading a total stays a handful of rows. Periodic (every 5 min);
    the totals are exact whether it has run or not."""
    with connection.cursor() as cursor:
        cursor.execute(_COMPACT)
