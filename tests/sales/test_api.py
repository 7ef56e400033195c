"""Sales REST API: customers and addresses, quotes (lines, totals, workflow), orders (one action
per transition, by the right role only; refused transitions answer 409/403 and change
nothing), constant list cost, isolation between shops, and the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import StockLevel, StockMovement
from catalog.services.stock import stock_audit, stock_receive
from sales.models import (
    Address,
    Customer,
    Order,
    OrderStatus,
    Quote,
    QuoteStatus,
)
from sales.services.orders import order_transition
from sales.services.quotes import quote_create, quote_line_input
from streams.selectors import events_of
from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.models import Shop
from tests.conftest import PASSWORD, host_of, in_schema, login, owner_of
from tests.sales import factories

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
QUOTES = "/api/v1/quotes/"
ORDERS = "/api/v1/orders/"


def api_client(shop: Shop, user: User | None = None) -> Client:
    """A client on `shop`'s host carrying a staff token of `user` (the owner by default)."""
    user = user or owner_of(shop)
    with in_schema(shop):
        _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


def as_role(shop: Shop, role: str) -> Client:
    with in_schema(shop):
        user = factories.staff(role)
    return api_client(shop, user)


@pytest.fixture
def api(shop) -> Client:
    return api_client(shop)


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def goods(shop: Shop, sku: str = "BIKE", **kwargs):
    with in_schema(shop):
        return factories.goods(sku, **kwargs)


def customer(shop: Shop, email: str = "marie@example.test", **extra) -> Customer:
    with in_schema(shop):
        return factories.customer(email, **extra)


def order(shop: Shop, *lines, **extra) -> Order:
    with in_schema(shop):
        return factories.place_order(*lines, **extra)


def stock(shop: Shop, product) -> tuple[Decimal, Decimal]:
    with in_schema(shop):
        level = StockLevel.objects.get(pk=product.pk)
        return level.on_hand, level.reserved


def order_state(shop: Shop, placed: Order) -> tuple[str, int]:
    with in_schema(shop):
        return (Order.objects.get(pk=placed.pk).status,
                events_of(placed).count())


# --- customers and addresses -------------------------------------------------------------------

def test_a_customer_is_created_read_and_updated_through_the_service(api, shop):
    created = post(api, CUSTOMERS, {
        "kind": "company", "first_name": "Marie", "last_name": "Curie",
        "company_name": "Atelier Lumière", "email": "Marie@Example.TEST",
        "vat_number": "fr 40 123456789", "company_id": "123 456 789"})

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["email"], body["vat_number"], body["company_id"], body["state"]) == (
        "marie@example.test", "FR40123456789", "123456789", "guest")
    assert body["display_name"] == "Atelier Lumière (Marie Curie)" and body["addresses"] == []
    url = f"{CUSTOMERS}{body['id']}/"
    assert api.get(url).json() == body

    changed = patch(api, url, {"phone": "+33 6 12 34 56 78", "notes": "Calls in the morning"})

    assert changed.status_code == 200
    assert changed.json()["phone"] == "+33 6 12 34 56 78"
    assert changed.json()["company_name"] == "Atelier Lumière"  # left out: unchanged
    replaced = api.put(url, {"kind": "person", "first_name": "Marie", "last_name": "Curie",
                             "email": "marie@example.test"}, content_type="application/json")
    assert replaced.status_code == 200 and replaced.json()["kind"] == "person"


def test_service_refusals_are_400s_on_the_field(api, shop):
    no_name = post(api, CUSTOMERS, {"kind": "company", "email": "x@example.test",
                                    "last_name": "Curie"})
    bad_vat = post(api, CUSTOMERS, {"last_name": "Curie", "email": "x@example.test",
                                    "vat_number": "123"})
    no_email = post(api, CUSTOMERS, {"last_name": "Curie"})

    assert no_name.status_code == 400
    assert no_name.json() == {"errors": {"company_name": ["A company needs its company name."]}}
    assert list(bad_vat.json()["errors"]) == ["vat_number"]
    assert list(no_email.json()["errors"]) == ["email"]
    with in_schema(shop):
        assert not Customer.objects.exists()


def test_customer_list_searches_filters_and_orders(api, shop):
    customer(shop, "ada@example.test", first_name="Ada", last_name="Lovelace")
    customer(shop, "marie@example.test")
    customer(shop, "acme@example.test", kind="company", company_name="Acme", last_name="Bob")

    def emails(query: str) -> list[str]:
        response = api.get(f"{CUSTOMERS}?{query}")
        assert response.status_code == 200, response.json()
        return [row["email"] for row in response.json()["results"]]

    assert emails("q=lovelace") == ["ada@example.test"]
    assert emails("kind=company") == ["acme@example.test"]
    assert emails("ordering=email") == ["acme@example.test", "ada@example.test",
                                        "marie@example.test"]
    assert emails("state=registered") == []
    assert api.get(f"{CUSTOMERS}?kind=robot").json()["errors"]["kind"]


def test_addresses_are_added_changed_and_deleted_with_their_defaults(api, shop):
    marie = customer(shop)
    url = f"{CUSTOMERS}{marie.pk}/addresses/"

    home = post(api, url, dict(factories.ADDRESS))
    office = post(api, url, {**factories.ADDRESS, "line1": "1 rue Pierre et Marie Curie",
                             "is_default_shipping": True})
    bad = post(api, url, {**factories.ADDRESS, "postal_code": "7500"})

    assert home.status_code == 201 and office.status_code == 201
    assert (home.json()["is_default_billing"], home.json()["is_default_shipping"]) == (True, True)
    assert (office.json()["is_default_billing"], office.json()["is_default_shipping"]) == (
        False, True)
    assert bad.status_code == 400
    assert bad.json() == {"errors": {"postal_code": ["A French postal code has 5 digits."]}}
    listed = api.get(url).json()["results"]
    assert [(a["line1"], a["is_default_shipping"]) for a in listed] == [
        ("1 rue Pierre et Marie Curie", True), ("12 rue des Écoles", False)]

    moved = patch(api, f"{url}{home.json()['id']}/", {"city": "Lyon", "postal_code": "69001"})
    assert moved.status_code == 200
    assert (moved.json()["line1"], moved.json()["city"]) == ("12 rue des Écoles", "Lyon")

    assert api.delete(f"{url}{office.json()['id']}/").status_code == 204
    detail = api.get(f"{CUSTOMERS}{marie.pk}/").json()
    assert [(a["city"], a["is_default_billing"], a["is_default_shipping"])
            for a in detail["addresses"]] == [("Lyon", True, True)]
    assert api.delete(f"{url}{office.json()['id']}/").status_code == 404


def test_another_customers_address_id_is_not_found(api, shop):
    marie, paul = customer(shop), customer(shop, "paul@example.test")
    with in_schema(shop):
        address = Address.objects.create(customer=paul, **factories.ADDRESS)

    response = patch(api, f"{CUSTOMERS}{marie.pk}/addresses/{address.pk}/", {"city": "Lyon"})

    assert response.status_code == 404
    with in_schema(shop):
        assert Address.objects.get(pk=address.pk).city == "Paris"


# --- quotes ----------------------------------------------------------------------------------

def _quote_payload(customer_id: int, product_id: int) -> dict:
    return {
        "customer": customer_id, "discount_percent": "5", "terms": "Net 30 days.",
        "lines": [
            {"product": product_id, "quantity": "2", "discount_percent": "10"},
            {"name": "Delivery and assembly", "quantity": "3", "unit_net": "49.50",
             "tax_rate": "5.50"},
        ]}


def test_a_quote_is_created_with_catalog_and_free_lines_and_exact_totals(api, shop):
    bike = goods(shop, price="100.00")
    marie = customer(shop)

    response = post(api, QUOTES, _quote_payload(marie.pk, bike.pk))

    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["status"] == "draft" and quote["customer"]["id"] == marie.pk
    assert quote["valid_until"] == str(timezone.localdate() + timedelta(days=30))
    # 100 x 2 - 10 % - 5 % = 171.00 at 20 %; 49.50 x 3 - 5 % = 141.075 -> 141.08 at 5.5 %.
    assert [(line["name"], line["sku"], line["unit_net"], line["net"], line["vat"],
             line["gross"]) for line in quote["lines"]] == [
        ("Goods BIKE", "BIKE", "100.00", "171.00", "34.20", "205.20"),
        ("Delivery and assembly", "", "49.50", "141.08", "7.76", "148.84")]
    assert (quote["net_total"], quote["vat_total"], quote["gross_total"]) == (
        "312.08", "41.96", "354.04")
    assert quote["vat_breakdown"] == [{"rate": "5.50", "base": "141.08", "vat": "7.76"},
                                      {"rate": "20.00", "base": "171.00", "vat": "34.20"}]
    assert quote["allowed_actions"] == ["send", "cancel"]
    assert [r["reference"] for r in quote["revisions"]] == [quote["number"]]
    assert [h["verb"] for h in quote["history"]] == ["created"]
    assert api.get(f"{QUOTES}{quote['id']}/").json() == quote


def test_line_errors_are_keyed_by_their_index_and_create_nothing(api, shop):
    bike = goods(shop)
    marie = customer(shop)

    response = post(api, QUOTES, {"customer": marie.pk, "lines": [
        {"product": 999999, "quantity": "1"},
        {"product": bike.pk, "quantity": "0"},
        {"name": "Free", "quantity": "1", "tax_rate": "20"}]})
    unknown = post(api, QUOTES, {"customer": 999999})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"lines.0.product", "lines.1.quantity",
                                              "lines.2.unit_net"}
    assert unknown.json() == {"errors": {"customer": ["No customer with this id."]}}
    with in_schema(shop):
        assert not Quote.objects.exists()


def test_draft_lines_are_added_changed_and_removed_with_totals_following(api, shop):
    bike = goods(shop, price="100.00")
    quote = post(api, QUOTES, {"customer": customer(shop).pk}).json()
    url = f"{QUOTES}{quote['id']}/"

    added = post(api, f"{url}lines/", {"product": bike.pk, "quantity": "1"})
    assert added.status_code == 201 and added.json()["gross_total"] == "120.00"
    line_id = added.json()["lines"][0]["id"]
    free = post(api, f"{url}lines/", {"name": "Setup", "quantity": "1", "unit_net": "10",
                                      "tax_rate": "20"})
    assert free.json()["gross_total"] == "132.00"

    changed = patch(api, f"{url}lines/{line_id}/", {"quantity": "3", "unit_net": "90.00"})
    assert changed.status_code == 200
    assert changed.json()["lines"][0]["net"] == "270.00"
    assert changed.json()["gross_total"] == "336.00"

    header = patch(api, url, {"discount_percent": "10", "notes": "Spring offer"})
    assert header.json()["gross_total"] == "302.40" and header.json()["notes"] == "Spring offer"

    removed = api.delete(f"{url}lines/{line_id}/")
    assert removed.status_code == 200 and removed.json()["gross_total"] == "10.80"
    assert api.delete(f"{url}lines/{line_id}/").status_code == 404


def test_a_sent_quote_is_not_edited_but_revised(api, shop):
    bike = goods(shop)
    quote = post(api, QUOTES, _quote_payload(customer(shop).pk, bike.pk)).json()
    url = f"{QUOTES}{quote['id']}/"
    assert post(api, f"{url}send/").json()["status"] == "sent"

    edit = patch(api, url, {"notes": "changed"})
    line = patch(api, f"{url}lines/{quote['lines'][0]['id']}/", {"quantity": "5"})
    revised = post(api, f"{url}revise/")

    assert edit.status_code == 400 and "Revise it" in edit.json()["errors"]["non_field_errors"][0]
    assert line.status_code == 400
    assert revised.status_code == 201
    new = revised.json()
    assert (new["status"], new["revision"], new["previous"]) == ("draft", 2, quote["id"])
    assert new["reference"] == f"{quote['number']}-R2"
    assert new["gross_total"] == quote["gross_total"]
    assert [(r["revision"], r["status"]) for r in new["revisions"]] == [
        (2, "draft"), (1, "superseded")]
    assert patch(api, f"{QUOTES}{new['id']}/", {"notes": "changed"}).status_code == 200
    listed = api.get(QUOTES).json()["results"]
    assert [row["reference"] for row in listed] == [new["reference"]]


def test_send_and_accept_give_an_order_with_its_stock_reserved(api, shop):
    bike = goods(shop, stock="5", price="100.00")
    marie = customer(shop)
    quote = post(api, QUOTES, _quote_payload(marie.pk, bike.pk)).json()
    url = f"{QUOTES}{quote['id']}/"

    sent = post(api, f"{url}send/")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["allowed_actions"] == ["accept", "decline", "cancel"]
    accepted = post(api, f"{url}accept/", {"name": "Marie Curie", "accept_terms": True})

    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert (body["status"], body["accepted_name"], body["conversion_problem"]) == (
        "converted", "Marie Curie", "")
    assert body["order"]["status"] == "pending"
    placed = api.get(f"{ORDERS}{body['order']['id']}/").json()
    assert placed["quote"] == {"id": quote["id"], "reference": quote["number"]}
    assert placed["source"] == "quote" and placed["customer"]["id"] == marie.pk
    assert placed["gross_total"] == quote["gross_total"]
    assert [line["gross"] for line in placed["lines"]] == ["205.20", "148.84"]
    assert placed["allowed_actions"] == ["confirm", "cancel"]
    assert stock(shop, bike) == (5, 2)
    with in_schema(shop):
        assert StockMovement.objects.filter(product=bike, kind="reservation").get().reference \
            == placed["number"]
        assert stock_audit() == []


def test_sending_emails_the_customer_a_link_on_the_shops_host(api, shop, mailoutbox,
                                                              django_capture_on_commit_callbacks):
    quote = post(api, QUOTES, _quote_payload(customer(shop).pk, goods(shop).pk)).json()

    with django_capture_on_commit_callbacks(execute=True):
        sent = post(api, f"{QUOTES}{quote['id']}/send/")

    assert sent.status_code == 200
    assert [mail.to for mail in mailoutbox] == [["marie@example.test"]]
    assert f"http://{host_of(shop)}/q/" in mailoutbox[0].body


def test_an_acceptance_short_of_stock_is_converted_once_stock_arrives(api, shop):
    bike = goods(shop, stock="1")
    quote = post(api, QUOTES, _quote_payload(customer(shop).pk, bike.pk)).json()
    url = f"{QUOTES}{quote['id']}/"
    post(api, f"{url}send/")

    accepted = post(api, f"{url}accept/", {"name": "Marie Curie", "accept_terms": True}).json()
    assert accepted["status"] == "accepted" and accepted["order"] is None
    assert accepted["conversion_problem"] and accepted["allowed_actions"] == ["convert"]
    refused = post(api, f"{url}convert/")
    assert refused.status_code == 400 and refused.json()["errors"]["non_field_errors"]
    with in_schema(shop):
        stock_receive(product=bike, quantity=Decimal("4"), by=None)

    converted = post(api, f"{url}convert/")

    assert converted.status_code == 201, converted.json()
    assert converted.json()["status"] == "pending" and converted.json()["quote"]["id"] == \
        quote["id"]
    assert api.get(url).json()["status"] == "converted"
    assert stock(shop, bike) == (5, 2)


def test_acceptance_needs_a_name_and_the_terms(api, shop):
    quote = post(api, QUOTES, _quote_payload(customer(shop).pk, goods(shop).pk)).json()
    url = f"{QUOTES}{quote['id']}/"
    post(api, f"{url}send/")

    unticked = post(api, f"{url}accept/", {"name": "Marie Curie", "accept_terms": False})
    missing = post(api, f"{url}accept/", {})

    assert unticked.json() == {"errors": {"accept_terms": ["Tick the box to accept the terms."]}}
    assert set(missing.json()["errors"]) == {"name", "accept_terms"}
    assert api.get(url).json()["status"] == "sent"


def test_decline_and_cancel_record_their_reason(api, shop):
    bike = goods(shop)
    marie = customer(shop)
    declined = post(api, QUOTES, _quote_payload(marie.pk, bike.pk)).json()
    post(api, f"{QUOTES}{declined['id']}/send/")
    cancelled = post(api, QUOTES, _quote_payload(marie.pk, bike.pk)).json()

    no_reason = post(api, f"{QUOTES}{declined['id']}/decline/", {})
    refusal = post(api, f"{QUOTES}{declined['id']}/decline/", {"reason": "Too expensive."})
    cancel = post(api, f"{QUOTES}{cancelled['id']}/cancel/", {"reason": "Duplicate"})

    assert list(no_reason.json()["errors"]) == ["reason"]
    assert (refusal.json()["status"], refusal.json()["decline_reason"]) == (
        "declined", "Too expensive.")
    assert cancel.json()["status"] == "cancelled"
    assert cancel.json()["history"][0]["message"] == "Duplicate"


def test_an_illegal_quote_action_is_a_409_listing_what_is_allowed(api, shop):
    quote = post(api, QUOTES, _quote_payload(customer(shop).pk, goods(shop).pk)).json()
    url = f"{QUOTES}{quote['id']}/"

    accept = post(api, f"{url}accept/", {"name": "Marie Curie", "accept_terms": True})
    convert = post(api, f"{url}convert/")

    assert accept.status_code == 409
    assert accept.json()["state"] == "draft" and accept.json()["allowed"] == ["send", "cancel"]
    assert "is not possible now" in accept.json()["errors"]["status"][0]
    assert convert.status_code == 409
    with in_schema(shop):
        assert Quote.objects.get(pk=quote["id"]).status == QuoteStatus.DRAFT
        assert events_of(Quote(pk=quote["id"])).count() == 1
        assert not Order.objects.exists()


def test_a_quote_action_the_role_does_not_allow_is_a_403(shop):
    with in_schema(shop):
        quote = quote_create(customer=factories.customer(), by=None,
                             lines=[quote_line_input(name="Audit", unit_net="100",
                                                     tax_rate=Decimal("20"))])
    accountant = as_role(shop, "accountant")
    warehouse = as_role(shop, "warehouse")

    send = post(accountant, f"{QUOTES}{quote.pk}/send/")
    edit = patch(accountant, f"{QUOTES}{quote.pk}/", {"notes": "x"})

    assert send.status_code == 403
    assert send.json() == {"errors": {"status": ["Your role does not allow “Send quote”."]},
                           "state": "draft", "allowed": []}
    assert edit.status_code == 403
    assert accountant.get(f"{QUOTES}{quote.pk}/").status_code == 200
    assert warehouse.get(QUOTES).status_code == 403  # no view_quote: not even the list
    assert post(warehouse, QUOTES, {"customer": quote.customer_id}).status_code == 403
    with in_schema(shop):
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT


def test_quote_list_filters(api, shop):
    marie, paul = customer(shop), customer(shop, "paul@example.test", last_name="Langevin")
    with in_schema(shop):
        line = quote_line_input(name="Audit", unit_net="100", tax_rate=Decimal("20"))
        draft = quote_create(customer=marie, by=None, lines=[line])
        cancelled = quote_create(customer=paul, by=None, lines=[line])
        Quote.objects.filter(pk=cancelled.pk).update(
            status=QuoteStatus.CANCELLED, created_at=timezone.now() - timedelta(days=10))

    def refs(query: str) -> list[str]:
        response = api.get(f"{QUOTES}?{query}")
        assert response.status_code == 200, response.json()
        return [row["reference"] for row in response.json()["results"]]

    today = timezone.localdate()
    assert refs("status=open") == [draft.reference]
    assert refs("status=cancelled") == [cancelled.reference]
    assert refs(f"customer={paul.pk}") == [cancelled.reference]
    assert refs("q=langevin") == [cancelled.reference]
    assert refs(f"created_after={today - timedelta(days=1)}") == [draft.reference]
    assert refs(f"created_before={today - timedelta(days=1)}") == [cancelled.reference]
    assert refs("ordering=created_at") == [cancelled.reference, draft.reference]
    bad = api.get(f"{QUOTES}?created_after={today}&created_before={today - timedelta(days=1)}")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["created_before"]


# --- orders ----------------------------------------------------------------------------------

def _to(shop: Shop, placed: Order, path: list[str]) -> None:
    with in_schema(shop):
        owner = factories.staff("owner")
        for action in path:
            order_transition(order=placed, action=action, by=owner, reason="test")


@pytest.mark.parametrize(("role", "path", "action", "body", "state"), [
    ("sales", [], "confirm", {}, "confirmed"),
    ("warehouse", ["confirm"], "start-processing", {}, "processing"),
    ("warehouse", ["confirm", "start_processing"], "ship", {"tracking": "COLIS-42"}, "shipped"),
    ("warehouse", ["confirm", "start_processing", "ship"], "deliver", {}, "delivered"),
    ("manager", ["confirm"], "cancel", {"reason": "Out of business"}, "cancelled"),
])
def test_each_order_transition_by_its_role(shop, role, path, action, body, state):
    bike = goods(shop, stock="5")
    placed = order(shop, (bike, 2))
    _to(shop, placed, path)

    response = post(as_role(shop, role), f"{ORDERS}{placed.pk}/{action}/", body)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == state
    assert response.json()["history"][0]["to_status"] == state
    expected_stock = {"shipped": (3, 0), "delivered": (3, 0), "cancelled": (5, 0)}
    assert stock(shop, bike) == expected_stock.get(state, (5, 2))
    if state == "shipped":
        assert response.json()["tracking_reference"] == "COLIS-42"


@pytest.mark.parametrize(("role", "path", "action", "body", "allowed"), [
    ("warehouse", [], "confirm", {}, []),
    ("accountant", [], "confirm", {}, []),
    ("sales", [], "cancel", {"reason": "no"}, ["confirm"]),
    ("sales", ["confirm"], "start-processing", {}, []),
    ("sales", ["confirm", "start_processing"], "ship", {}, []),
    ("warehouse", ["confirm", "start_processing"], "cancel", {"reason": "no"}, ["ship"]),
])
def test_an_order_transition_by_the_wrong_role_is_a_403_and_changes_nothing(
        shop, role, path, action, body, allowed):
    bike = goods(shop, stock="5")
    placed = order(shop, (bike, 2))
    _to(shop, placed, path)
    before, stock_before = order_state(shop, placed), stock(shop, bike)

    response = post(as_role(shop, role), f"{ORDERS}{placed.pk}/{action}/", body)

    assert response.status_code == 403
    assert response.json()["state"] == before[0] and response.json()["allowed"] == allowed
    assert "Your role does not allow" in response.json()["errors"]["status"][0]
    assert order_state(shop, placed) == before
    assert stock(shop, bike) == stock_before


@pytest.mark.parametrize(("path", "action", "body", "allowed"), [
    ([], "deliver", {}, ["confirm", "cancel"]),
    ([], "ship", {"tracking": "X"}, ["confirm", "cancel"]),
    (["confirm"], "confirm", {}, ["start_processing", "cancel"]),
    (["confirm", "start_processing", "ship"], "cancel", {"reason": "late"}, ["deliver"]),
    (["cancel"], "confirm", {}, []),
])
def test_an_illegal_order_transition_is_a_409_and_changes_nothing(api, shop, path, action,
                                                                   body, allowed):
    bike = goods(shop, stock="5")
    placed = order(shop, (bike, 2))
    _to(shop, placed, path)
    before, stock_before = order_state(shop, placed), stock(shop, bike)

    response = post(api, f"{ORDERS}{placed.pk}/{action}/", body)

    assert response.status_code == 409
    assert response.json() == {**response.json(), "state": before[0], "allowed": allowed}
    assert list(response.json()["errors"]) == ["status"]
    assert order_state(shop, placed) == before
    assert stock(shop, bike) == stock_before


def test_an_order_cancel_needs_a_reason(api, shop):
    bike = goods(shop, stock="5")
    placed = order(shop, (bike, 2))

    response = post(api, f"{ORDERS}{placed.pk}/cancel/", {})

    assert response.status_code == 400 and list(response.json()["errors"]) == ["reason"]
    assert order_state(shop, placed)[0] == OrderStatus.PENDING and stock(shop, bike) == (5, 2)


def test_order_detail_shows_lines_totals_addresses_and_history(api, shop):
    bike = goods(shop, stock="5", price="100.00")
    placed = order(shop, (bike, 2))

    detail = api.get(f"{ORDERS}{placed.pk}/").json()

    assert detail["number"] == placed.number and detail["status"] == "pending"
    assert [(line["sku"], line["quantity"], line["net"]) for line in detail["lines"]] == [
        ("BIKE", "2.000", "200.00")]
    assert detail["billing_address"]["city"] == "Paris"
    rates = {row["rate"] for row in detail["vat_breakdown"]}
    assert "20.00" in rates
    assert sum(Decimal(row["vat"]) for row in detail["vat_breakdown"]) == Decimal(
        detail["vat_total"])
    assert Decimal(detail["net_total"]) + Decimal(detail["vat_total"]) == Decimal(
        detail["gross_total"])
    assert [h["verb"] for h in detail["history"]] == ["placed"]
    assert detail["allowed_actions"] == ["confirm", "cancel"]


def test_order_list_filters(api, shop):
    bike = goods(shop, stock="10")
    first = order(shop, (bike, 1))
    second = order(shop, (bike, 1), email="zoe@example.test", last_name="Zola")
    _to(shop, second, ["confirm"])
    with in_schema(shop):
        Order.objects.filter(pk=first.pk).update(placed_at=timezone.now() - timedelta(days=3))

    def numbers(query: str) -> list[str]:
        response = api.get(f"{ORDERS}?{query}")
        assert response.status_code == 200, response.json()
        return [row["number"] for row in response.json()["results"]]

    today = timezone.localdate()
    assert numbers("") == [second.number, first.number]
    assert numbers("status=confirmed") == [second.number]
    assert numbers("q=zoe@") == [second.number]
    assert numbers(f"placed_before={today - timedelta(days=1)}") == [first.number]
    assert numbers(f"placed_after={today}") == [second.number]
    assert numbers("ordering=placed_at") == [first.number, second.number]
    with in_schema(shop):
        customer_id = Order.objects.get(pk=first.pk).customer_id
    assert numbers(f"customer={customer_id}") == [first.number]
    assert api.get(f"{ORDERS}?status=lost").status_code == 400


def test_orders_are_not_created_through_the_api(api):
    assert post(api, ORDERS, {"email": "x@example.test"}).status_code == 405


def test_a_role_without_view_order_cannot_list_orders(shop):
    with in_schema(shop):
        nobody = User.objects.create_user("nobody@staff.test", PASSWORD, is_staff=True)
    client = api_client(shop, nobody)

    assert client.get(ORDERS).status_code == 403
    assert client.get(CUSTOMERS).status_code == 403
    assert as_role(shop, "warehouse").get(ORDERS).status_code == 200


# --- constant list cost ----------------------------------------------------------------------

def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _fill(shop: Shop, start: int, count: int, bike) -> None:
    with in_schema(shop):
        for n in range(start, start + count):
            buyer = factories.customer(f"buyer{n}@example.test", last_name=f"Buyer {n}")
            quote_create(customer=buyer, by=None, lines=[quote_line_input(product=bike)])
            factories.place_order((bike, 1), customer=buyer, email=buyer.email)


@pytest.mark.parametrize("url", [CUSTOMERS, QUOTES, ORDERS])
def test_lists_cost_the_same_queries_for_3_or_30_rows(api, shop, url):
    bike = goods(shop, stock="100")
    _fill(shop, 0, 3, bike)
    api.get(url)  # the token's first use is recorded once
    few = _queries(api, url)
    _fill(shop, 3, 27, bike)

    many = _queries(api, url)

    assert few == many <= 8, (few, many)
    assert api.get(url).json()["count"] == 30


# --- isolation -------------------------------------------------------------------------------

def test_one_shops_sales_are_invisible_on_another_shop(shop, other_shop):
    bike = goods(shop, stock="5")
    marie = customer(shop)
    with in_schema(shop):
        quote = quote_create(customer=marie, by=None, lines=[quote_line_input(product=bike)])
    placed = order(shop, (bike, 1))
    with in_schema(other_shop):  # ids are per schema: make sure these mean nothing there
        assert not Customer.objects.filter(pk=marie.pk).exists()
        assert not Quote.objects.filter(pk=quote.pk).exists()
        assert not Order.objects.filter(pk=placed.pk).exists()
    beta = api_client(other_shop)

    for url in (f"{CUSTOMERS}{marie.pk}/", f"{QUOTES}{quote.pk}/", f"{ORDERS}{placed.pk}/",
                f"{CUSTOMERS}{marie.pk}/addresses/"):
        assert beta.get(url).status_code == 404, url
    assert post(beta, f"{ORDERS}{placed.pk}/confirm/").status_code == 404
    assert post(beta, f"{QUOTES}{quote.pk}/send/").status_code == 404
    for url in (CUSTOMERS, QUOTES, ORDERS):
        assert beta.get(url).json()["count"] == 0
    assert order_state(shop, placed)[0] == OrderStatus.PENDING


def test_customers_cannot_use_the_api_even_for_their_own_orders(shop, shop_client):
    with in_schema(shop):
        paul = factories.registered()
        placed = factories.place_order((factories.goods(), 1), customer=paul)
    login(shop_client, shop, paul.user)

    assert shop_client.get(f"{ORDERS}{placed.pk}/").status_code == 403
    assert shop_client.get(QUOTES).status_code == 403
    assert shop_client.get(CUSTOMERS).status_code == 403


def test_anonymous_requests_are_refused(shop_client):
    for url in (CUSTOMERS, QUOTES, ORDERS):
        assert shop_client.get(url).status_code == 401


# --- schema ----------------------------------------------------------------------------------

def test_schema_documents_the_sales_endpoints(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in ("/api/v1/customers/", "/api/v1/customers/{id}/addresses/",
                 "/api/v1/customers/{id}/addresses/{address_id}/",
                 "/api/v1/quotes/", "/api/v1/quotes/{id}/", "/api/v1/quotes/{id}/lines/",
                 "/api/v1/quotes/{id}/lines/{line_id}/", "/api/v1/orders/",
                 "/api/v1/orders/{id}/"):
        assert path in paths, path
    for action in ("send", "accept", "decline", "convert", "cancel", "revise"):
        assert "post" in paths[f"/api/v1/quotes/{{id}}/{action}/"], action
    for action in ("confirm", "start-processing", "ship", "deliver", "cancel"):
        operation = paths[f"/api/v1/orders/{{id}}/{action}/"]["post"]
        assert {"200", "403", "409"} <= set(operation["responses"]), action
        refused = operation["responses"]["409"]["content"]["application/json"]
        assert refused["schema"]["$ref"].endswith("/TransitionRefused")
        assert refused["examples"]
    assert "post" not in paths["/api/v1/orders/"]
    assert "never creates" in paths["/api/v1/orders/"]["get"]["description"]
    enums = schema["components"]["schemas"]
    assert "QuoteStatusEnum" in enums and "OrderStatusEnum" in enums
