"""Catalog REST API: products of every kind through the services, errors, roles, stock,
isolation between shops, constant list cost, and the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    BaseProduct,
    Category,
    Project,
    SpecKind,
    StockLevel,
    StockMovement,
)
from catalog.services.categories import category_save, product_type_save, spec_definition_add
from catalog.services.products import product_create
from catalog.services.projects import project_save
from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.models import Plan, Shop
from tests.conftest import host_of, in_schema, owner_of
from tests.tenants.test_staff import make_staff

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def api_client(shop: Shop, user: User | None = None) -> Client:
    """A client on `shop`'s host carrying a staff token of `user` (the owner by default)."""
    user = user or owner_of(shop)
    with in_schema(shop):
        _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def api(shop) -> Client:
    return api_client(shop)


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def project(shop: Shop) -> Project:
    with in_schema(shop):
        return Project.objects.filter(slug="les-jardins").first() or project_save(
            data={"name": "Les Jardins"})


def goods(shop: Shop, sku: str = "BIKE-1", stock: str = "5") -> BaseProduct:
    with in_schema(shop):
        return product_create(kind="goods", initial_stock=Decimal(stock), data={
            "sku": sku, "name": f"Bike {sku}", "net_price": Decimal("100.00")})


def payload(kind: str, shop: Shop) -> dict:
    common = {"sku": f"SKU-{kind}", "name": f"A {kind}", "net_price": "100.00"}
    return {
        "goods": {**common, "kind": "goods", "weight_kg": "9.5", "initial_stock": "7",
                  "description": '<p>Light <script>alert(1)</script><b>frame</b></p>'},
        "service": {**common, "kind": "service", "unit": "hour", "duration_minutes": 90},
        "lot": {**common, "kind": "lot", "project": project(shop).pk, "lot_number": "A01",
                "surface_m2": "64.5", "rooms": 3, "floor": 1, "orientation": "S"},
        "vehicle": {**common, "kind": "vehicle", "make": "Volkswagen", "model": "Golf",
                    "year": 2019, "mileage_km": 42000, "vin": "wvwzzz1jzxw000001"},
    }[kind]


EXPECTED = {
    "goods": {"weight_kg": "9.500", "description": "<p>Light <b>frame</b></p>",
              "stock": {"on_hand": "7.000", "reserved": "0.000", "available": "7.000"}},
    "service": {"unit": "hour", "duration_minutes": 90},
    "lot": {"lot_number": "A01", "surface_m2": "64.50", "rooms": 3, "orientation": "S",
            "availability": "available", "option_expires_at": None},
    "vehicle": {"make": "Volkswagen", "year": 2019, "vin": "WVWZZZ1JZXW000001"},
}


@pytest.mark.parametrize("kind", ["goods", "service", "lot", "vehicle"])
def test_each_kind_is_created_and_read_back_with_its_own_fields(api, shop, kind):
    response = post(api, PRODUCTS, payload(kind, shop))

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["kind"] == kind and created["status"] == "active"
    assert created["slug"] == f"a-{kind}" and created["net_price"] == "100.00"
    assert Decimal(created["gross_price"]) > Decimal("100.00")  # the default VAT rate applies
    read = api.get(f"{PRODUCTS}{created['id']}/").json()
    assert read == created
    assert read.items() >= EXPECTED[kind].items()
    assert "initial_stock" not in read


def test_list_shows_every_kind_with_its_fields(api, shop):
    for kind in ("goods", "service", "lot", "vehicle"):
        post(api, PRODUCTS, payload(kind, shop))

    rows = {row["kind"]: row for row in api.get(PRODUCTS).json()["results"]}

    assert rows["goods"]["stock"]["on_hand"] == "7.000"
    assert rows["service"]["duration_minutes"] == 90
    assert rows["lot"]["availability"] == "available"
    assert rows["vehicle"]["vin"] == "WVWZZZ1JZXW000001"


def test_a_duplicate_sku_is_refused_on_the_sku_field(api, shop):
    goods(shop, sku="BIKE-1")

    response = post(api, PRODUCTS, {**payload("goods", shop), "sku": "BIKE-1"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["sku"]
    with in_schema(shop):
        assert BaseProduct.objects.filter(sku="BIKE-1").count() == 1


def test_a_malformed_vin_is_refused_on_the_vin_field(api, shop):
    response = post(api, PRODUCTS, {**payload("vehicle", shop), "vin": "123"})

    assert response.status_code == 400
    assert "17 characters" in response.json()["errors"]["vin"][0]


def test_a_lot_needs_a_project(api, shop):
    data = payload("lot", shop)
    del data["project"]

    response = post(api, PRODUCTS, data)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["project"]


def test_unknown_specifications_are_refused_on_the_specs_field(api, shop):
    with in_schema(shop):
        bike = product_type_save(name="Bike")
        spec_definition_add(product_type=bike, label="Gears", kind=SpecKind.NUMBER)

    response = post(api, PRODUCTS, {**payload("goods", shop), "product_type": bike.pk,
                                    "specs": {"gears": "22", "colour": "red"}})

    assert response.status_code == 400
    assert "colour" in response.json()["errors"]["specs"][0]


def test_an_unknown_kind_is_refused_on_the_kind_field(api, shop):
    response = post(api, PRODUCTS, {**payload("goods", shop), "kind": "boat"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["kind"]


def test_update_goes_through_the_service_and_keeps_the_kind(api, shop):
    product = goods(shop)

    changed = api.patch(f"{PRODUCTS}{product.pk}/", {"name": "Gravel bike",
                                                     "description": "<i onclick=x()>new</i>"},
                        content_type="application/json")
    refused = api.patch(f"{PRODUCTS}{product.pk}/", {"kind": "service"},
                        content_type="application/json")

    assert changed.status_code == 200
    assert changed.json()["name"] == "Gravel bike"
    assert changed.json()["description"] == "<i>new</i>"
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["kind"]
    with in_schema(shop):
        assert BaseProduct.objects.get(pk=product.pk).kind == "goods"


def test_the_plan_product_limit_gives_a_clear_error(api, shop):
    goods(shop)
    Plan.objects.filter(pk=shop.plan_id).update(max_products=1)

    response = post(api, PRODUCTS, payload("service", shop))

    assert response.status_code == 400
    message = response.json()["errors"]["non_field_errors"][0]
    assert "Your plan allows 1 active products" in message
    with in_schema(shop):
        assert BaseProduct.objects.count() == 1


def test_archive_restore_and_duplicate(api, shop):
    product = goods(shop)

    archived = post(api, f"{PRODUCTS}{product.pk}/archive/")
    restored = post(api, f"{PRODUCTS}{product.pk}/restore/")
    copy = post(api, f"{PRODUCTS}{product.pk}/duplicate/")

    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert copy.status_code == 201
    assert copy.json()["sku"] == "BIKE-1-COPY" and copy.json()["id"] != product.pk
    assert copy.json()["stock"]["on_hand"] == "0.000"


def test_sales_staff_can_read_products_but_not_create_them(shop):
    goods(shop)
    sales = api_client(shop, make_staff(shop, "sales@example.test", "sales"))

    listed = sales.get(PRODUCTS)
    created = post(sales, PRODUCTS, payload("service", shop))

    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert created.status_code == 403
    with in_schema(shop):
        assert BaseProduct.objects.count() == 1


def test_sales_staff_cannot_adjust_stock_but_warehouse_can(shop):
    product = goods(shop, stock="5")
    sales = api_client(shop, make_staff(shop, "sales@example.test", "sales"))
    warehouse = api_client(shop, make_staff(shop, "stock@example.test", "warehouse"))
    url = f"{PRODUCTS}{product.pk}/stock-adjustment/"

    assert post(sales, url, {"counted": "3", "reason": "count"}).status_code == 403
    response = post(warehouse, url, {"counted": "3", "reason": "Inventory count"})

    assert response.status_code == 200
    assert response.json()["on_hand"] == "3.000"


def test_a_stock_adjustment_without_reason_is_refused_and_records_nothing(api, shop):
    product = goods(shop, stock="5")

    response = post(api, f"{PRODUCTS}{product.pk}/stock-adjustment/", {"counted": "2"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    with in_schema(shop):
        assert StockLevel.objects.get(pk=product.pk).on_hand == 5
        assert list(StockMovement.objects.filter(product_id=product.pk)
                    .values_list("kind", flat=True)) == ["receipt"]


def test_stock_receipt_and_adjustment_show_in_the_movements(api, shop):
    product = goods(shop, stock="5")

    received = post(api, f"{PRODUCTS}{product.pk}/stock-receipt/",
                    {"quantity": "10", "reason": "Delivery", "reference": "BL-1"})
    adjusted = post(api, f"{PRODUCTS}{product.pk}/stock-adjustment/",
                    {"counted": "12", "reason": "Inventory count"})
    movements = api.get(f"{PRODUCTS}{product.pk}/movements/").json()

    assert received.json()["on_hand"] == "15.000"
    assert adjusted.json() == {**adjusted.json(), "on_hand": "12.000", "available": "12.000"}
    assert movements["count"] == 3
    latest = movements["results"][0]
    assert (latest["kind"], latest["on_hand_delta"], latest["reason"]) == (
        "adjustment", "-3.000", "Inventory count")
    assert latest["by"]["email"] == "owner@alpha.localhost"


def test_a_lot_has_no_stock_to_receive(api, shop):
    lot = post(api, PRODUCTS, payload("lot", shop)).json()

    response = post(api, f"{PRODUCTS}{lot['id']}/stock-receipt/", {"quantity": "1"})

    assert response.status_code == 400
    assert "not stocked" in response.json()["errors"]["non_field_errors"][0]


def test_a_shops_products_are_absent_from_another_shops_list(shop, other_shop):
    goods(shop, sku="ALPHA-ONLY")
    goods(other_shop, sku="BETA-1")

    rows = api_client(other_shop).get(PRODUCTS).json()["results"]

    assert [row["sku"] for row in rows] == ["BETA-1"]


def test_list_filters_search_and_ordering(api, shop):
    with in_schema(shop):
        bikes = category_save(name="Bikes")
    goods(shop, sku="ROAD-1")
    post(api, PRODUCTS, {**payload("service", shop), "name": "Repair", "net_price": "40.00",
                         "category": bikes.pk})
    archived = goods(shop, sku="OLD-1")
    post(api, f"{PRODUCTS}{archived.pk}/archive/")

    def skus(query: str) -> list[str]:
        return [row["sku"] for row in api.get(f"{PRODUCTS}?{query}").json()["results"]]

    assert skus("kind=service") == ["SKU-service"]
    assert skus("status=archived") == ["OLD-1"]
    assert skus(f"category={bikes.pk}") == ["SKU-service"]
    assert skus("q=road") == ["ROAD-1"]
    assert skus("ordering=-net_price&status=active") == ["ROAD-1", "SKU-service"]
    bad = api.get(f"{PRODUCTS}?kind=boat&ordering=colour")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"kind", "ordering"}


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PRODUCTS)
    assert response.status_code == 200
    return len(queries)


def _mixed_products(shop: Shop, start: int, count: int) -> None:
    lots = project(shop)
    with in_schema(shop):
        for n in range(start, start + count):
            common = {"sku": f"P-{n:03d}", "name": f"Product {n:03d}",
                      "net_price": Decimal("10.00")}
            kind = ("goods", "service", "lot", "vehicle")[n % 4]
            extra = {"goods": {}, "service": {"duration_minutes": 30},
                     "lot": {"project": lots, "lot_number": f"L{n}", "surface_m2": Decimal("50")},
                     "vehicle": {"make": "Renault", "model": "Clio", "year": 2020,
                                 "vin": f"VF1RJA00{n:09d}"}}[kind]
            product_create(kind=kind, data={**common, **extra}, initial_stock=Decimal("2"))


def test_the_product_list_costs_the_same_queries_for_3_or_30_products(api, shop):
    _mixed_products(shop, 0, 3)
    api.get(PRODUCTS)  # the token's first use is recorded once, not on every request
    few = _list_queries(api)
    _mixed_products(shop, 3, 27)

    many = _list_queries(api)

    assert few == many <= 10, (few, many)


def test_reference_data_is_listed(api, shop):
    with in_schema(shop):
        category_save(name="Bikes")
        bike = product_type_save(name="Bike")
        spec_definition_add(product_type=bike, label="Gears", kind=SpecKind.NUMBER, required=True)
    lots = project(shop)

    categories = api.get("/api/v1/categories/").json()["results"]
    types = api.get("/api/v1/product-types/").json()["results"]
    projects = api.get(f"/api/v1/projects/{lots.pk}/").json()
    rates = api.get("/api/v1/tax-rates/").json()["results"]

    assert [c["path"] for c in categories] == ["bikes"]
    assert types[0]["specs"][0] == {"code": "gears", "label": "Gears", "kind": "number",
                                    "unit": "", "choices": [], "required": True, "position": 0}
    assert projects["name"] == "Les Jardins"
    assert sum(rate["is_default"] for rate in rates) == 1
    assert post(api, "/api/v1/tax-rates/", {"name": "x"}).status_code == 405


def test_categories_are_created_moved_and_deleted_through_the_service(api, shop):
    bikes = post(api, "/api/v1/categories/", {"name": "Bikes"}).json()
    road = post(api, "/api/v1/categories/", {"name": "Road bikes", "parent": bikes["id"]})
    assert road.status_code == 201 and road.json()["path"] == "bikes/road-bikes"

    renamed = api.patch(f"/api/v1/categories/{bikes['id']}/", {"slug": "cycles"},
                        content_type="application/json")
    cycle = api.patch(f"/api/v1/categories/{bikes['id']}/", {"parent": road.json()["id"]},
                      content_type="application/json")
    not_empty = api.delete(f"/api/v1/categories/{bikes['id']}/")
    deleted = api.delete(f"/api/v1/categories/{road.json()['id']}/")

    assert renamed.json()["name"] == "Bikes" and renamed.json()["path"] == "cycles"
    assert cycle.status_code == 400 and list(cycle.json()["errors"]) == ["parent"]
    assert not_empty.status_code == 400 and "sub-categories" in str(not_empty.json()["errors"])
    assert deleted.status_code == 204
    with in_schema(shop):
        assert list(Category.objects.values_list("path", flat=True)) == ["cycles"]


def test_a_taken_category_slug_is_refused_on_the_slug_field(api):
    post(api, "/api/v1/categories/", {"name": "Bikes"})

    response = post(api, "/api/v1/categories/", {"name": "Bikes"})

    assert response.status_code == 400 and list(response.json()["errors"]) == ["slug"]


def test_product_types_and_their_specifications_are_edited_through_the_service(api, shop):
    bike = post(api, "/api/v1/product-types/", {"name": "Bike"}).json()
    url = f"/api/v1/product-types/{bike['id']}/"

    added = post(api, f"{url}specs/", {"label": "Frame size", "kind": "choice",
                                        "choices": ["S", "M", "L"], "required": True})
    refused = post(api, f"{url}specs/", {"label": "Colour", "kind": "choice", "choices": ["red"]})
    renamed = api.patch(url, {"name": "Bicycle"}, content_type="application/json")

    assert added.status_code == 201 and added.json()["code"] == "frame_size"
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["choices"]
    assert renamed.json()["name"] == "Bicycle"
    assert [spec["code"] for spec in renamed.json()["specs"]] == ["frame_size"]
    assert api.delete(f"{url}specs/frame_size/").status_code == 204
    assert api.get(url).json()["specs"] == []
    assert post(api, "/api/v1/product-types/", {"name": "Bicycle"}).json()["errors"]["name"]


def test_sales_staff_can_read_categories_but_not_change_them(shop):
    sales = api_client(shop, make_staff(shop, "sales@example.test", "sales"))

    assert sales.get("/api/v1/categories/").status_code == 200
    assert post(sales, "/api/v1/categories/", {"name": "Bikes"}).status_code == 403
    assert post(sales, "/api/v1/product-types/", {"name": "Bike"}).status_code == 403


def test_anonymous_requests_are_refused(shop_client):
    assert shop_client.get(PRODUCTS).status_code == 401
    assert shop_client.get("/api/v1/tax-rates/").status_code == 401


def test_schema_documents_the_product_endpoints_with_the_kind_discriminator(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in ("/api/v1/products/", "/api/v1/products/{id}/",
                 "/api/v1/products/{id}/stock-adjustment/", "/api/v1/products/{id}/movements/"):
        assert path in paths
    product = schema["components"]["schemas"]["Product"]
    assert product["discriminator"]["propertyName"] == "kind"
    assert set(product["discriminator"]["mapping"]) == {"goods", "service", "lot", "vehicle"}
    create = paths["/api/v1/products/"]["post"]["requestBody"]["content"]["application/json"]
    assert {example["value"]["kind"] for example in create["examples"].values()} == {"goods", "lot"}


# --- programmes (projects): written through catalog.services.projects ---------------------------

PROJECTS = "/api/v1/projects/"


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def test_a_programme_is_created_with_a_slug_and_the_default_status(api, shop):
    response = post(api, PROJECTS, {
        "name": "Les Jardins de la Saône", "city": "Lyon", "delivery_date": "2027-06-30",
        "description": '<p>48 flats <script>alert(1)</script><b>RE2020</b></p>'})

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["slug"] == "les-jardins-de-la-saone" and created["status"] == "planning"
    assert created["description"] == "<p>48 flats <b>RE2020</b></p>"
    assert api.get(f"{PROJECTS}{created['id']}/").json() == created
    with in_schema(shop):
        assert Project.objects.get(pk=created["id"]).city == "Lyon"


def test_a_programme_is_updated_field_by_field_and_keeps_its_slug(api, shop):
    lots = project(shop)
    url = f"{PROJECTS}{lots.pk}/"

    changed = patch(api, url, {"status": "under_construction", "delivery_date": "2027-09-30"})
    replaced = api.put(url, {"name": "Les Jardins II", "city": "Lyon"},
                       content_type="application/json")

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["status"], changed.json()["name"]) == ("under_construction",
                                                                  "Les Jardins")
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["name"] == "Les Jardins II" and replaced.json()["slug"] == lots.slug
    assert replaced.json()["delivery_date"] == "2027-09-30", "left out: kept"


def test_an_invalid_programme_is_refused_field_by_field(api, shop):
    missing = post(api, PROJECTS, {"city": "Lyon"})
    blank = post(api, PROJECTS, {"name": "   "})
    bad_status = post(api, PROJECTS, {"name": "X", "status": "sold_out"})
    bad_date = patch(api, f"{PROJECTS}{project(shop).pk}/", {"delivery_date": "next spring"})

    for response in (missing, blank, bad_status, bad_date):
        assert response.status_code == 400
    assert missing.json() == {"errors": {"name": ["This field is required."]}}
    assert list(blank.json()["errors"]) == ["name"]
    assert list(bad_status.json()["errors"]) == ["status"]
    assert list(bad_date.json()["errors"]) == ["delivery_date"]
    with in_schema(shop):
        assert list(Project.objects.values_list("name", flat=True)) == ["Les Jardins"]


def test_a_programme_without_lots_is_deleted_one_with_lots_is_refused(api, shop):
    with in_schema(shop):
        empty = project_save(data={"name": "Empty"})
    lots = project(shop)
    with in_schema(shop):
        product_create(kind="lot", data={"sku": "L-1", "name": "Lot 1", "net_price": Decimal("1"),
                                         "project": lots, "lot_number": "1",
                                         "surface_m2": Decimal("40")})

    refused = api.delete(f"{PROJECTS}{lots.pk}/")
    deleted = api.delete(f"{PROJECTS}{empty.pk}/")

    assert refused.status_code == 400
    assert refused.json() == {"errors": {"non_field_errors": [
        "This programme has 1 lot: move or delete it before deleting the programme."]}}
    assert deleted.status_code == 204
    with in_schema(shop):
        assert list(Project.objects.values_list("name", flat=True)) == ["Les Jardins"]


def test_roles_without_the_project_permissions_cannot_write_programmes(shop):
    lots = project(shop)
    url = f"{PROJECTS}{lots.pk}/"
    sales = api_client(shop, make_staff(shop, "sales@example.test", "sales"))
    manager = api_client(shop, make_staff(shop, "manager@example.test", "manager"))

    assert sales.get(url).status_code == 200
    assert post(sales, PROJECTS, {"name": "New"}).status_code == 403
    assert patch(sales, url, {"name": "Renamed"}).status_code == 403
    assert sales.delete(url).status_code == 403
    assert patch(manager, url, {"city": "Lyon"}).status_code == 200
    assert manager.delete(url).status_code == 403, "deleting is the owner's (delete_project)"
    with in_schema(shop):
        assert Project.objects.get().name == "Les Jardins"


def test_a_shops_programmes_are_invisible_from_another_shop(shop, other_shop):
    lots = project(shop)
    url = f"{PROJECTS}{lots.pk}/"
    other = api_client(other_shop)

    assert other.get(PROJECTS).json()["results"] == []
    assert other.get(url).status_code == 404
    assert patch(other, url, {"name": "Taken"}).status_code == 404
    assert other.delete(url).status_code == 404
    with in_schema(shop):
        assert Project.objects.get(pk=lots.pk).name == "Les Jardins"


def test_schema_documents_programme_writes_with_examples(shop_client):
    paths = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {"get", "post"} <= set(paths[PROJECTS])
    assert {"get", "put", "patch", "delete"} <= set(paths[f"{PROJECTS}{{id}}/"])
    create = paths[PROJECTS]["post"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    assert "400" in create["responses"] and "400" in paths[f"{PROJECTS}{{id}}/"]["delete"][
        "responses"]
