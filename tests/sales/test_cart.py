"""The storefront cart through the shop's host: adding (twice merges), changing quantities
with live totals, removing, problems shown on their line (never a crash, checkout blocked),
the header's count, and a constant number of queries whatever the cart holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.services.products import product_update, products_archive
from catalog.services.stock import stock_reserve
from sales.models import Cart, CartLine, Quote, QuoteSource, QuoteStatus
from streams.selectors import events_of
from tests.conftest import PASSWORD, host_of, in_schema, login
from tests.sales.factories import goods, lot, registered, service

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def add(client: Client, product, quantity="1", **headers):
    return client.post("/cart/add/", {"product": product.pk, "quantity": quantity}, **headers)


def lines(shop) -> list[tuple[str, Decimal]]:
    with in_schema(shop):
        return list(CartLine.objects.order_by("id").values_list("product__sku", "quantity"))


def line_id(shop, product) -> int:
    with in_schema(shop):
        return CartLine.objects.get(product_id=product.pk).pk


def html(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------
# Adding
# ---------------------------------------------------------------------------------------------
def test_adding_the_same_product_twice_merges_its_line(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")

    first = add(shop_client, bike, "1")
    second = add(shop_client, bike, "2")

    assert first.status_code == second.status_code == 302
    assert second["Location"] == "/cart/"
    assert lines(shop) == [("BIKE", Decimal("3"))]
    page = html(shop_client.get("/cart/"))
    assert "Cart (1)" in page
    assert 'value="3"' in page
    assert "Goods BIKE is in your cart." in page


def test_adding_with_htmx_updates_the_header_count_out_of_band(shop, shop_client):
    with in_schema(shop):
        bike, fitting = goods("BIKE"), service("FIT")
    add(shop_client, bike)

    response = add(shop_client, fitting, **HTMX)

    assert response.status_code == 200
    body = html(response)
    assert '<form id="add-to-cart"' in body
    assert 'id="cart-link"' in body and 'hx-swap-oob="true"' in body and "Cart (2)" in body
    assert "Service FIT is in your cart." in body  # the toast, out of band
    assert shop_client.session["cart_count"] == 2


def test_adding_more_than_the_stock_is_refused_with_the_reason(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="2")

    response = add(shop_client, bike, "3", **HTMX)

    assert response.status_code == 422
    assert "Only 2 of Goods BIKE available." in html(response)
    assert 'value="3"' in html(response), "what the customer typed is kept"
    assert lines(shop) == []
    no_js = add(shop_client, bike, "3")
    assert no_js.status_code == 302 and no_js["Location"] == bike.get_absolute_url()


def test_a_lot_is_added_once(shop, shop_client):
    with in_schema(shop):
        flat = lot("A01")
    add(shop_client, flat)

    again = add(shop_client, flat, **HTMX)

    assert again.status_code == 422
    assert "Lot A01 is already in your cart." in html(again)
    assert lines(shop) == [("LOT-A01", Decimal("1"))]


def test_an_unknown_product_is_not_found(shop, shop_client):
    assert shop_client.post("/cart/add/", {"product": 999999, "quantity": 1}).status_code == 404
    assert shop_client.post("/cart/add/", {"product": "x"}).status_code == 404


def test_product_page_offers_add_to_cart_only_when_it_can_be_bought(shop, shop_client):
    with in_schema(shop):
        in_stock, sold_out = goods("BIKE", stock="1"), goods("GONE", stock="0")
        flat = lot("A01")

    assert 'action="/cart/add/"' in html(shop_client.get(in_stock.get_absolute_url()))
    assert 'action="/cart/add/"' not in html(shop_client.get(sold_out.get_absolute_url()))
    flat_page = html(shop_client.get(flat.get_absolute_url()))
    assert '<input type="hidden" name="quantity" value="1">' in flat_page


def test_viewing_an_empty_cart_creates_nothing(shop, shop_client):
    response = shop_client.get("/cart/")

    assert response.status_code == 200
    assert "Your cart is empty." in html(response)
    with in_schema(shop):
        assert not Cart.objects.exists()


# ---------------------------------------------------------------------------------------------
# Changing and removing
# ---------------------------------------------------------------------------------------------
def test_changing_a_quantity_with_htmx_answers_the_table_with_new_totals(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="10", price="100.00")
    add(shop_client, bike)

    response = shop_client.post(f"/cart/lines/{line_id(shop, bike)}/", {"quantity": "3"}, **HTMX)

    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<div id="cart-body"')
    assert "360.00&nbsp;€" in body  # 3 × 120.00 incl. VAT
    assert "300.00&nbsp;€" in body and "60.00&nbsp;€" in body  # net and VAT
    assert "Cart (1)" in body
    assert lines(shop) == [("BIKE", Decimal("3"))]


def test_changing_a_quantity_without_javascript_redirects_to_the_cart(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="10")
    add(shop_client, bike)

    response = shop_client.post(f"/cart/lines/{line_id(shop, bike)}/", {"quantity": "2"})

    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert lines(shop) == [("BIKE", Decimal("2"))]


def test_a_refused_quantity_is_shown_on_its_line_and_changes_nothing(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="4")
    add(shop_client, bike, "2")

    response = shop_client.post(f"/cart/lines/{line_id(shop, bike)}/", {"quantity": "9"})

    assert response.status_code == 422
    body = html(response)
    row = body[body.index('id="cart-line-'):body.index("</tr>", body.index('id="cart-line-'))]
    assert "Only 4 of Goods BIKE available." in row
    assert 'value="9"' in row
    assert lines(shop) == [("BIKE", Decimal("2"))]


def test_quantity_zero_and_remove_take_the_line_out(shop, shop_client):
    with in_schema(shop):
        bike, fitting = goods("BIKE"), service("FIT")
    add(shop_client, bike)
    add(shop_client, fitting)

    shop_client.post(f"/cart/lines/{line_id(shop, bike)}/", {"quantity": "0"})
    assert lines(shop) == [("FIT", Decimal("1"))]
    response = shop_client.post(f"/cart/lines/{line_id(shop, fitting)}/remove/", **HTMX)

    assert response.status_code == 200
    assert "Your cart is empty." in html(response) and "Cart (0)" in html(response)
    assert lines(shop) == []
    assert shop_client.session["cart_count"] == 0


def test_a_visitor_cannot_touch_another_visitors_cart(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike, "2")
    stranger = Client(HTTP_HOST=host_of(shop))
    target = line_id(shop, bike)

    stranger.post(f"/cart/lines/{target}/", {"quantity": "5"})
    stranger.post(f"/cart/lines/{target}/remove/")

    assert lines(shop) == [("BIKE", Decimal("2"))]


# ---------------------------------------------------------------------------------------------
# Problems on the lines
# ---------------------------------------------------------------------------------------------
def test_problems_are_shown_on_their_line_and_block_the_checkout(shop, shop_client):
    with in_schema(shop):
        archived, dearer, scarce = goods("OLD"), goods("DEAR", price="100.00"), goods("FEW",
                                                                                     stock="3")
    for product, quantity in ((archived, 1), (dearer, 1), (scarce, 3)):
        add(shop_client, product, str(quantity))
    with in_schema(shop):
        products_archive(product_ids=[archived.pk])
        product_update(product=dearer, data={"net_price": Decimal("110.00")})
        stock_reserve(lines=[(scarce, Decimal("2"))], by=None, reference="OTHER")

    response = shop_client.get("/cart/")

    assert response.status_code == 200
    body = html(response)

    def row(sku: str) -> str:
        start = body.rindex("<tr", 0, body.index(f">{sku}</span>"))
        return body[start:body.index("</tr>", start)]

    assert "No longer sold: remove it to check out." in row("OLD")
    assert "line-problem-blocking" in row("OLD")
    assert "The price changed from 120.00 to 132.00." in row("DEAR")
    assert "line-problem-notice" in row("DEAR")
    assert "Only 1 available: lower the quantity." in row("FEW")
    assert '<button class="button button-primary button-large" type="button" disabled' in body
    assert 'href="/checkout/"' not in body
    checkout = shop_client.get("/checkout/")
    assert checkout.status_code == 302 and checkout["Location"] == "/cart/"


def test_an_acknowledged_price_change_no_longer_shows(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", price="100.00")
    add(shop_client, bike)
    with in_schema(shop):
        product_update(product=bike, data={"net_price": Decimal("90.00")})

    shop_client.post(f"/cart/lines/{line_id(shop, bike)}/", {"quantity": "1"})

    assert "The price changed" not in html(shop_client.get("/cart/"))


# ---------------------------------------------------------------------------------------------
# Requesting a quote from the cart
# ---------------------------------------------------------------------------------------------
def test_a_visitor_is_asked_to_sign_in_before_requesting_a_quote(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)

    page = html(shop_client.get("/cart/"))
    response = shop_client.post("/cart/quote/", {"message": "Price for 50?"})

    assert 'href="/account/login/?next=%2Fcart%2F"' in page
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    with in_schema(shop):
        assert not Quote.objects.exists()


def test_a_customer_requests_a_quote_for_the_cart(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
        paul = registered()
    login(shop_client, shop, paul.user)
    add(shop_client, bike, "2")

    response = shop_client.post("/cart/quote/", {"message": "Price for 50?"}, follow=True)

    with in_schema(shop):
        quote = Quote.objects.get()
        assert (quote.customer_id, quote.status, quote.source) == (
            paul.pk, QuoteStatus.DRAFT, QuoteSource.CART)
        assert quote.lines.get().quantity == 2
        assert events_of(quote).filter(verb="customer_message", message="Price for 50?").exists()
    assert f"we received your request for a quote ({quote.reference})" in html(response)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------
def test_cart_page_queries_do_not_grow_with_its_lines(shop, shop_client,
                                                      django_assert_max_num_queries):
    with in_schema(shop):
        products = [goods(f"G{n:02d}") for n in range(20)] + [lot("A01")]
    add(shop_client, products[0])
    shop_client.get("/cart/")  # the count is in the session from now on

    with CaptureQueriesContext(connection) as one_line:
        assert "Cart (1)" in html(shop_client.get("/cart/"))
    queries = len(one_line)  # read now: the next request empties the connection's log
    for product in products[1:]:
        add(shop_client, product)

    with django_assert_max_num_queries(queries):
        assert "Cart (21)" in html(shop_client.get("/cart/"))
    assert queries <= 8


def test_a_signed_in_customer_cart_page_stays_small(shop, shop_client,
                                                    django_assert_max_num_queries):
    with in_schema(shop):
        paul = registered()
        products = [goods(f"G{n:02d}") for n in range(20)]
    shop_client.post("/account/login/", {"username": paul.email, "password": PASSWORD})
    for product in products:
        add(shop_client, product)

    with django_assert_max_num_queries(9):  # host lookup (3), session, user, customer, cart, lines, kinds
        assert "Cart (20)" in html(shop_client.get("/cart/"))
