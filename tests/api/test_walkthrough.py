"""docs/api.md's walkthrough, step by step, as a client would run it: a customer, a product,
a quote sent and accepted (which places the order), the order confirmed, invoiced, issued and
paid; then the order's timeline. If this test changes, the guide changes with it."""

from __future__ import annotations

import pytest

from tests.api.support import api_client

pytestmark = pytest.mark.django_db


def test_the_guide_walkthrough_from_customer_to_paid_invoice(legal_shop):
    api = api_client(legal_shop)

    def post(url: str, body: dict | None = None, code: int = 200) -> dict:
        response = api.post(url, body or {}, content_type="application/json")
        assert response.status_code == code, (url, response.content)
        return response.json()

    me = api.get("/api/v1/me/").json()
    assert me["shop"]["currency"] == "EUR" and me["user"]["role"] == "owner"

    customer = post("/api/v1/customers/", {
        "kind": "person", "first_name": "Marie", "last_name": "Curie",
        "email": "marie@example.fr"}, 201)
    bike = post("/api/v1/products/", {
        "kind": "goods", "sku": "BIKE-ROAD-54", "name": "Road bike 54 cm",
        "net_price": "749.00", "initial_stock": "10"}, 201)
    assert bike["stock"]["available"] == "10.000"

    quote = post("/api/v1/quotes/", {"customer": customer["id"], "lines": [
        {"product": bike["id"], "quantity": "2"},
        {"name": "Delivery and assembly", "quantity": "1", "unit_net": "49.50",
         "tax_rate": "20.00"}]}, 201)
    assert (quote["status"], quote["net_total"], quote["gross_total"]) == (
        "draft", "1547.50", "1857.00")
    assert quote["allowed_actions"] == ["send", "cancel"]

    sent = post(f"/api/v1/quotes/{quote['id']}/send/")
    assert sent["status"] == "sent"
    accepted = post(f"/api/v1/quotes/{quote['id']}/accept/",
                    {"name": "Marie Curie", "accept_terms": True})
    assert accepted["status"] == "converted" and accepted["order"]["number"]
    order_id = accepted["order"]["id"]

    again = api.post(f"/api/v1/quotes/{quote['id']}/send/", {},
                     content_type="application/json")
    assert again.status_code == 409
    assert again.json()["state"] == "converted" and again.json()["allowed"] == []

    confirmed = post(f"/api/v1/orders/{order_id}/confirm/")
    assert confirmed["status"] == "confirmed"

    invoice = post("/api/v1/invoices/", {"order": order_id}, 201)
    assert (invoice["status"], invoice["number"]) == ("draft", None)
    issued = post(f"/api/v1/invoices/{invoice['id']}/issue/")
    assert issued["status"] == "issued" and issued["number"].startswith("F-")

    payment = post("/api/v1/payments/record/", {
        "invoice": invoice["id"], "method": "bank_transfer", "amount": issued["gross_total"],
        "reference": "VIR 2026-118"}, 201)
    assert payment["status"] == "succeeded" and payment["invoice"]["status"] == "paid"

    timeline = api.get("/api/v1/events/", {"subject_type": "sales.order",
                                           "subject_id": order_id}).json()
    assert {"confirm"} <= {event["verb"] for event in timeline["results"]}
