"""Customer accounts on the storefront: sign-up, sign-in (the visitor's cart joins the
customer's, and what changed is said), sign-out, password reset; a customer's own orders,
quotes and addresses, and never another customer's, whatever number or id is typed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import StockLevel
from sales.models import Address, CartLine, Customer, CustomerState, Quote, QuoteStatus
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.customers import address_save
from sales.services.quotes import quote_create, quote_line_input, quote_send
from tests.conftest import PASSWORD, host_of, in_schema, login, owner_of
from tests.sales.factories import (
    ADDRESS,
    BASE_URL,
    customer,
    goods,
    place_order,
    registered,
    staff,
)

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post("/account/login/", {"username": email, "password": password, **extra})


def sent_quote(who: Customer, product, quantity="1") -> Quote:
    quote = quote_create(customer=who, by=None,
                         lines=[quote_line_input(product=product, quantity=quantity)])
    return quote_send(quote=quote, by=staff("sales"), base_url=BASE_URL)


# ---------------------------------------------------------------------------------------------
# Sign-up, sign-in, sign-out
# ---------------------------------------------------------------------------------------------
def test_signing_up_creates_a_registered_customer_signed_in_with_their_cart(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
    shop_client.post("/cart/add/", {"product": bike.pk, "quantity": "2"})

    response = shop_client.post("/account/signup/", {
        "email": "Marie@Example.test", "first_name": "Marie", "last_name": "Curie",
        "password1": PASSWORD, "password2": PASSWORD, "next": "/cart/"})

    assert response.status_code == 302 and response["Location"] == "/cart/"
    with in_schema(shop):
        marie = Customer.objects.get(email="marie@example.test")
        assert marie.state == CustomerState.REGISTERED and not marie.user.is_staff
        assert CartLine.objects.get(cart__customer=marie).quantity == 2
    page = html(shop_client.get("/cart/"))
    assert "Cart (1)" in page and 'href="/account/"' in page and "Sign in" not in page


def test_signing_up_twice_with_one_email_is_refused_next_to_the_field(shop, shop_client):
    with in_schema(shop):
        registered("paul@example.test")

    response = shop_client.post("/account/signup/", {
        "email": "paul@example.test", "first_name": "P", "last_name": "L",
        "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 422
    assert "An account with this email already exists" in html(response)
    assert 'value="paul@example.test"' in html(response)


def test_a_weak_password_is_refused(shop, shop_client):
    response = shop_client.post("/account/signup/", {
        "email": "x@example.test", "first_name": "X", "last_name": "Y",
        "password1": "123", "password2": "123"})

    assert response.status_code == 422
    with in_schema(shop):
        assert not Customer.objects.exists()


def test_signing_in_merges_the_carts_caps_quantities_and_says_so(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        bike, helmet = goods("BIKE", stock="3"), goods("HELMET", stock="10")
        saved = cart_get_or_create(session={}, customer=paul)
        cart_add(cart=saved, product=bike, quantity=2)
    shop_client.post("/cart/add/", {"product": bike.pk, "quantity": "2"})
    shop_client.post("/cart/add/", {"product": helmet.pk, "quantity": "1"})

    response = sign_in(shop_client, paul.email, next="/cart/")

    assert response.status_code == 302 and response["Location"] == "/cart/"
    with in_schema(shop):
        merged = dict(CartLine.objects.filter(cart__customer=paul)
                      .values_list("product__sku", "quantity"))
        assert merged == {"BIKE": Decimal("3"), "HELMET": Decimal("1")}
        assert CartLine.objects.count() == 2, "the visitor's cart is gone"
    page = html(shop_client.get("/cart/"))
    assert "Goods BIKE: 4 wanted, only 3 available, so your cart has 3." in page
    assert "Cart (2)" in page


def test_signing_in_without_a_visitor_cart_shows_the_saved_one(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        cart_add(cart=cart_get_or_create(session={}, customer=paul), product=goods("BIKE"),
                 quantity=1)

    sign_in(shop_client, paul.email)

    assert "Cart (1)" in html(shop_client.get("/account/"))


def test_wrong_password_and_staff_are_refused_on_the_customers_sign_in(shop, shop_client):
    with in_schema(shop):
        paul = registered()
    staff_email = owner_of(shop).email

    wrong = sign_in(shop_client, paul.email, "nope-nope-nope")
    staff = sign_in(shop_client, staff_email)

    assert wrong.status_code == 200 and "Wrong email or password." in html(wrong)
    assert "staff sign in on the staff page" in html(staff)
    assert "_auth_user_id" not in shop_client.session


def test_signing_out_forgets_the_customer(shop, shop_client):
    with in_schema(shop):
        paul = registered()
    sign_in(shop_client, paul.email)

    response = shop_client.post("/account/logout/")

    assert response.status_code == 302 and response["Location"] == "/"
    assert shop_client.get("/account/").status_code == 302


def test_account_pages_ask_visitors_to_sign_in_and_refuse_staff(shop, shop_client):
    anonymous = shop_client.get("/account/orders/")
    staff = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))

    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/account/login/?next=/account/orders/"
    assert staff.get("/account/").status_code == 403


def test_a_customer_resets_their_password_from_the_storefront(shop, shop_client):
    with in_schema(shop):
        paul = registered()

    page = html(shop_client.get("/account/login/"))
    response = shop_client.post("/account/password/reset/", {"email": paul.email})

    assert 'href="/account/password/reset/"' in page and "Forgot your password?" in page
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    [message] = mail.outbox
    assert "/account/password/reset/" in message.body and shop.name in message.body


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
def test_a_customer_sees_their_orders_and_only_theirs(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        marie = registered("marie@example.test")
        bike = goods("BIKE")
        mine = place_order((bike, 1), customer=paul)
        theirs = place_order((bike, 1), customer=marie)
        guest = place_order((bike, 1))
    sign_in(shop_client, paul.email)

    listing = html(shop_client.get("/account/orders/"))
    detail = shop_client.get(f"/account/orders/{mine.number}/")

    assert mine.number in listing
    assert theirs.number not in listing and guest.number not in listing
    assert detail.status_code == 200 and "Goods BIKE" in html(detail)
    for number in (theirs.number, guest.number, "C-1999-00001", "../admin"):
        assert shop_client.get(f"/account/orders/{number}/").status_code == 404


def test_the_order_page_explains_how_to_pay_a_pending_bank_transfer(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        order = place_order((goods("BIKE", price="100.00"), 1), customer=paul)
    sign_in(shop_client, paul.email)

    body = html(shop_client.get(f"/account/orders/{order.number}/"))

    assert "How to pay" in body and order.number in body
    assert "Pay <strong>120.00 €</strong>" in body  # shipping is free from 100 € of goods
    assert 'class="badge badge-pending">Pending<' in body


# ---------------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------------
def test_a_customer_accepts_a_quote_from_their_account(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        bike = goods("BIKE", stock="5")
        quote = sent_quote(paul, bike, "2")
    sign_in(shop_client, paul.email)

    page = html(shop_client.get(f"/account/quotes/{quote.pk}/"))
    response = shop_client.post(f"/account/quotes/{quote.pk}/accept/",
                                {"name": "Paul Langevin", "accept_terms": "on"},
                                REMOTE_ADDR="203.0.113.9")

    assert "Accept and sign" in page
    assert response.status_code == 302
    with in_schema(shop):
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.CONVERTED
        assert (quote.accepted_name, quote.accepted_ip) == ("Paul Langevin", "203.0.113.9")
        number = quote.order.number
    after = html(shop_client.get(response["Location"]))
    assert f"your order {number} is placed" in after
    assert "Accept and sign" not in after


def test_a_customer_declines_a_quote_with_a_reason(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        quote = sent_quote(paul, goods("BIKE"))
    sign_in(shop_client, paul.email)

    empty = shop_client.post(f"/account/quotes/{quote.pk}/decline/", {"reason": ""})
    response = shop_client.post(f"/account/quotes/{quote.pk}/decline/",
                                {"reason": "Too expensive"})

    assert empty.status_code == 422
    assert response.status_code == 302
    with in_schema(shop):
        quote.refresh_from_db()
        assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Too expensive")


def test_a_customer_cannot_open_or_answer_another_customers_quote(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        marie = customer("marie@example.test")
        bike = goods("BIKE")
        theirs = sent_quote(marie, bike)
        draft = quote_create(customer=paul, by=None,
                             lines=[quote_line_input(product=bike, quantity="1")])
    sign_in(shop_client, paul.email)

    assert theirs.reference not in html(shop_client.get("/account/quotes/"))
    assert shop_client.get(f"/account/quotes/{theirs.pk}/").status_code == 404
    assert shop_client.get(f"/account/quotes/{draft.pk}/").status_code == 404, "not sent yet"
    accept = shop_client.post(f"/account/quotes/{theirs.pk}/accept/",
                              {"name": "Paul Langevin", "accept_terms": "on"})
    decline = shop_client.post(f"/account/quotes/{theirs.pk}/decline/", {"reason": "No"})
    assert accept.status_code == decline.status_code == 404
    with in_schema(shop):
        assert Quote.objects.get(pk=theirs.pk).status == QuoteStatus.SENT


def test_an_expired_quote_can_no_longer_be_accepted_from_the_account(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        bike = goods("BIKE", stock="3")
        quote = sent_quote(paul, bike)
        Quote.objects.filter(pk=quote.pk).update(
            valid_until=timezone.localdate() - timedelta(days=1))
    sign_in(shop_client, paul.email)

    page = html(shop_client.get(f"/account/quotes/{quote.pk}/"))
    response = shop_client.post(f"/account/quotes/{quote.pk}/accept/",
                                {"name": "Paul Langevin", "accept_terms": "on"}, follow=True)

    assert "This quote expired on" in page and "Accept and sign" not in page
    assert "expired on" in html(response)
    with in_schema(shop):
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
        assert StockLevel.objects.get(pk=bike.pk).reserved == 0


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
def test_a_customer_adds_edits_sets_defaults_and_deletes_addresses(shop, shop_client):
    with in_schema(shop):
        paul = registered()
    sign_in(shop_client, paul.email)

    added = shop_client.post("/account/addresses/new/", {**ADDRESS, "full_name": "Paul"})
    with in_schema(shop):
        home = Address.objects.get(customer=paul)
    assert added.status_code == 302
    assert home.is_default_billing and home.is_default_shipping, "the first is the default"
    shop_client.post("/account/addresses/new/", {
        **ADDRESS, "full_name": "Paul (work)", "line1": "1 place du Panthéon",
        "default_shipping": "on"})
    with in_schema(shop):
        work = Address.objects.get(customer=paul, full_name="Paul (work)")
        assert work.is_default_shipping and not Address.objects.get(pk=home.pk).is_default_shipping
    edited = shop_client.post(f"/account/addresses/{home.pk}/", {**ADDRESS, "full_name": "P. L.",
                                                                 "city": "Lyon",
                                                                 "postal_code": "69001"})
    invalid = shop_client.post(f"/account/addresses/{home.pk}/", {**ADDRESS, "postal_code": "1"})
    deleted = shop_client.post(f"/account/addresses/{work.pk}/delete/")

    assert edited.status_code == 302 and deleted.status_code == 302
    assert invalid.status_code == 422 and "A French postal code has 5 digits." in html(invalid)
    with in_schema(shop):
        [left] = Address.objects.filter(customer=paul)
        assert (left.city, left.is_default_shipping) == ("Lyon", True)
    assert "Lyon" in html(shop_client.get("/account/addresses/"))


def test_a_customer_cannot_touch_another_customers_address(shop, shop_client):
    with in_schema(shop):
        paul = registered()
        marie = customer("marie@example.test")
        theirs = address_save(customer=marie, data=dict(ADDRESS))
    sign_in(shop_client, paul.email)

    assert shop_client.get(f"/account/addresses/{theirs.pk}/").status_code == 404
    assert shop_client.post(f"/account/addresses/{theirs.pk}/",
                            {**ADDRESS, "city": "Nice"}).status_code == 404
    assert shop_client.post(f"/account/addresses/{theirs.pk}/delete/").status_code == 404
    with in_schema(shop):
        assert Address.objects.get(pk=theirs.pk).city == "Paris"
