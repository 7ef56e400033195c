"""Quotes through their services: built with catalog and free lines, sent, accepted online
(into an order with stock reserved), declined, expired, revised, cancelled; links that are
tampered with, superseded or expired change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.utils import timezone

from catalog.models import LotAvailability, RealEstateLot, StockLevel, TaxRate
from catalog.services.stock import stock_receive
from sales.errors import IllegalTransition, QuoteLinkInvalid, SalesError, TransitionForbidden
from sales.links import quote_from_link, quote_link_token
from sales.models import Order, OrderStatus, Quote, QuoteStatus
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.quotes import (
    quote_accept,
    quote_cancel,
    quote_check_link,
    quote_convert,
    quote_create,
    quote_decline,
    quote_line_add,
    quote_line_input,
    quote_line_remove,
    quote_line_update,
    quote_request_from_cart,
    quote_revise,
    quote_send,
    quote_update,
    quotes_expire,
)
from streams.selectors import events_of
from tests.sales.factories import BASE_URL, customer, goods, lot, registered, staff

pytestmark = pytest.mark.usefixtures("in_shop")
TODAY = timezone.localdate


def draft(*, product=None, quantity="2", seller=None, **data):
    seller = seller or staff("sales")
    product = product or goods("BIKE", stock="10")
    data.setdefault("valid_until", TODAY() + timedelta(days=30))
    return quote_create(customer=customer(), by=seller, data=data,
                        lines=[quote_line_input(product=product, quantity=quantity)])


def sent(**kwargs):
    quote = draft(**kwargs)
    return quote_send(quote=quote, by=staff("sales"), base_url=BASE_URL)


def test_lines_discounts_and_totals_are_exact_decimals():
    seller = staff("sales")
    bike = goods("BIKE", price="100.00")
    quote = quote_create(customer=customer(), by=seller, data={"discount_percent": "10"},
                         lines=[quote_line_input(product=bike, quantity="3",
                                                 discount_percent="5")])
    reduced = TaxRate.objects.get(rate=Decimal("5.50"))
    line = quote_line_add(quote=quote, by=seller, line=quote_line_input(
        name="Installation", quantity="1.5", unit_net="33.33", tax_rate=reduced))
    quote.refresh_from_db()
    # bike: 300 -5 % = 285, -10 % global = 256.50 ; VAT 51.30
    # installation: 49.995 -10 % = 44.9955 -> 45.00 ; VAT 2.475 -> 2.48
    assert (quote.net_total, quote.vat_total, quote.gross_total) == (
        Decimal("301.50"), Decimal("53.78"), Decimal("355.28"))
    quote_line_update(quote=quote, line_id=line.pk, data={"quantity": "2"}, by=seller)
    quote_line_remove(quote=quote, line_id=line.pk, by=seller)
    quote.refresh_from_db()
    assert quote.gross_total == Decimal("307.80")
    with pytest.raises(SalesError, match="Give the unit price"):
        quote_line_input(name="Free line", quantity="1", tax_rate=reduced)


def test_sending_needs_lines_and_emails_a_link_to_the_customer(django_capture_on_commit_callbacks):
    seller = staff("sales")
    empty = quote_create(customer=customer(), by=seller)
    with pytest.raises(SalesError, match="at least one line"):
        quote_send(quote=empty, by=seller, base_url=BASE_URL)
    quote = draft(seller=seller)
    with django_capture_on_commit_callbacks() as callbacks:
        quote_send(quote=quote, by=seller, base_url=BASE_URL)
    assert len(callbacks) == 1, "the email is queued after commit"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT


def test_accepting_online_places_the_order_with_stock_reserved_and_signature_kept():
    bike = goods("BIKE", stock="5")
    quote = sent(product=bike, quantity="2")
    token = quote_link_token(quote)
    order = quote_accept(quote=quote_from_link(token), name="  Marie   Curie ", accept_terms=True,
                         ip="203.0.113.7")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.CONVERTED
    assert (quote.accepted_name, quote.accepted_ip) == ("Marie Curie", "203.0.113.7")
    assert quote.accepted_at is not None
    assert order.status == OrderStatus.PENDING and order.quote == quote
    assert order.gross_total == quote.gross_total
    assert StockLevel.objects.get(pk=bike.pk).reserved == 2
    verbs = list(events_of(quote).order_by("id").values_list("verb", "actor_kind"))
    assert verbs == [("created", "staff"), ("send", "staff"), ("accept", "customer"),
                     ("convert", "system")]


def test_signature_and_terms_are_required_and_refusal_changes_nothing():
    quote = sent()
    with pytest.raises(SalesError, match="full name"):
        quote_accept(quote=quote, name=" ", accept_terms=True, ip=None)
    with pytest.raises(SalesError, match="Tick the box"):
        quote_accept(quote=quote, name="Marie Curie", accept_terms=False, ip=None)
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    assert not Order.objects.exists()


def test_a_lot_accepted_online_becomes_reserved():
    a01 = lot("A01")
    quote = sent(product=a01, quantity="1")
    quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None)
    assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.RESERVED


def test_when_stock_is_gone_the_quote_stays_accepted_until_staff_convert_it():
    bike = goods("BIKE", stock="1")
    quote = sent(product=bike, quantity="3")
    assert quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None) is None
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and "Not enough stock" in quote.conversion_problem
    assert StockLevel.objects.get(pk=bike.pk).reserved == 0
    with pytest.raises(TransitionForbidden):
        quote_convert(quote=quote, by=staff("warehouse"))
    stock_receive(product=bike, quantity=5, by=None)
    order = quote_convert(quote=quote, by=staff("sales"))
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.CONVERTED
    assert order.lines.get().quantity == 3


def test_decline_needs_a_reason_and_closes_the_quote():
    quote = sent()
    with pytest.raises(SalesError, match="why"):
        quote_decline(quote=quote, reason="")
    quote_decline(quote=quote, reason="Too expensive")
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Too expensive")
    with pytest.raises(IllegalTransition):
        quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None, by=staff("owner"))


def test_tampered_links_are_refused():
    quote = sent()
    token = quote_link_token(quote)
    assert quote_from_link(token).pk == quote.pk
    assert quote_from_link(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    forged = signing.dumps({"q": quote.pk, "k": "guessed"}, salt="sales.quote-link", compress=True)
    assert quote_from_link(forged) is None
    with pytest.raises(QuoteLinkInvalid) as invalid:
        quote_check_link(None)
    assert invalid.value.reason == "invalid"


def test_an_expired_link_changes_nothing_and_the_periodic_task_expires_it():
    bike = goods("BIKE", stock="5")
    quote = sent(product=bike)
    Quote.objects.filter(pk=quote.pk).update(valid_until=TODAY() - timedelta(days=1))
    quote.refresh_from_db()
    with pytest.raises(QuoteLinkInvalid) as expired:
        quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None)
    assert expired.value.reason == "expired"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    assert StockLevel.objects.get(pk=bike.pk).reserved == 0
    assert quotes_expire() == 1
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.EXPIRED
    assert quotes_expire() == 0


def test_revising_a_sent_quote_supersedes_it_and_keeps_the_history():
    seller = staff("sales")
    quote = sent(seller=seller)
    old_token = quote_link_token(quote)
    revision = quote_revise(quote=quote, by=seller)
    assert (revision.number, revision.revision, revision.status) == (
        quote.number, 2, QuoteStatus.DRAFT)
    assert revision.reference == f"{quote.number}-R2"
    assert revision.lines.count() == 1 and revision.gross_total == quote.gross_total
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SUPERSEDED
    with pytest.raises(QuoteLinkInvalid) as superseded:
        quote_accept(quote=quote_from_link(old_token), name="Marie Curie", accept_terms=True,
                     ip=None)
    assert superseded.value.reason == "superseded"
    quote_update(quote=revision, by=seller, data={"discount_percent": "15"})
    quote_send(quote=revision, by=seller, base_url=BASE_URL)
    assert quote_link_token(revision) != old_token


def test_drafts_and_sent_quotes_can_be_cancelled_by_sales_not_by_warehouse():
    quote = draft()
    with pytest.raises(TransitionForbidden):
        quote_cancel(quote=quote, by=staff("warehouse"))
    quote_cancel(quote=quote, by=staff("sales"), reason="duplicate")
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.CANCELLED
    with pytest.raises(SalesError, match="no longer be edited"):
        quote_update(quote=quote, by=staff("sales"), data={"terms": "x"})


def test_a_customer_requests_a_quote_from_their_cart():
    buyer = registered()
    bike = goods("BIKE", stock="50")
    cart = cart_get_or_create(session={}, customer=buyer)
    cart_add(cart=cart, product=bike, quantity=20)
    quote = quote_request_from_cart(cart=cart, customer=buyer, message="Price for 20?",
                                    base_url=BASE_URL)
    assert (quote.status, quote.source, quote.customer) == (QuoteStatus.DRAFT, "cart", buyer)
    assert quote.lines.get().quantity == 20
    assert events_of(quote).filter(verb="customer_message", message="Price for 20?",
                                   actor_kind="customer").exists()
