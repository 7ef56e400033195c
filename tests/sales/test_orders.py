"""Orders: placed with stock reserved, numbered per shop and year, driven through their states
by the right roles only; illegal transitions change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import LotAvailability, RealEstateLot, StockLevel, StockMovement
from catalog.services.products import product_create
from catalog.services.stock import stock_audit
from sales.errors import IllegalTransition, SalesError, TransitionForbidden
from sales.models import Order, OrderStatus
from sales.services.orders import order_transition
from sales.services.workflow import allowed_actions
from streams.selectors import events_of
from tests.sales.factories import goods, lot, place_order, service, staff

pytestmark = pytest.mark.usefixtures("in_shop")


def level(product) -> tuple[Decimal, Decimal]:
    row = StockLevel.objects.get(pk=product.pk)
    return row.on_hand, row.reserved


def test_placing_an_order_reserves_stock_and_numbers_it_per_year():
    bike = goods("BIKE", stock="5")
    first = place_order((bike, 2))
    second = place_order((bike, 1))
    year = timezone.localdate().year
    assert first.number == f"C-{year}-00001" and second.number == f"C-{year}-00002"
    assert first.status == OrderStatus.PENDING
    assert level(bike) == (5, 3)
    movement = StockMovement.objects.filter(product=bike, kind="reservation").first()
    assert movement.reference == second.number
    assert stock_audit() == []


def test_order_lines_are_snapshots_that_catalog_edits_never_change():
    bike = goods("BIKE", price="100.00")
    order = place_order((bike, 2))
    bike.net_price = Decimal("999.00")
    bike.name = "Renamed"
    bike.save()
    line = Order.objects.get(pk=order.pk).lines.get()
    assert (line.name, line.sku, line.unit_net, line.tax_rate, line.quantity) == (
        "Goods BIKE", "BIKE", Decimal("100.00"), Decimal("20.00"), Decimal("2"))
    assert (line.net, line.vat, line.gross) == (Decimal("200.00"), Decimal("40.00"),
                                                Decimal("240.00"))


def test_full_life_by_the_right_roles_commits_stock_on_shipping():
    bike, setup = goods("BIKE", stock="4"), service("SETUP")
    order = place_order((bike, 3), (setup, 1))
    seller, clerk = staff("sales"), staff("warehouse")
    order_transition(order=order, action="confirm", by=seller)
    order_transition(order=order, action="start_processing", by=clerk)
    order_transition(order=order, action="ship", by=clerk, tracking="COLIS-42")
    assert level(bike) == (1, 0), "shipping turns the reservation into a sale"
    order_transition(order=order, action="deliver", by=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.tracking_reference == "COLIS-42"
    events = list(events_of(order).order_by("id")
                  .values_list("verb", "before", "after", "actor__email"))
    assert [e[:3] for e in events] == [
        ("placed", "", ""), ("confirm", "pending", "confirmed"),
        ("start_processing", "confirmed", "processing"), ("ship", "processing", "shipped"),
        ("deliver", "shipped", "delivered")]
    assert events[1][3] == seller.email and events[3][3] == clerk.email
    assert stock_audit() == []


@pytest.mark.parametrize(("role", "action", "allowed"), [
    ("sales", "confirm", True), ("warehouse", "confirm", False), ("accountant", "confirm", False),
    ("manager", "confirm", True), ("owner", "confirm", True),
    ("warehouse", "start_processing", True), ("sales", "start_processing", False),
    ("manager", "cancel", True), ("owner", "cancel", True), ("sales", "cancel", False),
    ("warehouse", "cancel", False), ("accountant", "cancel", False),
])
def test_each_transition_needs_its_role(role, action, allowed):
    bike = goods("BIKE", stock="3")
    order = place_order((bike, 1))
    if action == "start_processing":
        order_transition(order=order, action="confirm", by=staff("owner"))
    before = Order.objects.get(pk=order.pk).status
    user = staff(role)
    if allowed:
        order_transition(order=order, action=action, by=user, reason="customer asked")
        assert Order.objects.get(pk=order.pk).status != before
    else:
        with pytest.raises(TransitionForbidden):
            order_transition(order=order, action=action, by=user, reason="customer asked")
        assert Order.objects.get(pk=order.pk).status == before
        assert level(bike) == (3, 1)


@pytest.mark.parametrize("state_path", [
    [], ["confirm"], ["confirm", "start_processing"],
    ["confirm", "start_processing", "ship"], ["confirm", "start_processing", "ship", "deliver"],
    ["cancel"],
])
def test_every_illegal_transition_is_refused_and_changes_nothing(state_path):
    owner = staff("owner")
    bike = goods("BIKE", stock="5")
    order = place_order((bike, 2))
    for action in state_path:
        order_transition(order=order, action=action, by=owner, reason="test")
    order = Order.objects.get(pk=order.pk)
    legal = set(allowed_actions(order, owner))
    stock_before = level(bike)
    events_before = events_of(order).count()
    for action in {"confirm", "start_processing", "ship", "deliver", "cancel"} - legal:
        with pytest.raises(IllegalTransition) as refused:
            order_transition(order=order, action=action, by=owner, reason="test")
        assert refused.value.allowed == allowed_actions(order, owner)
        assert Order.objects.get(pk=order.pk).status == order.status
        assert level(bike) == stock_before
    assert events_of(order).count() == events_before


def test_cancelling_before_shipping_releases_stock_and_needs_a_reason():
    manager = staff("manager")
    bike = goods("BIKE", stock="5")
    order = place_order((bike, 2))
    with pytest.raises(SalesError, match="Say why"):
        order_transition(order=order, action="cancel", by=manager, reason=" ")
    order_transition(order=order, action="confirm", by=manager)
    order_transition(order=order, action="cancel", by=manager, reason="Out of budget")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "Out of budget"
    assert level(bike) == (5, 0)
    assert stock_audit() == []


def test_a_lot_is_reserved_by_its_order_sold_when_shipped_and_freed_when_cancelled():
    owner = staff("owner")
    a01, a02 = lot("A01"), lot("A02")
    sold = place_order((a01, 1))
    assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.RESERVED
    for action in ("confirm", "start_processing", "ship"):
        order_transition(order=sold, action=action, by=owner)
    assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.SOLD
    freed = place_order((a02, 1))
    order_transition(order=freed, action="cancel", by=owner, reason="financing refused")
    assert RealEstateLot.objects.get(pk=a02.pk).availability == LotAvailability.AVAILABLE


def test_a_vehicle_in_stock_once_is_sold_once():
    car = product_create(kind="vehicle", data={
        "sku": "VH-ZOE", "name": "Renault Zoe", "make": "Renault", "model": "Zoe", "year": 2020,
        "vin": "VF1AG000X64900001", "net_price": Decimal("13990")}, initial_stock=Decimal(1))
    place_order((car, 1))
    with pytest.raises(SalesError, match="out of stock"):
        place_order((car, 1))
    assert level(car) == (1, 1)
