"""The events API: the feed and one object's timeline, read-only, staff only, narrowed to what
the role may view; bad filters answered with what is wrong; constant cost; documented."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sales.services.orders import order_transition
from streams.events import record
from streams.models import Event
from tenants.accounts.services import api_token_create
from tests.conftest import host_of, in_schema
from tests.sales.factories import customer, goods, place_order
from tests.streams.activity_support import (  # noqa: F401 (in_shop is a fixture)
    draft_quote,
    in_shop,
    many_events,
    staff,
)

pytestmark = pytest.mark.usefixtures("in_shop")
EVENTS = "/api/v1/events/"


def api_for(shop, role: str = "owner") -> Client:
    _token, key = api_token_create(user=staff(role), name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


def test_one_orders_timeline_newest_first_with_who_and_what(shop):
    seller = staff("sales")
    order = place_order((goods("BIKE"), 1))
    order_transition(order=order, action="confirm", by=seller)
    place_order((goods("HELM"), 1))  # another order: not in this timeline
    body = api_for(shop).get(f"{EVENTS}?subject_type=sales.order&subject_id={order.pk}").json()
    assert body["count"] == 2
    confirmed, placed = body["results"]
    assert (confirmed["verb"], confirmed["verb_label"], confirmed["before"],
            confirmed["after"]) == ("confirm", "Confirmed", "pending", "confirmed")
    assert (confirmed["actor"], confirmed["actor_kind"], confirmed["actor_label"]) == (
        seller.pk, "staff", seller.get_full_name())
    assert (placed["verb"], placed["actor_kind"], placed["actor_label"]) == (
        "placed", "customer", "The customer")
    assert placed["subject_label"] == f"Order {order.number}"
    assert placed["subject_type"] == "sales.order" and placed["subject_id"] == order.pk
    one = api_for(shop).get(f"{EVENTS}{confirmed['id']}/").json()
    assert one == confirmed


def test_the_feed_filters_like_the_dashboard(shop):
    owner_client = api_for(shop)
    order = place_order((goods("BIKE"), 1))
    order_transition(order=order, action="cancel", by=staff("manager"), reason="Stock")
    record(subject=customer(), verb="created", actor=None)
    old = Event.objects.filter(verb="created", subject_label="Marie Curie").get()
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))

    def verbs(query: str) -> list[str]:
        response = owner_client.get(f"{EVENTS}?{query}")
        assert response.status_code == 200, response.json()
        return [event["verb"] for event in response.json()["results"]]

    assert verbs("importance=important") == ["cancel"]
    assert verbs("actor_kind=customer&subject_type=sales.order") == ["placed"]
    customers = "subject_type=sales.customer"
    assert verbs(f"{customers}&date_from={timezone.localdate() - timedelta(days=2)}") == []
    assert verbs(f"{customers}&date_to={timezone.localdate() - timedelta(days=5)}") == [
        "created"]


@pytest.mark.parametrize(("query", "field", "message"), [
    ("subject_type=sales.nothing", "subject_type", "Unknown kind of object"),
    ("subject_id=4", "subject_type", "Say what kind of object"),
    ("date_from=2026-05-02&date_to=2026-05-01", "date_to", "before its start"),
    ("importance=urgent", "importance", "not a valid choice"),
    ("actor=abc", "actor", "valid integer"),
])
def test_a_bad_filter_is_refused_with_what_is_wrong(shop, query, field, message):
    response = api_for(shop).get(f"{EVENTS}?{query}")
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])


def test_roles_see_only_what_they_may_view_and_other_objects_are_not_found(shop):
    quote = draft_quote()
    clerk = api_for(shop, "warehouse")
    refused = clerk.get(f"{EVENTS}?subject_type=sales.quote&subject_id={quote.pk}")
    assert refused.status_code == 403
    assert "Your role does not allow" in refused.json()["errors"]["subject_type"][0]
    assert all(e["subject_type"] != "sales.quote" for e in clerk.get(EVENTS).json()["results"])
    quote_event = Event.objects.filter(verb="created", subject_id=quote.pk).latest("id")
    assert clerk.get(f"{EVENTS}{quote_event.pk}/").status_code == 404
    missing = api_for(shop).get(f"{EVENTS}?subject_type=sales.quote&subject_id={quote.pk + 999}")
    assert missing.status_code == 404
    assert Client(HTTP_HOST=host_of(shop)).get(EVENTS).status_code in (401, 403)


def test_another_shops_events_are_not_listed(shop, other_shop):
    with in_schema(other_shop):
        record(subject=customer(first_name="Zebulon"), verb="created", actor=None)
    record(subject=customer(first_name="Ada"), verb="created", actor=None)
    labels = [e["subject_label"] for e in api_for(shop).get(
        f"{EVENTS}?subject_type=sales.customer").json()["results"]]
    assert "Ada Curie" in labels and not any("Zebulon" in label for label in labels)


def test_listing_costs_the_same_for_10_and_1000_events(shop, django_assert_max_num_queries):
    client = api_for(shop)
    order = place_order((goods("BIKE"), 1))
    many_events(order, 10)
    url = f"{EVENTS}?subject_type=sales.order&subject_id={order.pk}"
    client.get(url)  # warm-up: per-process caches
    with django_assert_max_num_queries(16) as small:
        client.get(url)
        client.get(EVENTS)
    many_events(order, 990)
    with django_assert_max_num_queries(16) as large:
        assert client.get(url).json()["count"] == 1001
        client.get(EVENTS)
    assert len(small) == len(large)


def test_the_schema_documents_the_events_endpoints(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    listing = schema["paths"]["/api/v1/events/"]["get"]
    parameters = {p["name"] for p in listing["parameters"]}
    assert {"subject_type", "subject_id", "actor", "actor_kind", "importance", "date_from",
            "date_to", "page"} <= parameters
    assert {"200", "400", "403", "404"} <= set(listing["responses"])
    assert "get" in schema["paths"]["/api/v1/events/{id}/"]
    assert "post" not in schema["paths"]["/api/v1/events/"]
