"""One API, one way: every list paginated alike, every error body in one of the documented
shapes, whatever the app behind the resource.

- Lists: `{"count", "next", "previous", "results"}`, `?page=` and `?page_size=` (at most 100);
  a page past the end is a 404 `{"detail"}`, a bad `page_size` a 400 `{"errors"}`.
- 400: `{"errors": {"<field>": ["message"]}}`.
- 401, 404, 405: `{"detail": "message"}`.
- 403: `{"detail"}` from the permission layer, or a refused action's
  `{"errors": {"status": [...]}, "state", "allowed"}`; 409: the latter (`state` and `allowed`
  where the object has a workflow).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sales.models import Customer
from tests.api.support import api_client, seed
from tests.conftest import host_of, in_schema, login
from tests.sales import factories

pytestmark = pytest.mark.django_db

LIST_KEYS = {"count", "next", "previous", "results"}


def is_messages(errors) -> bool:
    return (isinstance(errors, dict) and bool(errors)
            and all(isinstance(key, str) and isinstance(messages, list) and messages
                    and all(isinstance(m, str) and m for m in messages)
                    for key, messages in errors.items()))


def shape(status: int, body) -> str | None:
    """The name of the documented shape `body` has for `status`, or None."""
    if not isinstance(body, dict):
        return None
    if set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]:
        return "detail" if status != 400 else None
    if set(body) == {"errors"} and is_messages(body["errors"]):
        return "errors" if status in (400, 403, 409) else None
    if (set(body) == {"errors", "state", "allowed"} and is_messages(body["errors"])
            and isinstance(body["state"], str) and isinstance(body["allowed"], list)):
        return "refusal" if status in (403, 409) else None
    return None


@pytest.fixture
def seeded(legal_shop):
    return seed(legal_shop)


def list_operations(schema: dict) -> list[tuple[str, dict]]:
    """GET operations answering many objects (a paginated page, or a bare array)."""
    components = schema["components"]["schemas"]

    def resolved(node: dict) -> dict:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[-1]]
        return node

    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        body = resolved(get["responses"]["200"].get("content", {}).get(
            "application/json", {}).get("schema", {}))
        if body.get("type") == "array" or "results" in body.get("properties", {}):
            found.append((path, get))
    return found


def concrete(path: str, seeded) -> str:
    """A template path with the ids of seeded objects that have something to list."""
    values = {"{product_pk}": seeded.nested["images"]["product_pk"],
              "{id}": (seeded.nested["addresses"]["id"] if "/addresses/" in path
                       else seeded.ids["products"][0])}
    for name, value in values.items():
        path = path.replace(name, str(value))
    return path


def test_every_list_is_paginated_the_same_way(legal_shop, seeded, shop_client):
    schema = shop_client.get("/api/schema/?format=json").json()
    lists = list_operations(schema)
    assert len(lists) >= 20, "every collection of every app"
    api = api_client(legal_shop)
    customer = seeded.ids["customers"][0]
    required = {"subject_type": "sales.customer", "subject_id": customer}  # /comments/

    for path, operation in lists:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"page", "page_size"} <= names, f"{path} documents its pagination"
        url = concrete(path, seeded)
        needed = {p["name"] for p in operation.get("parameters", []) if p.get("required")}
        query = {name: value for name, value in required.items() if name in needed}

        page = api.get(url, {**query, "page_size": 1})
        assert page.status_code == 200, (path, page.content)
        body = page.json()
        assert set(body) == LIST_KEYS, path
        assert len(body["results"]) <= 1 and body["previous"] is None, path
        if body["count"] > 1:
            assert "page=2" in body["next"] and "page_size=1" in body["next"], path

        past_the_end = api.get(url, {**query, "page": 9999})
        assert past_the_end.status_code == 404, path
        assert shape(404, past_the_end.json()) == "detail", path
        bad_size = api.get(url, {**query, "page_size": "lots"})
        assert bad_size.status_code == 400, path
        assert list(bad_size.json()["errors"]) == ["page_size"], path


def test_a_page_is_at_most_a_hundred_rows(legal_shop, seeded):
    with in_schema(legal_shop):
        Customer.objects.bulk_create([Customer(email=f"c{n}@example.test", last_name=f"C{n}")
                                      for n in range(101)])
    page = api_client(legal_shop).get("/api/v1/customers/", {"page_size": 500}).json()
    assert page["count"] > 100 and len(page["results"]) == 100


def as_role(shop, role: str) -> Client:
    with in_schema(shop):
        user = factories.staff(role)
    return api_client(shop, user)


def send(client: Client, method: str, url: str, data=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


# (app, expected status, who, method, url, body): each app's own refusals.
def refusals(seeded) -> list[tuple[str, int, str, str, str, dict | None]]:
    draft_quote, sent_quote = seeded.ids["quotes"]
    draft_invoice, issued_invoice = seeded.ids["invoices"]
    product, milestone, ticket = (seeded.ids["products"][0], seeded.ids["milestones"][0],
                                  seeded.ids["tickets"][0])
    return [
        ("catalog", 400, "owner", "post", "/api/v1/products/", {"kind": "goods", "sku": ""}),
        ("catalog", 403, "accountant", "post", "/api/v1/products/",
         {"kind": "service", "sku": "X", "name": "X", "net_price": "1.00"}),
        ("catalog", 404, "owner", "get", "/api/v1/products/999999/", None),
        ("catalog", 405, "owner", "delete", f"/api/v1/products/{product}/", None),
        ("sales", 400, "owner", "post", "/api/v1/customers/", {"email": "not an email"}),
        ("sales", 403, "warehouse", "post", f"/api/v1/quotes/{draft_quote}/send/", {}),
        ("sales", 404, "owner", "get", "/api/v1/quotes/999999/", None),
        ("sales", 409, "owner", "post", f"/api/v1/quotes/{draft_quote}/accept/",
         {"name": "Paul Langevin", "accept_terms": True}),
        ("sales", 409, "owner", "post", f"/api/v1/quotes/{sent_quote}/send/", {}),
        ("billing", 400, "owner", "post", "/api/v1/payments/record/", {}),
        ("billing", 403, "sales", "post", f"/api/v1/invoices/{draft_invoice}/issue/", {}),
        ("billing", 404, "owner", "get", "/api/v1/invoices/999999/", None),
        ("billing", 409, "owner", "post", f"/api/v1/invoices/{issued_invoice}/issue/", {}),
        ("streams", 400, "owner", "post", "/api/v1/milestones/", {}),
        ("streams", 403, "warehouse", "post", f"/api/v1/milestones/{milestone}/start/", {}),
        ("streams", 404, "owner", "get", "/api/v1/milestones/999999/", None),
        ("streams", 409, "owner", "post", f"/api/v1/tickets/{ticket}/reopen/", {}),
        ("accounts", 400, "owner", "get", "/api/v1/staff/?page_size=0", None),
        ("accounts", 401, "nobody", "get", "/api/v1/me/", None),
        ("accounts", 403, "customer", "get", "/api/v1/me/", None),
        ("accounts", 404, "owner", "get", "/api/v1/staff/999999/", None),
        ("api", 404, "owner", "get", "/api/v1/no-such-thing/", None),
        ("api", 404, "owner", "get", "/api/v1/products/not-a-number/", None),
    ]


def test_every_app_refuses_in_the_documented_shapes(legal_shop, seeded):
    clients = {"owner": api_client(legal_shop), "nobody": Client(HTTP_HOST=host_of(legal_shop))}
    with in_schema(legal_shop):
        user = Customer.objects.get(pk=seeded.ids["customers"][0]).user
    clients["customer"] = login(Client(HTTP_HOST=host_of(legal_shop)), legal_shop, user)
    wrong = []
    for app, status, who, method, url, data in refusals(seeded):
        if who not in clients:
            clients[who] = as_role(legal_shop, who)
        response = send(clients[who], method, url, data)
        body = response.json() if response["Content-Type"].startswith("application/json") \
            else response.content[:200]
        if response.status_code != status or shape(status, body) is None:
            wrong.append((app, method, url, who, status, response.status_code, body))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_body_that_is_not_json_is_a_400_with_errors(legal_shop):
    response = api_client(legal_shop).post("/api/v1/customers/", "{not json",
                                           content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["non_field_errors"]
    assert "JSON parse error" in response.json()["errors"]["non_field_errors"][0]


def test_nested_errors_have_flat_keys(legal_shop, seeded):
    response = api_client(legal_shop).post("/api/v1/quotes/", {
        "customer": seeded.ids["customers"][0],
        "lines": [{"product": seeded.ids["products"][0], "quantity": "1"},
                  {"product": seeded.ids["products"][0], "quantity": "lots"}]},
        content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["lines.1.quantity"]


def test_an_api_path_without_its_slash_says_so(legal_shop):
    response = api_client(legal_shop).get("/api/v1/customers")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Not found: API paths end with a slash (/api/v1/customers/)."}
