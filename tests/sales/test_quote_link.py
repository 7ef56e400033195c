"""The customer's quote page reached by the emailed link: no sign-in, never indexed, no
referrer. Accepting through it places the order; a tampered, superseded or expired link shows
a clear page and changes nothing (state and stock); declining keeps the reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from catalog.models import StockLevel
from sales.links import quote_link_token
from sales.models import Order, Quote, QuoteStatus
from sales.services.quotes import (
    quote_create,
    quote_line_input,
    quote_revise,
    quote_send,
    quote_update,
)
from tests.conftest import in_schema
from tests.sales.factories import BASE_URL, customer, goods, staff

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def sent(*lines, discount="0", terms="Payable on delivery.", **extra) -> Quote:
    quote = quote_create(customer=customer(company_name="Curie SARL"), by=None,
                         data={"discount_percent": discount, "terms": terms,
                               "notes": "Delivered by van."},
                         lines=[quote_line_input(product=p, quantity=q) for p, q in lines])
    return quote_send(quote=quote, by=staff("sales"), base_url=BASE_URL)


def state(shop, quote: Quote, product) -> tuple[str, Decimal, int]:
    with in_schema(shop):
        return (Quote.objects.get(pk=quote.pk).status,
                StockLevel.objects.get(pk=product.pk).reserved, Order.objects.count())


def accept(client, token, name="Marie Curie", terms=True, **extra):
    data = {"name": name, **({"accept_terms": "on"} if terms else {})}
    return client.post(f"/q/{token}/accept/", data, **extra)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def test_the_quote_page_shows_the_offer_without_sign_in_and_is_never_indexed(shop, shop_client):
    shop.legal_name, shop.siren = "Alpha Vélos SAS", "123456789"
    shop.save(update_fields=["legal_name", "siren"])
    with in_schema(shop):
        bike = goods("BIKE", price="100.00")
        book = goods("BOOK", price="10.00", rate="5.50")
        quote = sent((bike, "2"), (book, "1"), discount="10")
        token = quote_link_token(quote)

    response = shop_client.get(f"/q/{token}/")

    assert response.status_code == 200
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    body = html(response)
    for text in ("Alpha Vélos SAS", "SIREN 123456789", "Curie SARL", quote.reference,
                 "Goods BIKE", "200.00&nbsp;€", "Discount 10 %", "−21.00&nbsp;€",
                 "VAT 20 % on 180.00 €", "VAT 5.5 % on 9.00 €", "225.50&nbsp;€",
                 "Payable on delivery.", "Delivered by van.", "Accept and sign",
                 "Decline this quote"):
        assert text in body, text


# ---------------------------------------------------------------------------------------------
# Accepting
# ---------------------------------------------------------------------------------------------
def test_accepting_through_the_link_places_the_order(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")
        quote = sent((bike, "2"))
        token = quote_link_token(quote)

    response = accept(shop_client, token, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 302 and response["Location"] == f"/q/{token}/thanks/"
    with in_schema(shop):
        quote.refresh_from_db()
        order = Order.objects.get(quote=quote)
    assert quote.status == QuoteStatus.CONVERTED
    assert (quote.accepted_name, quote.accepted_ip) == ("Marie Curie", "198.51.100.7")
    assert state(shop, quote, bike)[1:] == (Decimal("2"), 1)
    thanks = shop_client.get(response["Location"])
    assert thanks["X-Robots-Tag"].startswith("noindex")
    assert order.number in html(thanks)
    final = html(shop_client.get(f"/q/{token}/"))
    assert "Accepted on" in final and "by Marie Curie" in final and order.number in final
    assert "Accept and sign" not in final and "Decline this quote" not in final


def test_behind_the_tls_proxy_the_customers_address_is_recorded(shop, shop_client, settings):
    """REMOTE_ADDR is the proxy's there; what the customer wrote into X-Forwarded-For is not
    trusted, only what the one proxy saw."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with in_schema(shop):
        quote = sent((goods("LAMP", stock="3"), "1"))
        token = quote_link_token(quote)

    accept(shop_client, token, REMOTE_ADDR="10.0.0.2",
           HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.8")

    with in_schema(shop):
        quote.refresh_from_db()
    assert quote.accepted_ip == "198.51.100.8"


def test_accepting_twice_places_one_order(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)

    accept(shop_client, token)
    again = accept(shop_client, token)

    assert again.status_code == 302 and again["Location"] == f"/q/{token}/"
    assert state(shop, quote, bike) == (QuoteStatus.CONVERTED, Decimal("1"), 1)


def test_an_accepted_quote_without_stock_waits_for_the_shop(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="1")
        quote = sent((bike, "3"))
        token = quote_link_token(quote)

    response = accept(shop_client, token)
    thanks = html(shop_client.get(response["Location"]))

    assert state(shop, quote, bike) == (QuoteStatus.ACCEPTED, Decimal("0"), 0)
    assert "We check availability and confirm your order" in thanks
    assert "We confirm your order shortly." in html(shop_client.get(f"/q/{token}/"))


def test_accepting_needs_a_name_and_the_terms(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)

    no_terms = accept(shop_client, token, terms=False)
    no_name = accept(shop_client, token, name=" ")

    assert no_terms.status_code == no_name.status_code == 422
    assert "Tick the box to accept the terms." in html(no_terms)
    assert 'value="Marie Curie"' in html(no_terms), "the typed name is kept"
    assert "This field is required." in html(no_name)
    assert state(shop, quote, bike) == (QuoteStatus.SENT, Decimal("0"), 0)


# ---------------------------------------------------------------------------------------------
# Declining
# ---------------------------------------------------------------------------------------------
def test_declining_keeps_the_reason_and_closes_the_forms(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)

    empty = shop_client.post(f"/q/{token}/decline/", {"reason": "  "})
    response = shop_client.post(f"/q/{token}/decline/", {"reason": "Found it cheaper"})

    assert empty.status_code == 422 and "Tell us why" in html(empty)
    assert response.status_code == 302
    with in_schema(shop):
        quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Found it cheaper")
    page = html(shop_client.get(f"/q/{token}/"))
    assert "Declined on" in page and "Found it cheaper" in page
    assert "Accept and sign" not in page
    assert accept(shop_client, token).status_code == 302
    assert state(shop, quote, bike) == (QuoteStatus.DECLINED, Decimal("0"), 0)


# ---------------------------------------------------------------------------------------------
# Links that no longer work
# ---------------------------------------------------------------------------------------------
def test_a_tampered_link_is_not_valid_and_changes_nothing(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for url in (f"/q/{tampered}/", "/q/nonsense/"):
        response = shop_client.get(url)
        assert response.status_code == 404
        assert "This link is not valid" in html(response)
        assert response["X-Robots-Tag"].startswith("noindex")
    posted = accept(shop_client, tampered)
    declined = shop_client.post(f"/q/{tampered}/decline/", {"reason": "x"})

    assert posted.status_code == declined.status_code == 404
    assert state(shop, quote, bike) == (QuoteStatus.SENT, Decimal("0"), 0)


def test_a_superseded_link_says_a_newer_version_exists_and_changes_nothing(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")
        quote = sent((bike, "1"))
        old_token = quote_link_token(quote)
        revision = quote_revise(quote=quote, by=staff("sales"))
        quote_update(quote=revision, by=None, data={"discount_percent": "5"})

    page = shop_client.get(f"/q/{old_token}/")
    posted = accept(shop_client, old_token)

    assert page.status_code == posted.status_code == 410
    assert "replaced by a newer version" in html(page)
    assert state(shop, quote, bike) == (QuoteStatus.SUPERSEDED, Decimal("0"), 0)
    with in_schema(shop):
        assert Quote.objects.get(pk=revision.pk).status == QuoteStatus.DRAFT


def test_an_expired_link_says_when_and_changes_nothing(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE", stock="5")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)
        day = timezone.localdate() - timedelta(days=2)
        Quote.objects.filter(pk=quote.pk).update(valid_until=day)

    page = shop_client.get(f"/q/{token}/")
    posted = accept(shop_client, token)
    declined = shop_client.post(f"/q/{token}/decline/", {"reason": "late"})

    assert page.status_code == posted.status_code == declined.status_code == 410
    assert "This quote has expired" in html(page)
    assert f"expired on {date_format(day, 'DATE_FORMAT')}" in html(page)
    assert state(shop, quote, bike) == (QuoteStatus.SENT, Decimal("0"), 0)


def test_a_cancelled_quote_link_is_closed(shop, shop_client):
    with in_schema(shop):
        bike = goods("BIKE")
        quote = sent((bike, "1"))
        token = quote_link_token(quote)
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.CANCELLED)

    page = shop_client.get(f"/q/{token}/")

    assert page.status_code == 410
    assert "This quote is no longer available" in html(page)


# ---------------------------------------------------------------------------------------------
# Emails
# ---------------------------------------------------------------------------------------------
def test_the_quote_emails_are_plain_text(shop):
    with in_schema(shop):
        quote = sent((goods("BIKE"), "1"))
        quote.accepted_name = "Marie d'Arc"
        context = {"quote": quote, "link": "http://x/q/t/", "shop_name": "Alpha & Co",
                   "kind": "accepted"}
        body = render_to_string("sales/email/quote_link.txt", context)
        subject = render_to_string("sales/email/quote_link_subject.txt", context)
        notice = render_to_string("sales/email/staff_quote_notice.txt", context)
        notice_subject = render_to_string("sales/email/staff_quote_notice_subject.txt", context)

    assert f"Alpha & Co has prepared quote {quote.reference} for you." in body
    assert "http://x/q/t/" in body and "Valid until" in body
    assert subject.strip() == f"Your quote {quote.reference} from Alpha & Co"
    assert "signed by Marie d'Arc" in notice and "http://x/q/t/" in notice
    assert notice_subject.strip().startswith(f"Quote {quote.reference} accepted by")
