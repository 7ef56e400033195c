"""The dashboard's global search (the top bar's box, on every staff page): it finds orders,
quotes, customers, invoices and products by number, name, email or SKU, links each to its
page, shows only what the user's role may open, and costs the same whatever the shop holds."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.services.invoices import invoice_create_for_order
from sales.models import Order
from sales.services.quotes import quote_create
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import customer, goods, place_order, staff

SEARCH = "/dashboard/search/"


@pytest.fixture
def in_shop(shop, db):
    with in_schema(shop):
        yield shop


def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def groups(html: str) -> dict[str, list[str]]:
    """Each result card's title and the labels of its links."""
    found = {}
    for title, body in re.findall(r'<h2 id="search-group-\d+">([^<]+)</h2>(.*?)</section>', html,
                                  re.S):
        found[title] = re.findall(r"<strong>([^<]+)</strong>", body)
    return found


def test_the_top_bar_search_finds_each_kind_of_thing_and_links_to_it(in_shop, owner_client):
    curie = customer("marie.curie@example.test", last_name="Curie")
    planter = goods("POT-CURIE", name="Curie planter")
    order = place_order((planter, 1), customer=curie, email=curie.email)
    invoice = invoice_create_for_order(order=order, by=None)
    quote = quote_create(customer=curie, by=None)
    customer("someone.else@example.test", last_name="Else")

    page = owner_client.get(SEARCH, {"q": "  curie "})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Results for “curie”" in html
    assert 'value="curie"' in html, "the top bar keeps the words"
    assert groups(html) == {"Orders": [order.number], "Quotes": [quote.reference],
                            "Customers": ["Marie Curie"], "Invoices": [invoice.reference],
                            "Products": ["Curie planter"]}
    for url in (f"/dashboard/sales/orders/{order.pk}/", f"/dashboard/sales/quotes/{quote.pk}/",
                f"/dashboard/sales/customers/{curie.pk}/",
                f"/dashboard/billing/invoices/{invoice.pk}/",
                f"/dashboard/catalog/{planter.pk}/"):
        assert f'href="{url}"' in html
    assert "See all in the list" not in html
    assert owner_client.get(SEARCH, {"q": order.number}).context["groups"][0].hits[0].url == \
        f"/dashboard/sales/orders/{order.pk}/"


def test_every_staff_page_searches_through_the_top_bar_without_javascript(in_shop, owner_client):
    html = owner_client.get("/dashboard/sales/orders/").content.decode()
    form = re.search(r'<form class="global-search"[^>]*>', html).group(0)
    assert 'action="/dashboard/search/"' in form and 'method="get"' in form


def test_a_role_only_finds_what_it_may_open(in_shop, shop):
    curie = customer("marie.curie@example.test", last_name="Curie")
    order = place_order((goods("POT-1"), 1), customer=curie, email=curie.email)
    invoice_create_for_order(order=order, by=None)
    quote_create(customer=curie, by=None)

    warehouse = client_for(shop, "warehouse")  # orders and customers, no quotes, no invoices
    assert set(groups(warehouse.get(SEARCH, {"q": "curie"}).content.decode())) == {
        "Orders", "Customers"}
    accountant = client_for(shop, "accountant")
    assert set(groups(accountant.get(SEARCH, {"q": "curie"}).content.decode())) == {
        "Orders", "Quotes", "Customers", "Invoices"}


def test_too_short_no_match_and_signed_out(in_shop, shop, owner_client):
    assert "Type at least 2 characters." in owner_client.get(SEARCH, {"q": "x"}).content.decode()
    assert "Nothing matches “zzz”" in owner_client.get(SEARCH, {"q": "zzz"}).content.decode()
    assert "Find an order, a quote" in owner_client.get(SEARCH).content.decode()
    response = Client(HTTP_HOST=host_of(shop)).get(SEARCH, {"q": "curie"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_costs_the_same_for_2_and_300_matches(in_shop, shop,
                                                       django_assert_max_num_queries):
    client = client_for(shop, "manager")  # a role: its permissions are read (owner skips that)
    who = customer("bulk@example.test", last_name="Bulk")
    now = timezone.now()

    def orders(start: int, n: int) -> None:
        Order.objects.bulk_create([
            Order(number=f"C-BULK-{start + i:05d}", customer=who, email=who.email,
                  gross_total=Decimal(i), placed_at=now - timedelta(minutes=i))
            for i in range(n)])

    orders(0, 2)
    client.get(SEARCH, {"q": "bulk"})  # warm-up: per-process caches
    # The shell's 6 (host, schemas, session, user and permissions, inbox badge), one per kind.
    with django_assert_max_num_queries(11) as small:
        client.get(SEARCH, {"q": "bulk"})
    orders(2, 298)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(SEARCH, {"q": "bulk"}).content.decode()
    assert len(groups(html)["Orders"]) == 5
    assert 'href="/dashboard/sales/orders/?q=bulk">See all in the list' in html
