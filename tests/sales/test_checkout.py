"""Checkout through the shop's host: details, review, place, confirmation. A guest's order
is placed pending with its stock reserved; a double submit lands on the same order; refusals
(stock sold meanwhile, prices changed) send the customer back where they can fix it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from catalog.models import StockLevel
from catalog.services.products import product_update
from catalog.services.stock import stock_reserve
from sales.models import CartLine, Customer, CustomerState, Order, OrderStatus
from sales.services.customers import address_save
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import ADDRESS, goods, pickup, registered, standard_shipping

pytestmark = pytest.mark.django_db

GUEST = {"email": "ada@example.test", "first_name": "Ada", "last_name": "Lovelace",
         "phone": "0102030405", "billing_line1": "12 rue des Écoles",
         "billing_postal_code": "75005", "billing_city": "Paris", "billing_country": "FR",
         "payment_method": "bank_transfer", "shipping_choice": "same", "note": "Ring twice"}


def html(response) -> str:
    return response.content.decode()


def add(client: Client, product, quantity="1"):
    return client.post("/cart/add/", {"product": product.pk, "quantity": quantity})


def details(client: Client, shop, method=None, **extra):
    with in_schema(shop):
        method = method or standard_shipping()
    return client.post("/checkout/", {**GUEST, "shipping_method": method.pk, **extra})


def review(client: Client) -> tuple[str, str]:
    """The review page's one-time key and reviewed total."""
    page = html(client.get("/checkout/review/"))
    key = re.search(r'name="checkout_key" value="([^"]+)"', page).group(1)
    total = re.search(r'name="expected_gross_total" value="([^"]+)"', page).group(1)
    return key, total


def place(client: Client, key: str, total: str):
    return client.post("/checkout/place/", {"checkout_key": key, "expected_gross_total": total})


def stock(shop, product) -> tuple[Decimal, Decimal]:
    with in_schema(shop):
        level = StockLevel.objects.get(pk=product.pk)
        return level.on_hand, level.reserved


def orders(shop) -> list[Order]:
    with in_schema(shop):
        return list(Order.objects.select_related("customer").order_by("id"))


# ---------------------------------------------------------------------------------------------
# Guest checkout end to end
# ---------------------------------------------------------------------------------------------
def test_a_guest_checks_out_and_gets_one_pending_order_with_stock_reserved(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5", price="40.00")
    add(shop_client, bike, "2")

    form = shop_client.get("/checkout/")
    posted = details(shop_client, shop)
    key, total = review(shop_client)
    placed = place(shop_client, key, total)

    assert form.status_code == 200 and "Standard delivery" in html(form)
    assert posted.status_code == 302 and posted["Location"] == "/checkout/review/"
    assert total == "102.90"  # 96.00 of goods + 5.75 net shipping + 20 % VAT
    [order] = orders(shop)
    assert placed.status_code == 302
    assert placed["Location"] == f"/checkout/done/{order.number}/"
    assert order.status == OrderStatus.PENDING
    assert order.gross_total == Decimal("102.90")
    assert (order.email, order.customer.state) == ("ada@example.test", CustomerState.GUEST)
    assert order.billing_address["line1"] == "12 rue des Écoles"
    assert order.billing_address["full_name"] == "Ada Lovelace"
    assert order.shipping_address == order.billing_address
    assert order.customer_note == "Ring twice"
    assert stock(shop, bike) == (5, 2)
    with in_schema(shop):
        assert not CartLine.objects.exists()
    assert shop_client.session["cart_count"] == 0
    assert "checkout" not in shop_client.session


def test_the_confirmation_page_says_what_happens_next(shop, shop_client):
    shop.legal_name = "Alpha Vélos SAS"
    shop.save(update_fields=["legal_name"])
    with in_schema(shop):
        bike = goods("BIKE", price="100.00")
    add(shop_client, bike)
    details(shop_client, shop)
    done = shop_client.get(place(shop_client, *review(shop_client))["Location"])

    body = html(done)
    [order] = orders(shop)
    assert done.status_code == 200
    assert order.number in body
    assert "Alpha Vélos SAS" in body
    assert "bank details (IBAN) come with the order confirmation email" in body
    assert "Follow this order in your account" not in body, "a guest has no account page"
    assert "Cart (0)" in body


def test_the_review_shows_the_vat_per_rate_and_free_shipping_above_the_threshold(shop,
                                                                                 shop_client):
    with in_schema(shop):
        bike = goods("BIKE", price="100.00", rate="20.00")
        book = goods("BOOK", price="10.00", rate="5.50")
    add(shop_client, bike)
    add(shop_client, book)
    page = html(shop_client.get("/checkout/"))
    assert "free" in page  # 130.55 of goods: standard delivery is free from 100
    details(shop_client, shop)

    body = html(shop_client.get("/checkout/review/"))

    assert "VAT 20 % on 100.00 €" in body and "20.00&nbsp;€" in body
    assert "VAT 5.5 % on 10.00 €" in body and "0.55&nbsp;€" in body
    assert 'name="expected_gross_total" value="130.55"' in body


def test_pickup_needs_no_delivery_address(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)

    posted = details(shop_client, shop, method=pickup(), shipping_choice="new")
    place(shop_client, *review(shop_client))

    assert posted.status_code == 302
    [order] = orders(shop)
    assert order.shipping_address == {} and order.shipping_net == 0


def test_a_different_delivery_address_is_kept(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)

    details(shop_client, shop, shipping_choice="new", shipping_full_name="Pierre Curie",
            shipping_line1="1 quai Voltaire", shipping_postal_code="75007",
            shipping_city="Paris")
    place(shop_client, *review(shop_client))

    [order] = orders(shop)
    assert order.shipping_address["full_name"] == "Pierre Curie"
    assert order.billing_address["full_name"] == "Ada Lovelace"


def test_invalid_details_answer_422_next_to_the_fields_and_keep_the_input(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)

    response = details(shop_client, shop, email="not-an-email", billing_postal_code="750",
                       billing_city="")

    assert response.status_code == 422
    body = html(response)
    assert "There is a problem" in body
    assert 'value="not-an-email"' in body and 'value="750"' in body
    assert 'id="field-billing_city"' in body and "This field is required." in body
    assert orders(shop) == []


def test_a_bad_postal_code_is_refused_by_the_address_check(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)

    response = details(shop_client, shop, billing_postal_code="750")

    assert response.status_code == 422
    assert "A French postal code has 5 digits." in html(response)


def test_an_empty_cart_cannot_be_checked_out(shop, shop_client):
    for url in ("/checkout/", "/checkout/review/"):
        response = shop_client.get(url)
        assert response.status_code == 302 and response["Location"] == "/cart/"


# ---------------------------------------------------------------------------------------------
# Once, and only once
# ---------------------------------------------------------------------------------------------
def test_a_double_submit_lands_on_the_same_order(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")
    add(shop_client, bike, "2")
    details(shop_client, shop)
    key, total = review(shop_client)

    first = place(shop_client, key, total)
    second = place(shop_client, key, total)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert len(orders(shop)) == 1
    assert stock(shop, bike) == (5, 2)
    assert shop_client.get(second["Location"]).status_code == 200


def test_a_stale_form_is_refused_and_sends_back_to_the_review(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)
    details(shop_client, shop)
    old_key, total = review(shop_client)
    review(shop_client)  # reviewed again: a new key

    response = place(shop_client, old_key, total)

    assert response.status_code == 302 and response["Location"] == "/checkout/review/"
    assert orders(shop) == []


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------
def test_stock_sold_meanwhile_sends_back_to_the_cart_and_changes_nothing(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="2")
    add(shop_client, bike, "2")
    details(shop_client, shop)
    key, total = review(shop_client)
    with in_schema(shop):
        stock_reserve(lines=[(bike, Decimal("1"))], by=None, reference="OTHER")

    response = place(shop_client, key, total)

    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert orders(shop) == []
    assert stock(shop, bike) == (2, 1)
    cart = html(shop_client.get("/cart/"))
    assert "Only 1 available: lower the quantity." in cart
    assert '<div class="toast toast-error">' in cart, "the refusal is said"


def test_a_price_change_after_the_review_sends_back_to_the_review(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", price="100.00")
    add(shop_client, bike)
    details(shop_client, shop)
    key, total = review(shop_client)
    with in_schema(shop):
        product_update(product=bike, data={"net_price": Decimal("150.00")})

    response = place(shop_client, key, total)

    assert response.status_code == 302 and response["Location"] == "/checkout/review/"
    assert orders(shop) == []
    page = html(shop_client.get("/checkout/review/"))
    assert "Prices changed since you reviewed your order" in page
    assert 'name="expected_gross_total" value="180.00"' in page


# ---------------------------------------------------------------------------------------------
# Registered customers
# ---------------------------------------------------------------------------------------------
def test_a_customer_checks_out_with_a_saved_address_and_prefilled_contact(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        home = address_save(customer=paul, data={**ADDRESS, "full_name": "Paul Langevin"})
        bike = goods("BIKE")
    login(shop_client, shop, paul.user)
    add(shop_client, bike)

    page = html(shop_client.get("/checkout/"))
    assert 'value="paul@example.test"' in page and 'value="Langevin"' in page
    assert f'value="{home.pk}"' in page
    with in_schema(shop):
        method = standard_shipping()
    shop_client.post("/checkout/", {
        "email": "paul@example.test", "first_name": "Paul", "last_name": "Langevin",
        "billing_choice": str(home.pk), "shipping_choice": "same",
        "shipping_method": method.pk, "payment_method": "bank_transfer"})
    done = place(shop_client, *review(shop_client))

    [order] = orders(shop)
    assert order.customer_id == paul.pk
    assert order.billing_address["full_name"] == "Paul Langevin"
    follow = html(shop_client.get(done["Location"]))
    assert f'href="/account/orders/{order.number}/"' in follow


def test_someone_elses_address_id_is_not_a_choice(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        other = Customer.objects.create(email="x@example.test", last_name="X")
        theirs = address_save(customer=other, data={**ADDRESS, "line1": "9 rue Secrète"})
        bike = goods("BIKE")
    login(shop_client, shop, paul.user)
    add(shop_client, bike)

    response = details(shop_client, shop, billing_choice=str(theirs.pk))

    assert response.status_code == 422
    assert "Select a valid choice." in html(response)
    assert theirs.line1 not in html(response)
    assert orders(shop) == []


def test_a_confirmation_page_is_only_for_who_placed_the_order(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    add(shop_client, bike)
    details(shop_client, shop)
    done = place(shop_client, *review(shop_client))["Location"]

    stranger = Client(HTTP_HOST=host_of(shop))

    assert shop_client.get(done).status_code == 200
    assert stranger.get(done).status_code == 404
    assert stranger.get("/checkout/done/C-2020-00001/").status_code == 404


def test_the_confirmation_email_is_sent_after_the_commit(shop, shop_client,
                                                        django_capture_on_commit_callbacks):
    with in_schema(shop):
        bike = goods("BIKE", price="100.00")
    add(shop_client, bike)
    details(shop_client, shop)
    key, total = review(shop_client)

    with django_capture_on_commit_callbacks(execute=True):
        place(shop_client, key, total)

    [order] = orders(shop)
    [message] = mail.outbox
    assert message.to == ["ada@example.test"]
    assert message.subject == f"Your order {order.number} at {shop.name}"
    assert "Goods BIKE (BIKE) × 1: 120.00 EUR" in message.body
    assert "Total incl. VAT: 120.00 EUR" in message.body
    assert "with the reference " + order.number in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body
