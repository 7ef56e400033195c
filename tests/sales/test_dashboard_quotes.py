"""Staff build quotes inline in the dashboard (catalog and free lines, discounts, live totals),
send them, record the customer's answer, revise sent ones, and see only what their role allows."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import ProductStatus, TaxRate
from catalog.services.stock import stock_receive
from sales.models import Order, Quote, QuoteSource, QuoteStatus
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.orders import LineInput
from sales.services.quotes import (
    quote_accept,
    quote_create,
    quote_request_from_cart,
    quote_send,
)
from streams.selectors import events_of
from tests.conftest import host_of, login
from tests.sales.factories import BASE_URL, customer, goods, service, staff

pytestmark = pytest.mark.usefixtures("in_shop")

QUOTES = "/dashboard/sales/quotes/"
ROLES = ("owner", "manager", "sales", "warehouse", "accountant")


def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def rate(value: str) -> TaxRate:
    return TaxRate.objects.get(rate=Decimal(value))


def draft(*, lines=None, **data) -> Quote:
    lines = lines if lines is not None else [LineInput(name="Consulting", quantity=Decimal(2),
                                                       unit_net=Decimal("100.00"),
                                                       tax_rate=Decimal("20.00"))]
    return quote_create(customer=customer(), by=staff("sales"), data=data, lines=lines)


def sent(**data) -> Quote:
    quote = draft(**data)
    return quote_send(quote=quote, by=staff("sales"), base_url=BASE_URL)


def shown_actions(html: str, quote: Quote) -> set[str]:
    return set(re.findall(rf'action="/dashboard/sales/quotes/{quote.pk}/(\w+)/"', html))


def bulk_quotes(n: int, *, start: int = 0) -> None:
    who = customer(f"bulkq{start}@example.test")
    Quote.objects.bulk_create([
        Quote(number=f"D-BULK-{start + i:05d}", customer=who,
              valid_until=timezone.localdate() + timedelta(days=30), gross_total=Decimal(i))
        for i in range(n)])


# ---------------------------------------------------------------------------------------------
# Who may open what
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "allowed"), [
    ("owner", True), ("manager", True), ("sales", True), ("accountant", True),
    ("warehouse", False)])
def test_quote_pages_by_role(shop, role, allowed):
    quote = draft()
    client = client_for(shop, role)
    expected = 200 if allowed else 403
    assert client.get(QUOTES).status_code == expected
    assert client.get(f"{QUOTES}{quote.pk}/").status_code == expected


def test_accountant_reads_a_draft_without_editor_or_buttons(shop):
    quote = draft()
    page = client_for(shop, "accountant").get(f"{QUOTES}{quote.pk}/")
    html = page.content.decode()
    assert page.context["buttons"] == [] and not page.context["editable"]
    assert shown_actions(html, quote) == set()
    assert "/lines/add/" not in html and 'name="quantity"' not in html
    assert "Your role does not allow editing quotes." in html
    assert client_for(shop, "accountant").get(f"{QUOTES}new/").status_code == 403


@pytest.mark.parametrize(("role", "on_draft", "on_sent"), [
    ("owner", {"send", "cancel"}, {"accept", "decline", "cancel", "revise"}),
    ("manager", {"send", "cancel"}, {"accept", "decline", "cancel", "revise"}),
    ("sales", {"send", "cancel"}, {"accept", "decline", "cancel", "revise"}),
    ("accountant", set(), set()),
])
def test_detail_shows_exactly_the_allowed_actions(shop, role, on_draft, on_sent):
    quote = draft()
    client = client_for(shop, role)
    assert shown_actions(client.get(f"{QUOTES}{quote.pk}/").content.decode(), quote) == on_draft
    quote_send(quote=quote, by=staff("sales"), base_url=BASE_URL)
    assert shown_actions(client.get(f"{QUOTES}{quote.pk}/").content.decode(), quote) == on_sent


@pytest.mark.parametrize(("role", "action", "status"), [
    ("accountant", "send", 403), ("accountant", "cancel", 403), ("warehouse", "send", 403),
])
def test_an_action_posted_by_the_wrong_role_changes_nothing(shop, role, action, status):
    quote = draft()
    response = client_for(shop, role).post(f"{QUOTES}{quote.pk}/{action}/",
                                           {"cancel-reason": "no"})
    assert response.status_code == status
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
    assert not events_of(quote).filter(verb=action).exists()
    assert len(mail.outbox) == 0


def test_line_edits_by_a_read_only_role_are_refused(shop):
    quote = draft()
    line = quote.lines.get()
    client = client_for(shop, "accountant")
    assert client.post(f"{QUOTES}{quote.pk}/lines/{line.pk}/",
                       {"name": "X", "quantity": "9", "unit_net": "1"}).status_code == 403
    assert client.post(f"{QUOTES}{quote.pk}/lines/{line.pk}/remove/").status_code == 403
    assert client.post(f"{QUOTES}{quote.pk}/", {"valid_until": "2031-01-01"}).status_code == 403
    assert quote.lines.get().quantity == 2


# ---------------------------------------------------------------------------------------------
# Building a quote inline
# ---------------------------------------------------------------------------------------------
def test_new_quote_chooses_a_customer_then_defaults_to_30_days(shop, owner_client):
    marie = customer("marie@example.test", company_name="Curie SARL")
    found = owner_client.get(f"{QUOTES}new/", {"q": "curie"}, HTTP_HX_REQUEST="true",
                             HTTP_HX_TARGET="customer-results")
    assert found.content.decode().lstrip().startswith('<div id="customer-results"')
    assert f'href="/dashboard/sales/quotes/new/?customer={marie.pk}"' in found.content.decode()
    form = owner_client.get(f"{QUOTES}new/", {"customer": marie.pk})
    default = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert f'value="{default}"' in form.content.decode()
    response = owner_client.post(f"{QUOTES}new/", {
        "customer": marie.pk, "valid_until": default, "discount_percent": "",
        "terms": "50 % on order", "notes": "Thanks!"})
    quote = Quote.objects.get()
    assert response["Location"] == f"{QUOTES}{quote.pk}/"
    assert (quote.customer, quote.status, quote.valid_until.isoformat(), quote.terms) == (
        marie, QuoteStatus.DRAFT, default, "50 % on order")


def test_new_quote_keeps_input_on_error(shop, owner_client):
    marie = customer()
    response = owner_client.post(f"{QUOTES}new/", {"customer": marie.pk,
                                                   "valid_until": "not a date",
                                                   "terms": "My terms", "discount_percent": "150"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "My terms" in html and "Enter a valid date." in html
    assert "less than or equal to 100" in html
    assert not Quote.objects.exists()


def test_product_picker_lists_active_products_by_name_or_sku(shop, owner_client):
    goods("BIKE-RED", name="Red bike")
    old = goods("BIKE-OLD", name="Old bike")
    old.status = ProductStatus.ARCHIVED
    old.save()
    service("SETUP")
    response = owner_client.get(f"{QUOTES}products/", {"product_q": "bike"},
                                HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<fieldset id="product-results"')
    assert "Red bike" in html and "Old bike" not in html and "SETUP" not in html
    by_sku = owner_client.get(f"{QUOTES}products/", {"product_q": "setup"}).content.decode()
    assert "Service SETUP" in by_sku
    assert client_for(shop, "accountant").get(f"{QUOTES}products/").status_code == 403
    # Without JavaScript the search form reloads the quote with the matches to choose from.
    quote = draft(lines=[])
    page = owner_client.get(f"{QUOTES}{quote.pk}/", {"product_q": "red"}).content.decode()
    assert 'name="catalog-product"' in page and "Red bike" in page


def test_a_quote_is_built_inline_with_live_totals(shop, owner_client):
    bike = goods("BIKE", price="100.00", rate="20.00")
    quote = draft(lines=[])
    url = f"{QUOTES}{quote.pk}/"
    # A catalog line: 2 bikes at the catalog price, 10 % off.
    added = owner_client.post(url + "lines/add/", {
        "kind": "catalog", "catalog-product": bike.pk, "catalog-quantity": "2",
        "catalog-unit_net": "", "catalog-discount_percent": "10"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="quote-lines")
    assert added.status_code == 200
    assert added.content.decode().lstrip().startswith('<section class="card" id="quote-lines"')
    assert "Line added: Goods BIKE." in added.content.decode()
    # A free line at 5.5 % VAT, price with a decimal comma.
    owner_client.post(url + "lines/add/", {
        "kind": "free", "free-name": "Delivery and setup", "free-quantity": "1",
        "free-unit_net": "49.90", "free-tax_rate": rate("5.50").pk,
        "free-discount_percent": ""}, HTTP_HX_REQUEST="true")
    quote.refresh_from_db()
    assert (quote.net_total, quote.vat_total, quote.gross_total) == (
        Decimal("229.90"), Decimal("38.74"), Decimal("268.64"))
    bike_line, free_line = quote.lines.order_by("position")
    assert (bike_line.product_id, bike_line.sku, bike_line.unit_net,
            bike_line.discount_percent) == (bike.pk, "BIKE", Decimal("100.00"), Decimal("10"))
    assert (free_line.product_id, free_line.tax_rate) == (None, Decimal("5.50"))

    # Edit a line inline: 3 bikes at 95, 0 % off.
    edited = owner_client.post(url + f"lines/{bike_line.pk}/", {
        "name": "Goods BIKE (red)", "quantity": "3", "unit_net": "95",
        "discount_percent": "0"}, HTTP_HX_REQUEST="true")
    assert edited.status_code == 200
    quote.refresh_from_db()
    assert quote.net_total == Decimal("334.90")  # 285.00 + 49.90
    assert quote.vat_total == Decimal("59.74")  # 57.00 + 2.74 (2.7445 rounded per line)
    # A global discount of 5 % applies to every line, so the VAT base per rate stays exact.
    fields = owner_client.post(url, {"valid_until": quote.valid_until.isoformat(),
                                     "discount_percent": "5", "terms": "", "notes": ""},
                               HTTP_HX_REQUEST="true", HTTP_HX_TARGET="quote-fields")
    answer = fields.content.decode()
    assert answer.lstrip().startswith('<section class="card" id="quote-fields"')
    assert 'id="quote-lines" hx-swap-oob="true"' in answer and "374.92" in answer
    assert "Quote details saved." in answer
    page = owner_client.get(url)
    totals = page.context["totals"]
    assert (totals.net, totals.vat, totals.gross) == (
        Decimal("318.16"), Decimal("56.76"), Decimal("374.92"))
    assert page.context["global_discount"] == Decimal("16.74")
    assert [(v["rate"], v["base"], v["vat"]) for v in page.context["vat_rows"]] == [
        (Decimal("5.50"), Decimal("47.41"), Decimal("2.61")),
        (Decimal("20.00"), Decimal("270.75"), Decimal("54.15"))]
    html = page.content.decode()
    for text in ("Goods BIKE (red)", "Global discount 5 %", "−16.74", "374.92",
                 "VAT 5.5 % on 47.41 €"):
        assert text in html, text
    # Remove the free line: totals follow.
    owner_client.post(url + f"lines/{free_line.pk}/remove/", HTTP_HX_REQUEST="true")
    quote.refresh_from_db()
    assert quote.lines.count() == 1
    assert (quote.net_total, quote.gross_total) == (Decimal("270.75"), Decimal("324.90"))


def test_line_errors_show_next_to_the_field_and_keep_the_input(shop, owner_client):
    quote = draft()
    line = quote.lines.get()
    url = f"{QUOTES}{quote.pk}/"
    bad = owner_client.post(url + f"lines/{line.pk}/", {
        "name": "Consulting", "quantity": "0", "unit_net": "123.45", "discount_percent": ""},
        HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    html = bad.content.decode()
    assert f'id="line-{line.pk}-quantity_error"' in html and 'value="123.45"' in html
    assert quote.lines.get().unit_net == Decimal("100.00")
    missing = owner_client.post(url + "lines/add/", {"kind": "catalog", "catalog-quantity": "2"})
    assert missing.status_code == 422
    assert "Find a product, then choose it in the list." in missing.content.decode()
    free = owner_client.post(url + "lines/add/", {
        "kind": "free", "free-name": "Study", "free-quantity": "1", "free-unit_net": "",
        "free-tax_rate": rate("20.00").pk}, HTTP_HX_REQUEST="true")
    assert free.status_code == 422
    assert 'value="Study"' in free.content.decode()
    assert quote.lines.count() == 1


def test_a_sent_quote_is_read_only_and_says_why(shop, owner_client):
    quote = sent()
    line = quote.lines.get()
    page = owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "read-only" in page and "Revise it" in page
    assert "/lines/add/" not in page and 'form="line-form' not in page
    refused = owner_client.post(f"{QUOTES}{quote.pk}/lines/{line.pk}/", {
        "name": "X", "quantity": "9", "unit_net": "1", "discount_percent": "0"})
    assert refused.status_code == 422
    assert "can no longer be edited" in refused.content.decode()
    assert quote.lines.get().quantity == 2


# ---------------------------------------------------------------------------------------------
# Send, answer, revise, convert, cancel
# ---------------------------------------------------------------------------------------------
def test_send_emails_the_customer_a_link(shop, django_capture_on_commit_callbacks):
    quote = draft()
    client = client_for(shop, "sales")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{QUOTES}{quote.pk}/send/")
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.sent_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["marie@example.test"]
    link = re.search(r"https?://\S+/q/\S+/", email.body)
    assert link and link.group(0).startswith(f"http://{host_of(shop)}/q/")
    page = client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "Active: the customer can accept or decline" in page
    assert "Sent to the customer" in page and "To marie@example.test" in page


def test_send_refuses_an_empty_quote_with_the_reason(shop, owner_client):
    quote = draft(lines=[])
    response = owner_client.post(f"{QUOTES}{quote.pk}/send/", HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="page-header doc-header" id="quote-header"')
    assert "Add at least one line before sending the quote." in html
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT


def test_htmx_send_reloads_the_page(shop, owner_client, django_capture_on_commit_callbacks):
    quote = draft()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"{QUOTES}{quote.pk}/send/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{QUOTES}{quote.pk}/"


def test_revising_a_sent_quote_makes_a_new_draft_and_supersedes_the_old(shop, owner_client):
    quote = sent()
    response = owner_client.post(f"{QUOTES}{quote.pk}/revise/")
    revision = Quote.objects.get(previous=quote)
    assert response["Location"] == f"{QUOTES}{revision.pk}/"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SUPERSEDED
    assert (revision.number, revision.revision, revision.status) == (
        quote.number, 2, QuoteStatus.DRAFT)
    assert revision.lines.count() == 1
    page = owner_client.get(f"{QUOTES}{revision.pk}/").content.decode()
    assert f"Quote {quote.number}-R2" in page
    assert f'href="/dashboard/sales/quotes/{quote.pk}/"' in page, "revisions panel links back"
    assert "Replaces " + quote.number in page
    old = owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "badge-superseded" in old and "A newer revision replaced this one" in old
    assert f'href="/dashboard/sales/quotes/{revision.pk}/"' in old
    listed = [row["reference"] for row in owner_client.get(QUOTES).context["rows"]]
    assert listed == [revision.reference], "the list shows the latest revision"


def test_staff_record_an_acceptance_and_the_order_is_placed(shop):
    bike = goods("BIKE", stock="5")
    quote = sent(lines=[LineInput.from_product(bike, Decimal(2))])
    client = client_for(shop, "sales")
    refused = client.post(f"{QUOTES}{quote.pk}/accept/", {"accept-name": "Marie Curie"})
    assert refused.status_code == 422
    assert "Tick the box to accept the terms." in refused.content.decode()
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    response = client.post(f"{QUOTES}{quote.pk}/accept/", {
        "accept-name": "Marie Curie", "accept-accept_terms": "on"}, follow=True)
    quote.refresh_from_db()
    order = Order.objects.get(quote=quote)
    assert (quote.status, quote.accepted_name) == (QuoteStatus.CONVERTED, "Marie Curie")
    html = response.content.decode()
    assert f"order {order.number} placed" in html
    assert f'href="/dashboard/sales/orders/{order.pk}/"' in html


def test_staff_record_a_refusal_with_a_reason(shop, owner_client):
    quote = sent()
    refused = owner_client.post(f"{QUOTES}{quote.pk}/decline/", {"decline-reason": ""},
                                HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert 'id="id_decline-reason_error"' in refused.content.decode()
    owner_client.post(f"{QUOTES}{quote.pk}/decline/", {"decline-reason": "Too expensive"})
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Too expensive")
    page = owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "Too expensive" in page and shown_actions(page, quote) == set()


def test_convert_an_accepted_quote_whose_conversion_failed(shop, owner_client):
    bike = goods("BIKE", stock="1")
    quote = sent(lines=[LineInput.from_product(bike, Decimal(3))])
    assert quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None) is None
    page = owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "the order could not be placed" in page
    assert shown_actions(page, quote) == {"convert"}
    stock_receive(product=bike, quantity=Decimal(5), reason="delivery", by=None)
    response = owner_client.post(f"{QUOTES}{quote.pk}/convert/", follow=True)
    order = Order.objects.get(quote=quote)
    assert f"Order {order.number} placed from the quote." in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.CONVERTED


def test_cancel_a_draft_with_a_reason(shop, owner_client):
    quote = draft()
    owner_client.post(f"{QUOTES}{quote.pk}/cancel/", {"cancel-reason": "Duplicate"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.CANCELLED
    event = events_of(quote).get(verb="cancel")
    assert event.message == "Duplicate"
    assert "badge-cancelled" in owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()


def test_a_request_from_the_cart_shows_the_customers_message(shop, owner_client):
    bike = goods("BIKE")
    marie = customer()
    cart = cart_get_or_create(session={}, customer=marie)
    cart_add(cart=cart, product=bike, quantity=Decimal(4))
    quote = quote_request_from_cart(cart=cart, customer=marie, message="Delivery in March?",
                                    base_url=BASE_URL)
    assert quote.source == QuoteSource.CART
    page = owner_client.get(f"{QUOTES}{quote.pk}/").content.decode()
    assert "Requested by the customer" in page and "Delivery in March?" in page
    listing = owner_client.get(QUOTES).content.decode()
    assert "Requested by the customer" in listing


# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
def test_list_filters_open_status_customer_and_dates(shop, owner_client):
    open_one = draft()
    closed = draft()
    owner_client.post(f"{QUOTES}{closed.pk}/cancel/", {"cancel-reason": "No"})

    def refs(**params):
        return [row["reference"] for row in owner_client.get(QUOTES, params).context["rows"]]

    assert refs(status="open") == [open_one.reference]
    assert refs(status="cancelled") == [closed.reference]
    assert refs(customer=open_one.customer_id) == [open_one.reference]
    assert refs(q=open_one.number) == [open_one.reference]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert refs(date_from=tomorrow) == []
    partial = owner_client.get(QUOTES, {"status": "open"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="quote-table")
    assert partial.content.decode().lstrip().startswith('<div id="quote-table"')


def test_quote_list_query_count_is_the_same_for_10_and_300_quotes(
        shop, django_assert_max_num_queries):
    client = client_for(shop, "sales")
    bulk_quotes(10)
    client.get(QUOTES)
    with django_assert_max_num_queries(8) as small:
        client.get(QUOTES)
    bulk_quotes(290, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(QUOTES, {"page": 2, "status": "open", "sort": "-total"})
    assert len(response.context["rows"]) == 25
    assert response.context["page"].count == 300
