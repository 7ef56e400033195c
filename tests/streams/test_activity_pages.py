"""Timelines on every object's page and the shop-wide activity feed: what a row says, pages
of 20 with "Load older", filters, constant cost as events grow, who may see what, and one
shop never sees another's events."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.services.stock import stock_receive
from sales.services.orders import order_transition
from streams.events import record
from streams.models import Event, Importance
from streams.subjects import content_type_id
from tests.conftest import in_schema
from tests.sales.factories import customer, goods, place_order
from tests.streams.activity_support import (  # noqa: F401 (in_shop is a fixture)
    client_for,
    draft_quote,
    in_shop,
    many_events,
    staff,
)

pytestmark = pytest.mark.usefixtures("in_shop")
FEED = "/dashboard/activity/"


def timeline_url(subject) -> str:
    return f"{FEED}{content_type_id(subject)}/{subject.pk}/timeline/"


def rows(html: str) -> list[str]:
    return re.findall(r'<li id="event-\d+">(.*?)</li>', html, re.S)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_order_page_shows_who_did_what_newest_first(shop):
    seller, clerk = staff("sales"), staff("warehouse")
    order = place_order((goods("BIKE", stock="3"), 1))
    order_transition(order=order, action="confirm", by=seller)
    order_transition(order=order, action="start_processing", by=clerk)
    order_transition(order=order, action="ship", by=clerk, tracking="6A1234")
    html = client_for(shop, staff("owner")).get(f"/dashboard/sales/orders/{order.pk}/")
    assert html.status_code == 200
    shown = [text(row) for row in rows(html.content.decode())]
    assert [row.split(" ")[0] for row in shown] == ["Shipped", "Preparation", "Confirmed",
                                                      "Order"]
    assert "Processing → Shipped" in shown[0] and clerk.get_full_name() in shown[0]
    assert "Tracking: 6A1234" in shown[0]
    assert "Pending → Confirmed" in shown[2] and seller.get_full_name() in shown[2]
    assert "The customer" in shown[3], "the checkout placed it"


def test_a_long_timeline_shows_20_events_then_loads_older_ones_in_place(shop):
    order = place_order((goods("BIKE"), 1))
    many_events(order, 45)
    client = client_for(shop, staff("sales"))
    page = client.get(f"/dashboard/sales/orders/{order.pk}/").content.decode()
    assert len(rows(page)) == 20
    assert f'hx-get="{timeline_url(order)}?page=2"' in page
    second = client.get(f"{timeline_url(order)}?page=2", HTTP_HX_REQUEST="true")
    third = client.get(f"{timeline_url(order)}?page=3", HTTP_HX_REQUEST="true")
    assert len(rows(second.content.decode())) == 20 and "page=3" in second.content.decode()
    assert len(rows(third.content.decode())) == 6 and "Load older" not in third.content.decode()
    # Without JavaScript the link opens the page as a page of its own.
    full = client.get(f"{timeline_url(order)}?page=2").content.decode()
    assert f"History of Order {order.number}" in full and len(rows(full)) == 20


def test_timeline_and_detail_page_cost_the_same_for_10_and_1000_events(
        shop, django_assert_max_num_queries):
    small, large = place_order((goods("BIKE", stock="9"), 1)), place_order((goods("HELM"), 1))
    many_events(small, 10)
    many_events(large, 1000)
    client = client_for(shop, staff("owner"))
    counts = {}
    for name, order in (("small", small), ("large", large)):
        client.get(timeline_url(order))  # warm-up: per-process caches
        with django_assert_max_num_queries(12) as timeline:
            assert client.get(timeline_url(order), HTTP_HX_REQUEST="true").status_code == 200
        with django_assert_max_num_queries(40) as page:
            assert client.get(f"/dashboard/sales/orders/{order.pk}/").status_code == 200
        counts[name] = (len(timeline), len(page))
    assert counts["small"] == counts["large"]


def test_a_role_that_may_not_view_quotes_is_refused_their_timeline(shop):
    quote = draft_quote()
    assert client_for(shop, staff("warehouse")).get(timeline_url(quote)).status_code == 403
    assert client_for(shop, staff("sales")).get(timeline_url(quote)).status_code == 200


def test_an_object_that_is_not_in_this_shop_has_no_timeline(shop):
    order = place_order((goods("BIKE"), 1))
    client = client_for(shop, staff("owner"))
    url = timeline_url(order).replace(f"/{order.pk}/", f"/{order.pk + 10_000}/")
    assert client.get(url).status_code == 404
    assert client.get(f"{FEED}999999/1/timeline/").status_code == 404


def test_the_feed_lists_events_with_links_to_their_objects(shop):
    order = place_order((goods("BIKE"), 1))
    order_transition(order=order, action="confirm", by=staff("sales"))
    html = client_for(shop, staff("owner")).get(FEED).content.decode()
    assert f'href="/dashboard/sales/orders/{order.pk}/">Order {order.number}</a>' in html
    assert "Pending → Confirmed" in text(html)


def test_feed_cost_is_the_same_for_10_and_1000_events(shop, django_assert_max_num_queries):
    owner = staff("owner")
    client = client_for(shop, owner)
    order, product = place_order((goods("BIKE"), 1)), goods("HELM")
    many_events(order, 5, actor=owner)
    many_events(product, 5, verb="stock_received")
    client.get(FEED)  # warm-up: per-process caches
    with django_assert_max_num_queries(14) as small:
        assert client.get(FEED).status_code == 200
    many_events(order, 500, actor=owner)
    many_events(product, 490, verb="stock_received")
    with django_assert_max_num_queries(14) as large:
        html = client.get(f"{FEED}?page=3").content.decode()
    assert len(small) == len(large)
    assert re.search(r"51–75 of 1,0\d\d<", html), "page 3 of over a thousand events"
    with django_assert_max_num_queries(12):  # the list alone, as HTMX swaps it
        client.get(f"{FEED}?page=4", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activity-feed")


def _feed_labels(client, query: str = "") -> list[str]:
    html = client.get(f"{FEED}?{query}", HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="activity-feed").content.decode()
    return re.findall(r'<td><time[^>]*>[^<]*</time></td>\s*<td><strong>([^<]+)</strong>', html)


def test_feed_filters_by_who_what_importance_and_period(shop):
    seller, owner = staff("sales"), staff("owner")
    order = place_order((goods("BIKE", stock="5"), 1))  # placed by the customer
    order_transition(order=order, action="confirm", by=seller)
    stock_receive(product=goods("HELM"), quantity="3", by=None, reason="Supplier")
    record(subject=customer(), verb="created", actor=owner)
    old = Event.objects.filter(verb="created", actor=owner).get()
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    order_transition(order=order, action="cancel", by=owner, reason="Out of stock")
    client = client_for(shop, owner)

    assert _feed_labels(client, f"who={seller.pk}") == ["Confirmed"]
    assert _feed_labels(client, "who=customer") == ["Order placed"]
    assert "Stock received" in _feed_labels(client, "who=system")
    assert _feed_labels(client, "kind=sales.order") == ["Cancelled", "Confirmed", "Order placed"]
    assert _feed_labels(client, f"importance={Importance.HIGH}") == ["Cancelled"]
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert "Customer created" not in _feed_labels(client, f"date_from={since}")
    assert _feed_labels(client, f"date_to={until}") == ["Customer created"]


def test_a_bad_filter_says_why_and_is_not_applied(shop):
    client = client_for(shop, staff("owner"))
    record(subject=customer(), verb="created", actor=None)
    today = timezone.localdate()
    html = client.get(f"{FEED}?date_from={today}&date_to={today - timedelta(days=3)}"
                      "&kind=sales.nothing").content.decode()
    assert "The end of the period is before its start." in html
    assert "Choose a kind of object in the list" in html
    assert "Customer created" in text(html), "the other filters still apply, the bad ones not"


def test_the_feed_shows_only_what_the_role_may_view(shop):
    quote, order = draft_quote(), place_order((goods("BIKE"), 1))
    clerk = client_for(shop, staff("warehouse"))  # orders and products, not quotes
    labels = _feed_labels(clerk)
    assert "Order placed" in labels and "Quote created" not in labels
    assert quote.reference not in clerk.get(FEED).content.decode()
    assert "Quote created" in _feed_labels(client_for(shop, staff("sales")))
    assert order.number in clerk.get(FEED).content.decode()


def test_another_shops_events_are_never_shown(shop, other_shop):
    with in_schema(other_shop):
        theirs = customer(email="secret@beta.test", first_name="Zebulon", last_name="Beta")
        record(subject=theirs, verb="created", actor=None)
        other_id = theirs.pk
    ours = customer(first_name="Ada", last_name="Alpha")
    record(subject=ours, verb="created", actor=None)
    client = client_for(shop, staff("owner"))
    html = client.get(FEED).content.decode()
    assert "Ada Alpha" in html and "Zebulon" not in html
    # Asking for the other shop's customer by id finds this shop's row of that id, if any.
    url = f"{FEED}{content_type_id(ours)}/{other_id}/timeline/"
    assert "Zebulon" not in client.get(url).content.decode()
