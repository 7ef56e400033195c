"""What a customer may raise a ticket about, told to streams (which never imports sales):
one of their orders (by its number), or a real-estate lot they bought through one of their
orders (by its SKU). Each lookup only ever returns the customer's own: another customer's
order or lot is None, which the ticket pages answer with a 404, like the order's own page.

`register()` runs in SalesConfig.ready().
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.models import RealEstateLot
from sales.models import Order, OrderLine, OrderStatus
from sales.selectors import customer_for_user, order_get_for_customer, orders_for_customer
from streams.subjects import customer_subjects

RECENT_ORDERS = 20


def order_for_ticket(user, number: str) -> Order | None:
    customer = customer_for_user(user)
    if customer is None:
        return None
    return order_get_for_customer(customer=customer, number=number)


def recent_orders(user) -> list[tuple[str, str]]:
    customer = customer_for_user(user)
    if customer is None:
        return []
    numbers = orders_for_customer(customer).values_list("number", flat=True)[:RECENT_ORDERS]
    return [(number, _("Order %(number)s") % {"number": number}) for number in numbers]


def lot_for_ticket(user, sku: str) -> RealEstateLot | None:
    """A lot on one of the customer's orders that was not cancelled."""
    customer = customer_for_user(user)
    if customer is None:
        return None
    bought = (OrderLine.objects.filter(order__customer=customer)
              .exclude(order__status=OrderStatus.CANCELLED).values("product_id"))
    return RealEstateLot.objects.filter(sku=sku, pk__in=bought).first()


def register() -> None:
    customer_subjects(
        Order, order_for_ticket, name="order", choices=recent_orders,
        label=lambda order: _("Order %(number)s") % {"number": order.number},
        url=lambda order: reverse("sales_account:order_detail", args=[order.number]))
    customer_subjects(
        RealEstateLot, lot_for_ticket, name="lot",
        label=lambda lot: _("Lot %(number)s, %(name)s") % {"number": lot.lot_number,
                                                          "name": lot.name})
