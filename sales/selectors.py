"""Reads of the sales pipeline shared by the dashboard, the storefront and the API.

Access goes through named fetchers (CONVENTIONS 5): a customer's fetchers take the customer
and never return someone else's document, whatever id is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from catalog.models import PRODUCT_KINDS, BaseProduct, LotAvailability
from catalog.pricing import ZERO as MONEY_ZERO
from catalog.pricing import Line, Totals, gross, line_totals, totals
from catalog.selectors import kind_by_ctype
from sales.models import (
    Address,
    Cart,
    CartLine,
    Customer,
    CustomerState,
    Order,
    OrderStatus,
    Quote,
    QuoteStatus,
    ShippingMethod,
)
from sales.services.carts import CART_SESSION_KEY
from sales.services.checkout import shipping_price
from streams.selectors import events_of, last_message

ZERO = Decimal("0")


# ---------------------------------------------------------------------------------------------
# Visitors and customers
# ---------------------------------------------------------------------------------------------
def customer_for_user(user) -> Customer | None:
    """The customer record a signed-in shop user buys as (staff have none)."""
    if user is None or not user.is_authenticated or user.is_staff:
        return None
    return Customer.objects.filter(user=user).first()


_UNSET = object()


def request_customer(request) -> Customer | None:
    """The customer a storefront request buys as, looked up once per request."""
    customer = getattr(request, "_sales_customer", _UNSET)
    if customer is _UNSET:
        customer = customer_for_user(getattr(request, "user", None))
        request._sales_customer = customer
    return customer


def visitor_state(request) -> str:
    """Unrecognised (no customer record), guest or registered (django-SHOP's states)."""
    customer = request_customer(request)
    return customer.state if customer is not None else CustomerState.UNRECOGNIZED


def customer_count() -> int:
    return Customer.objects.count()


def customers_for_dashboard(*, q: str = "", kind: str = "", state: str = "",
                            sort: str = "-created_at") -> QuerySet[Customer]:
    qs = Customer.objects.annotate(
        order_count=Count("orders", distinct=True),
    )
    if q:
        qs = qs.filter(Q(email__icontains=q) | Q(last_name__icontains=q)
                       | Q(first_name__icontains=q) | Q(company_name__icontains=q)
                       | Q(phone__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by(sort, "-id")


def addresses_for_customer(customer: Customer) -> QuerySet[Address]:
    """A customer's address book, defaults first."""
    return customer.addresses.order_by("-is_default_billing", "-is_default_shipping", "id")


def address_get_for_customer(*, customer: Customer, pk: int) -> Address | None:
    """One of this customer's addresses; None for anyone else's, whatever id is asked."""
    return Address.objects.filter(customer=customer, pk=pk).first()


def customer_get(*, pk: int) -> Customer | None:
    return Customer.objects.select_related("user").prefetch_related("addresses").filter(
        pk=pk).first()


# ---------------------------------------------------------------------------------------------
# Carts
# ---------------------------------------------------------------------------------------------
def cart_for_request(request) -> Cart | None:
    """The visitor's cart if they have one; never creates one (a GET writes nothing)."""
    customer = request_customer(request)
    if customer is not None:
        return Cart.objects.filter(customer=customer).first()
    token = request.session.get(CART_SESSION_KEY) if hasattr(request, "session") else None
    return Cart.objects.filter(token=token).first() if token else None


def product_for_cart(*, pk: int) -> BaseProduct | None:
    """A product a visitor asks to add (the real subclass: lots and stock rules differ)."""
    return BaseProduct.objects.select_related("tax_rate").filter(pk=pk).first()


def cart_item_count(cart: Cart | None) -> int:
    if cart is None:
        return 0
    return cart.lines.count()


@dataclass
class CartRow:
    line: CartLine
    product: BaseProduct
    kind: str
    quantity: Decimal
    unit_gross: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    available: Decimal | None
    problems: list[str] = field(default_factory=list)
    blocking: bool = False
    previous_unit_gross: Decimal | None = None


@dataclass
class CartView:
    cart: Cart | None
    rows: list[CartRow]
    totals: Totals

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def blocking(self) -> bool:
        return any(row.blocking for row in self.rows)

    @property
    def count(self) -> int:
        return len(self.rows)


def _money(value: Decimal) -> str:
    """An amount as the visitor's locale writes it (1 234,56 in French), for messages."""
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _empty_totals() -> Totals:
    return totals([])


def cart_view(cart: Cart | None) -> CartView:
    """The cart's lines at today's prices, each with its problems in words. Two queries."""
    if cart is None:
        return CartView(cart=None, rows=[], totals=_empty_totals())
    lines = list(CartLine.objects.filter(cart=cart).select_related(
        "product__tax_rate", "product__stock", "product__realestatelot")
        .order_by("added_at", "id"))
    kinds = kind_by_ctype()
    rows = []
    for line in lines:
        product = line.product
        kind = kinds.get(product.polymorphic_ctype_id, "goods")
        model = PRODUCT_KINDS[kind]
        rate = product.tax_rate.rate
        amounts = line_totals(Line(unit_net=product.net_price, quantity=line.quantity,
                                   rate_percent=rate))
        row = CartRow(line=line, product=product, kind=kind, quantity=line.quantity,
                      unit_gross=gross(product.net_price, rate), net=amounts.net,
                      vat=amounts.vat, gross=amounts.gross, available=None)
        if product.is_archived:
            row.problems.append(_("No longer sold: remove it to check out."))
            row.blocking = True
        elif kind == "lot":
            lot = product.realestatelot
            if lot.availability != LotAvailability.AVAILABLE:
                row.problems.append(_("This lot is now %(state)s: remove it to check out.")
                                    % {"state": lot.get_availability_display().lower()})
                row.blocking = True
        elif model.STOCKED:
            level = getattr(product, "stock", None)
            row.available = level.available if level is not None else ZERO
            if row.available <= 0:
                row.problems.append(_("Out of stock: remove it to check out."))
                row.blocking = True
            elif line.quantity > row.available:
                row.problems.append(_("Only %(available)s available: lower the quantity.")
                                    % {"available": formats.number_format(
                                        row.available.normalize(), use_l10n=True)})
                row.blocking = True
        if line.unit_net_seen != product.net_price and not row.blocking:
            row.previous_unit_gross = gross(line.unit_net_seen, rate)
            row.problems.append(_("The price changed from %(old)s to %(new)s.")
                                % {"old": _money(row.previous_unit_gross),
                                   "new": _money(row.unit_gross)})
        rows.append(row)
    summary = totals([Line(unit_net=r.product.net_price, quantity=r.quantity,
                           rate_percent=r.product.tax_rate.rate) for r in rows])
    return CartView(cart=cart, rows=rows, totals=summary)


# ---------------------------------------------------------------------------------------------
# Shipping
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShippingOption:
    method: ShippingMethod
    net: Decimal
    gross: Decimal
    is_free: bool


def shipping_options(*, goods_gross: Decimal) -> list[ShippingOption]:
    """Active methods with what each costs for this order."""
    options = []
    for method in ShippingMethod.objects.filter(is_active=True).select_related("tax_rate"):
        net = shipping_price(method, goods_gross)
        options.append(ShippingOption(method=method, net=net,
                                      gross=gross(net, method.tax_rate.rate),
                                      is_free=net == 0))
    return options


def shipping_methods_all() -> QuerySet[ShippingMethod]:
    return ShippingMethod.objects.select_related("tax_rate").order_by("position", "id")


def checkout_totals(view: CartView, option: ShippingOption | None) -> Totals:
    lines = [Line(unit_net=r.product.net_price, quantity=r.quantity,
                  rate_percent=r.product.tax_rate.rate) for r in view.rows]
    if option is not None and option.net:
        lines.append(Line(unit_net=option.net, quantity=Decimal("1"),
                          rate_percent=option.method.tax_rate.rate))
    return totals(lines)


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
# Confirmed or being prepared: the warehouse's queue (dashboard home card and list filter).
ORDERS_TO_SHIP = (OrderStatus.CONFIRMED, OrderStatus.PROCESSING)


def order_count() -> int:
    return Order.objects.count()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _order_statuses(status: str) -> list[str] | None:
    """The statuses a status chip of the order list stands for; None: every status."""
    if status in OrderStatus.values:
        return [status]
    if status == "to_ship":
        return list(ORDERS_TO_SHIP)
    return None


def orders_for_dashboard(*, q: str = "", status: str = "", customer: int | None = None,
                         date_from: date | None = None, date_to: date | None = None,
                         sort: str = "-placed_at") -> QuerySet[Order]:
    qs = Order.objects.select_related("customer")
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(email__icontains=q)
                       | Q(customer__last_name__icontains=q)
                       | Q(customer__company_name__icontains=q))
    statuses = _order_statuses(status)
    if statuses is not None:
        qs = qs.filter(status__in=statuses)
    if customer:
        qs = qs.filter(customer_id=customer)
    if date_from:
        qs = qs.filter(placed_at__gte=_day_bounds(date_from)[0])
    if date_to:
        qs = qs.filter(placed_at__lt=_day_bounds(date_to)[1])
    return qs.order_by(sort, "-id")


def orders_total_for_dashboard(*, q: str = "", status: str = "", customer: int | None = None,
                               date_from: date | None = None,
                               date_to: date | None = None) -> RawSQL | None:
    """The total of the list `orders_for_dashboard` gives for the same filters, as an
    expression over the kept per-status counts (OrderStatusCount plus the deltas not folded in
    yet) when only the status filters it; None when other filters apply (the list then counts
    its rows)."""
    if q or customer or date_from or date_to:
        return None
    statuses = _order_statuses(status) or list(OrderStatus.values)
    return RawSQL(_KEPT_TOTAL, [statuses, statuses])  # noqa: S611 - fixed text, parameters


def orders_kept_total(*, status: str = "") -> int:
    """How many orders a status chip stands for, from the kept counts (no order is read)."""
    statuses = _order_statuses(status) or list(OrderStatus.values)
    with connection.cursor() as cursor:
        cursor.execute(_KEPT_TOTAL, [statuses, statuses])
        return cursor.fetchone()[0]


_KEPT_TOTAL = """SELECT COALESCE(SUM(n), 0)::bigint FROM (
    SELECT count AS n FROM sales_orderstatuscount WHERE status = ANY(%s)
    UNION ALL SELECT change FROM sales_orderstatusdelta WHERE status = ANY(%s)) AS kept"""


def order_get(*, pk: int) -> Order | None:
    """An order for staff, with its lines and customer."""
    return (Order.objects.select_related("customer", "quote", "created_by")
            .prefetch_related("lines").filter(pk=pk).first())


def order_history(order: Order) -> QuerySet:
    """The order's events (its timeline), newest first, with who acted."""
    return events_of(order).select_related("actor")


def orders_for_customer(customer: Customer) -> QuerySet[Order]:
    return Order.objects.filter(customer=customer).order_by("-placed_at", "-id")


def order_get_for_customer(*, customer: Customer, number: str) -> Order | None:
    return (Order.objects.filter(customer=customer, number=number)
            .prefetch_related("lines").first())


def order_get_for_visitor(*, customer: Customer | None, guest_numbers=(), number: str = "",
                          checkout_key: str = "") -> Order | None:
    """An order the visitor placed: a registered customer's own, or one a guest placed in this
    session (its number kept in the session). None for anyone else's, whatever is asked."""
    if not number and not checkout_key:
        return None
    qs = Order.objects.select_related("customer").prefetch_related("lines")
    qs = qs.filter(number=number) if number else qs.filter(checkout_key=checkout_key)
    owner = Q(number__in=list(guest_numbers))
    if customer is not None:
        owner |= Q(customer=customer)
    return qs.filter(owner).first()


def order_for_quote(quote: Quote) -> Order | None:
    """The order an accepted quote became, if it was converted."""
    return Order.objects.filter(quote=quote).first()


# ---------------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------------
OPEN_QUOTE_STATES = (QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.ACCEPTED)
# What a customer sees: everything sent to them, latest revision only.
CUSTOMER_QUOTE_STATES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.CONVERTED,
                         QuoteStatus.DECLINED, QuoteStatus.EXPIRED)


def quotes_for_dashboard(*, q: str = "", status: str = "", customer: int | None = None,
                         date_from: date | None = None, date_to: date | None = None,
                         sort: str = "-created_at") -> QuerySet[Quote]:
    qs = Quote.objects.select_related("customer")
    if status in QuoteStatus.values:
        qs = qs.filter(status=status)
    elif status == "open":
        qs = qs.filter(status__in=OPEN_QUOTE_STATES)
    else:  # older revisions are read from their latest one
        qs = qs.exclude(status=QuoteStatus.SUPERSEDED)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__email__icontains=q)
                       | Q(customer__last_name__icontains=q)
                       | Q(customer__company_name__icontains=q))
    if customer:
        qs = qs.filter(customer_id=customer)
    if date_from:
        qs = qs.filter(created_at__gte=_day_bounds(date_from)[0])
    if date_to:
        qs = qs.filter(created_at__lt=_day_bounds(date_to)[1])
    return qs.order_by(sort, "-id")


def quote_get(*, pk: int) -> Quote | None:
    return (Quote.objects.select_related("customer", "created_by", "previous", "order")
            .prefetch_related("lines").filter(pk=pk).first())


def quote_revisions(quote: Quote) -> QuerySet[Quote]:
    return Quote.objects.filter(number=quote.number).order_by("-revision")


def quote_history(quote: Quote) -> QuerySet:
    """The quote's events (its timeline), newest first, with who acted."""
    return events_of(quote).select_related("actor")


def quote_customer_message(quote: Quote) -> str:
    """What the customer wrote when asking for this quote from their cart ("" if nothing)."""
    return last_message(quote, verb="customer_message")


def quotes_for_customer(customer: Customer) -> QuerySet[Quote]:
    return (Quote.objects.filter(customer=customer, status__in=CUSTOMER_QUOTE_STATES)
            .order_by("-created_at", "-id"))


def quote_get_for_customer(*, customer: Customer, pk: int) -> Quote | None:
    return (Quote.objects.filter(customer=customer, pk=pk, status__in=CUSTOMER_QUOTE_STATES)
            .prefetch_related("lines").first())


# ---------------------------------------------------------------------------------------------
# Dashboard home
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SalesSummary:
    open_quotes: int
    open_quotes_value: Decimal
    to_ship: int
    today_orders: int
    today_sales: Decimal


def sales_summary() -> SalesSummary:
    start, end = _day_bounds(timezone.localdate())
    # The same quotes as the list's "open" filter, so a card's number matches the list it opens.
    quotes = Quote.objects.filter(status__in=OPEN_QUOTE_STATES).aggregate(
        n=Count("id"), value=Sum("gross_total"))
    # Today's orders through the placed_at index, the orders to ship from the kept counts:
    # neither reads every order the shop ever had.
    orders = (Order.objects.filter(placed_at__gte=start, placed_at__lt=end)
              .exclude(status=OrderStatus.CANCELLED)
              .aggregate(today=Count("id"), today_value=Sum("gross_total")))
    return SalesSummary(open_quotes=quotes["n"], open_quotes_value=quotes["value"] or MONEY_ZERO,
                        to_ship=orders_kept_total(status="to_ship"), today_orders=orders["today"],
                        today_sales=orders["today_value"] or MONEY_ZERO)
