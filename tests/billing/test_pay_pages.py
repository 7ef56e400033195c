"""Card payments on the storefront: the checkout offers "Card" only when the shop accepts
cards, a card order goes on to Stripe Checkout, the customer comes back to a page that waits
for the webhook (never paying anything itself), and only the payment's own visitor sees it.

Stripe is the local Stripe server (tests/support/stripe_server.py): the customer pays on its
hosted page, and the events it sent are applied in the shop as the webhook endpoint applies
them (`webhook_apply`), when the test says so.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import InvoiceStatus, Payment, PaymentStatus
from billing.services.invoices import invoice_create_for_order, invoice_issue
from billing.services.webhooks import webhook_apply
from sales.models import Order, OrderStatus
from sales.services.orders import order_cancel
from streams.selectors import events_of
from tenants.models import Shop
from tests.conftest import host_of, login
from tests.sales.factories import goods, place_order, registered, standard_shipping
from tests.support.stripe_server import LocalStripe

pytestmark = pytest.mark.django_db
ACCOUNT = "acct_1AlphaTestShop"
FAILING_IBAN = "DE62370400440532013001"
GUEST = {"email": "ada@example.test", "first_name": "Ada", "last_name": "Lovelace",
         "billing_line1": "12 rue des Écoles", "billing_postal_code": "75005",
         "billing_city": "Paris", "billing_country": "FR", "shipping_choice": "same"}


@pytest.fixture
def cards(in_shop, stripe_settings) -> LocalStripe:
    """The shop accepts cards: the platform talks to the local Stripe server and the shop's
    connected account may take charges."""
    Shop.objects.filter(pk=in_shop.pk).update(stripe_account_id=ACCOUNT,
                                              stripe_charges_enabled=True)
    in_shop.stripe_account_id, in_shop.stripe_charges_enabled = ACCOUNT, True
    yield stripe_settings
    in_shop.stripe_account_id, in_shop.stripe_charges_enabled = None, False


def deliver(stripe: LocalStripe) -> list[str]:
    """Apply in the shop every event the Stripe server sent, as the webhook endpoint does
    (an event already applied is found and does nothing)."""
    return [webhook_apply(event=event) for event in stripe.events()]


def paid(stripe: LocalStripe, payment: Payment) -> str:
    """The customer pays on Stripe's page, then the webhook arrives."""
    assert stripe.pay(payment.checkout_session_id).paid
    return deliver(stripe)[-1]


def html(response) -> str:
    return response.content.decode()


def checkout_card_order(client: Client, *, sku: str = "BIKE",
                        price: str = "40.00") -> tuple[Order, object]:
    """A guest puts a product in the cart, chooses Card and places the order."""
    bike = goods(sku, stock="5", price=price)
    client.post("/cart/add/", {"product": bike.pk, "quantity": "1"})
    client.post("/checkout/", {**GUEST, "shipping_method": standard_shipping().pk,
                               "payment_method": "card"})
    review = html(client.get("/checkout/review/"))
    key = re.search(r'name="checkout_key" value="([^"]+)"', review).group(1)
    total = re.search(r'name="expected_gross_total" value="([^"]+)"', review).group(1)
    placed = client.post("/checkout/place/", {"checkout_key": key,
                                              "expected_gross_total": total})
    return Order.objects.get(checkout_key=key), placed


@pytest.fixture
def client(shop) -> Client:
    return Client(HTTP_HOST=host_of(shop))


# --- checkout ------------------------------------------------------------------------------------

def test_without_cards_the_checkout_offers_bank_transfer_and_says_why_not_card(in_shop, client):
    client.post("/cart/add/", {"product": goods("BIKE").pk, "quantity": "1"})

    page = html(client.get("/checkout/"))

    assert 'value="bank_transfer"' in page and 'value="card"' not in page
    assert "Card payments: the shop has not connected Stripe yet." in page


def test_with_cards_the_checkout_offers_card_first(cards, client):
    client.post("/cart/add/", {"product": goods("BIKE").pk, "quantity": "1"})

    page = html(client.get("/checkout/"))

    assert page.index('value="card"') < page.index('value="bank_transfer"')
    assert re.search(r'value="card"[^>]*checked', page)
    assert "has not connected Stripe" not in page


def test_card_is_refused_at_checkout_when_the_shop_does_not_accept_cards(in_shop, client):
    client.post("/cart/add/", {"product": goods("BIKE").pk, "quantity": "1"})

    response = client.post("/checkout/", {**GUEST, "shipping_method": standard_shipping().pk,
                                          "payment_method": "card"})

    assert response.status_code == 422
    assert "checkout" not in client.session


def test_a_card_order_goes_from_checkout_to_its_stripe_page(cards, client, shop):
    order, placed = checkout_card_order(client)

    assert placed.status_code == 302 and placed["Location"] == f"/pay/order/{order.number}/"
    assert order.status == OrderStatus.PENDING and order.payment_method == "card"
    to_stripe = client.get(placed["Location"])

    [payment] = Payment.objects.filter(order=order)
    assert to_stripe.status_code == 303
    assert to_stripe["Location"] == payment.checkout_url
    assert payment.checkout_url.startswith(cards.api_base + "/pay/cs_")
    assert (payment.status, payment.amount) == (PaymentStatus.PENDING, order.gross_total)
    session = cards.session(payment.checkout_session_id)
    base = f"http://{host_of(shop)}"
    assert session["stripe_account"] == ACCOUNT
    assert session["amount_total"] == int(order.gross_total * 100)
    assert session["success_url"] == f"{base}/pay/return/{payment.pk}/"
    assert session["cancel_url"] == f"{base}/pay/cancelled/{payment.pk}/"


def test_asking_to_pay_again_goes_back_to_the_same_stripe_page(cards, client):
    order, _placed = checkout_card_order(client)

    first = client.get(f"/pay/order/{order.number}/")
    again = client.post(f"/pay/order/{order.number}/")

    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert Payment.objects.filter(order=order).count() == 1


# --- the return page ----------------------------------------------------------------------------

def test_the_return_page_waits_for_the_webhook_then_says_paid(cards, client, shop):
    order, _placed = checkout_card_order(client)
    client.get(f"/pay/order/{order.number}/")
    payment = Payment.objects.get(order=order)
    url = f"/pay/return/{payment.pk}/"

    back = cards.pay(payment.checkout_session_id)  # Stripe sends the customer back at once

    assert back.paid and back.redirect_url == f"http://{host_of(shop)}{url}"
    waiting = client.get(url)
    polled = client.get(url, HTTP_HX_REQUEST="true")

    assert waiting.status_code == 200 and "Processing your payment…" in html(waiting)
    assert 'hx-trigger="every 2s"' in html(waiting)
    assert '<meta http-equiv="refresh" content="2">' in html(waiting)
    assert html(polled).lstrip().startswith('<div id="payment-status"')
    assert "<html" not in html(polled)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING, "coming back never pays anything"
    assert order.status == OrderStatus.PENDING

    assert deliver(cards) == ["order paid"]
    done = client.get(url, HTTP_HX_REQUEST="true")

    body = html(done)
    assert "Paid — thank you" in body and order.number in body
    assert "hx-trigger" not in body, "polling stops once the payment is known"
    assert f'href="/checkout/done/{order.number}/"' in body
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.invoices.get().status == InvoiceStatus.PAID
    assert "http-equiv" not in html(client.get(url))


def test_a_registered_customer_is_sent_to_the_order_and_invoice_in_their_account(cards, client,
                                                                                 shop):
    paul = registered()
    login(client, shop, paul.user)
    order, placed = checkout_card_order(client)
    client.get(placed["Location"])
    payment = Payment.objects.get(order=order)
    paid(cards, payment)

    body = html(client.get(f"/pay/return/{payment.pk}/"))

    invoice = order.invoices.get()
    assert "Paid — thank you" in body
    assert f'href="/account/invoices/{invoice.pk}/"' in body
    assert f'href="/account/orders/{order.number}/"' in body


def test_a_failed_payment_says_so_and_offers_to_try_again_or_transfer(cards, client):
    order, _placed = checkout_card_order(client)
    client.get(f"/pay/order/{order.number}/")
    payment = Payment.objects.get(order=order)
    assert cards.pay(payment.checkout_session_id, iban=FAILING_IBAN).paid  # a delayed debit
    cards.settle(payment.checkout_session_id, "failed")
    deliver(cards)

    body = html(client.get(f"/pay/return/{payment.pk}/"))

    assert "The payment did not go through" in body
    assert "The bank refused the debit (insufficient funds)." in body, "Stripe's reason"
    assert f'href="/pay/order/{order.number}/"' in body
    assert f'action="/pay/order/{order.number}/transfer/"' in body
    assert "hx-trigger" not in body
    again = client.get(f"/pay/order/{order.number}/")
    assert again.status_code == 303 and again["Location"] != payment.checkout_url, \
        "a failed attempt is not reused"


def test_a_payment_still_pending_after_half_an_hour_stops_polling(cards, client):
    order, _placed = checkout_card_order(client)
    client.get(f"/pay/order/{order.number}/")
    payment = Payment.objects.get(order=order)
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at.replace(
        year=payment.created_at.year - 1))

    body = html(client.get(f"/pay/return/{payment.pk}/"))

    assert "taking longer than usual" in body
    assert "hx-trigger" not in body and "http-equiv" not in body
    assert "Check again" in body


# --- coming back without paying -------------------------------------------------------------------

def test_coming_back_without_paying_offers_to_try_again_or_to_pay_by_transfer(cards, client):
    order, _placed = checkout_card_order(client)
    client.get(f"/pay/order/{order.number}/")
    payment = Payment.objects.get(order=order)

    page = client.get(f"/pay/cancelled/{payment.pk}/")

    body = html(page)
    assert page.status_code == 200 and "You have not paid" in body
    assert f'href="/pay/order/{order.number}/"' in body
    assert "48 hours" in body
    switched = client.post(f"/pay/order/{order.number}/transfer/")
    assert switched.status_code == 302
    assert switched["Location"] == f"/checkout/done/{order.number}/"
    order.refresh_from_db()
    assert order.payment_method == "bank_transfer" and order.status == OrderStatus.PENDING
    assert events_of(order).filter(verb="payment_method", actor_kind="customer").exists()
    confirmation = html(client.get(switched["Location"]))
    assert "by bank transfer" in confirmation and "Pay by card" not in confirmation


def test_the_cancelled_page_of_a_payment_that_went_through_shows_it_paid(cards, client):
    order, _placed = checkout_card_order(client)
    client.get(f"/pay/order/{order.number}/")
    payment = Payment.objects.get(order=order)
    paid(cards, payment)

    response = client.get(f"/pay/cancelled/{payment.pk}/")

    assert response.status_code == 302 and response["Location"] == f"/pay/return/{payment.pk}/"


# --- refusals ---------------------------------------------------------------------------------------

def test_when_cards_are_off_the_payment_page_says_so_and_offers_a_transfer(cards, client,
                                                                           settings):
    order, placed = checkout_card_order(client)
    settings.STRIPE_SECRET_KEY = ""

    response = client.get(placed["Location"])

    body = html(response)
    assert response.status_code == 409
    assert "the shop has not connected Stripe yet" in body
    assert f'action="/pay/order/{order.number}/transfer/"' in body
    assert not Payment.objects.exists()


def test_a_paid_or_cancelled_order_is_not_paid_again(cards, client):
    order, placed = checkout_card_order(client)
    client.get(placed["Location"])
    paid(cards, Payment.objects.get(order=order))

    again = client.get(placed["Location"])

    assert again.status_code == 409
    assert "is not waiting for a payment" in html(again)
    other, placed = checkout_card_order(client, sku="HELMET", price="10.00")
    order_cancel(order=other, by=None, reason="Out of stock")
    assert client.get(placed["Location"]).status_code == 409
    assert Payment.objects.count() == 1


# --- who sees what ------------------------------------------------------------------------------------

def test_another_visitor_cannot_open_someone_elses_payment_pages(cards, client, shop):
    order, placed = checkout_card_order(client)
    client.get(placed["Location"])
    payment = Payment.objects.get(order=order)
    stranger = Client(HTTP_HOST=host_of(shop))
    someone = login(Client(HTTP_HOST=host_of(shop)), shop, registered("eve@example.test").user)

    for visitor in (stranger, someone):
        for url in (f"/pay/order/{order.number}/", f"/pay/return/{payment.pk}/",
                    f"/pay/cancelled/{payment.pk}/", f"/pay/return/{payment.pk + 1}/"):
            assert visitor.get(url).status_code == 404, url
        assert visitor.post(f"/pay/order/{order.number}/transfer/").status_code == 404
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.payment_method == "card"


# --- invoices ------------------------------------------------------------------------------------------

def test_a_customer_pays_what_is_left_on_an_invoice_by_card(cards, client, shop):
    paul = registered()
    order = place_order((goods("BIKE", price="100.00"), 1), customer=paul, email=paul.email)
    invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None,
                                                             percent=Decimal("30")), by=None)
    login(client, shop, paul.user)

    to_stripe = client.post(f"/pay/invoice/{invoice.pk}/")

    payment = Payment.objects.get(invoice=invoice)
    assert to_stripe.status_code == 303 and to_stripe["Location"] == payment.checkout_url
    assert payment.amount == invoice.gross_total == Decimal("36.00")
    assert cards.session(payment.checkout_session_id)["amount_total"] == 3600
    assert paid(cards, payment) == "invoice paid"
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert order.status == OrderStatus.PENDING, "a deposit does not confirm the order"
    body = html(client.get(f"/pay/return/{payment.pk}/"))
    assert "Paid — thank you" in body and invoice.number in body
    assert f'href="/account/invoices/{invoice.pk}/"' in body
    again = client.get(f"/pay/invoice/{invoice.pk}/")
    assert again.status_code == 409 and "has nothing left to pay" in html(again)


def test_an_invoice_is_paid_only_by_its_own_customer(cards, client, shop):
    paul = registered()
    order = place_order((goods("BIKE"), 1), customer=paul, email=paul.email)
    invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None), by=None)
    eve = registered("eve@example.test")

    anonymous = client.get(f"/pay/invoice/{invoice.pk}/")
    login(client, shop, eve.user)

    assert anonymous.status_code == 302 and "/account/login/" in anonymous["Location"]
    assert client.get(f"/pay/invoice/{invoice.pk}/").status_code == 404
    assert client.get(f"/pay/invoice/{invoice.pk + 1}/").status_code == 404
    assert not Payment.objects.exists()
