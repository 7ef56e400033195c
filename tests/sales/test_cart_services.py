"""Carts through their services and the cart view: merged lines, merge on sign-in with capped
quantities, problems shown on lines (never dropped, never a crash)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.services.products import products_archive
from catalog.services.stock import stock_reserve
from sales.errors import SalesError
from sales.models import Cart, CartLine
from sales.selectors import cart_view
from sales.services.carts import (
    CART_SESSION_KEY,
    cart_add,
    cart_get_or_create,
    cart_merge,
    cart_set_quantity,
)
from sales.services.checkout import checkout_place_order
from tests.sales.factories import BASE_URL, checkout_input, goods, lot, registered, service

pytestmark = pytest.mark.usefixtures("in_shop")


def test_adding_the_same_product_twice_merges_the_line():
    bike = goods("BIKE", stock="5")
    cart = cart_get_or_create(session={}, customer=None)
    cart_add(cart=cart, product=bike, quantity=1)
    cart_add(cart=cart, product=bike, quantity=2)
    assert list(cart.lines.values_list("quantity", flat=True)) == [Decimal("3")]
    with pytest.raises(SalesError, match="Only 5"):
        cart_add(cart=cart, product=bike, quantity=3)


def test_a_lot_is_unique_and_services_are_not_limited():
    a01, setup = lot("A01"), service("SETUP")
    cart = cart_get_or_create(session={}, customer=None)
    with pytest.raises(SalesError, match="unique"):
        cart_add(cart=cart, product=a01, quantity=2)
    cart_add(cart=cart, product=a01, quantity=1)
    with pytest.raises(SalesError, match="already in your cart"):
        cart_add(cart=cart, product=a01, quantity=1)
    cart_add(cart=cart, product=setup, quantity=400)


def test_the_session_cart_is_created_once_and_found_again():
    session: dict = {}
    cart = cart_get_or_create(session=session, customer=None)
    assert session[CART_SESSION_KEY] == cart.token
    assert cart_get_or_create(session=session, customer=None).pk == cart.pk


def test_signing_in_merges_the_session_cart_capped_by_stock_and_says_what_changed():
    buyer = registered()
    bike, helmet, gloves = goods("BIKE", stock="4"), goods("HELMET", stock="9"), goods("GLOVES")
    mine = cart_get_or_create(session={}, customer=buyer)
    cart_add(cart=mine, product=bike, quantity=3)
    cart_add(cart=mine, product=helmet, quantity=1)
    session: dict = {}
    anonymous = cart_get_or_create(session=session, customer=None)
    cart_add(cart=anonymous, product=bike, quantity=2)
    cart_add(cart=anonymous, product=helmet, quantity=2)
    cart_add(cart=anonymous, product=gloves, quantity=1)
    changes = cart_merge(session=session, customer=buyer)
    quantities = dict(CartLine.objects.filter(cart=mine).values_list("product__sku", "quantity"))
    assert quantities == {"BIKE": 4, "HELMET": 3, "GLOVES": 1}
    assert any("BIKE" in c and "only 4 available" in c for c in changes), changes
    assert any("HELMET" in c and "added up" in c for c in changes), changes
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
    assert CART_SESSION_KEY not in session


def test_a_first_sign_in_keeps_the_session_cart_as_the_customers():
    buyer = registered()
    session: dict = {}
    anonymous = cart_get_or_create(session=session, customer=None)
    cart_add(cart=anonymous, product=goods("BIKE"), quantity=1)
    assert cart_merge(session=session, customer=buyer) == []
    assert Cart.objects.get(pk=anonymous.pk).customer == buyer


def test_problems_are_shown_on_their_lines_and_block_checkout():
    bike, helmet, gloves = goods("BIKE", stock="5"), goods("HELMET", stock="5"), goods("GLOVES")
    cart = cart_get_or_create(session={}, customer=None)
    for product in (bike, helmet, gloves):
        cart_add(cart=cart, product=product, quantity=2)
    products_archive(product_ids=[bike.pk], by=None)
    stock_reserve(lines=[(helmet, 4)], by=None)
    gloves.net_price = Decimal("120.00")
    gloves.save()
    view = cart_view(cart)
    problems = {row.product.sku: (row.problems, row.blocking) for row in view.rows}
    assert problems["BIKE"][1] and "No longer sold" in problems["BIKE"][0][0]
    assert problems["HELMET"][1] and "Only 1 available" in problems["HELMET"][0][0]
    assert not problems["GLOVES"][1], "a price change is shown, it does not block"
    assert "from 120.00 to 144.00" in problems["GLOVES"][0][0], "prices are shown incl. VAT"
    assert view.blocking and len(view.rows) == 3
    with pytest.raises(SalesError, match="no longer sold"):
        checkout_place_order(cart=cart, customer=None, data=checkout_input(), base_url=BASE_URL)
    cart_set_quantity(cart=cart, line_id=view.rows[0].line.pk, quantity=0)
    helmet_line = next(r.line for r in view.rows if r.product.sku == "HELMET")
    with pytest.raises(SalesError, match="Only 1"):
        cart_set_quantity(cart=cart, line_id=helmet_line.pk, quantity=2)
    cart_set_quantity(cart=cart, line_id=helmet_line.pk, quantity=1)
    assert not cart_view(cart).blocking
    order = checkout_place_order(cart=cart, customer=None, data=checkout_input(),
                                 base_url=BASE_URL)
    assert {line.sku: line.unit_net for line in order.lines.all()} == {
        "HELMET": Decimal("100.00"), "GLOVES": Decimal("120.00")}, "today's prices"
    assert not cart.lines.exists()


def test_a_checkout_total_different_from_the_reviewed_one_is_refused():
    bike = goods("BIKE")
    cart = cart_get_or_create(session={}, customer=None)
    cart_add(cart=cart, product=bike, quantity=1)
    with pytest.raises(SalesError, match="Prices changed"):
        checkout_place_order(cart=cart, customer=None,
                             data=checkout_input(expected_gross_total=Decimal("1.00")),
                             base_url=BASE_URL)
    assert cart.lines.count() == 1
