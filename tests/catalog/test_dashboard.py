"""Staff manage the catalog from the dashboard: every kind, stock, categories, types, programmes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation
from django.utils.formats import number_format

from catalog.models import (
    BaseProduct,
    Category,
    Product,
    ProductType,
    Project,
    RealEstateLot,
    ServiceProduct,
    StockLevel,
    StockMovement,
    TaxRate,
    Vehicle,
)
from catalog.services.products import product_create
from tests.conftest import host_of, in_schema, login
from tests.tenants.test_staff import make_staff

pytestmark = pytest.mark.django_db


def rate_id(shop, rate="20.00"):
    with in_schema(shop):
        return TaxRate.objects.get(rate=Decimal(rate)).pk


def test_every_kind_is_created_through_the_dashboard(owner_client, shop):
    with in_schema(shop):
        project = Project.objects.create(name="Les Jardins", slug="les-jardins")
    common = {"tax_rate": rate_id(shop), "unit": "unit", "description": "<p>Nice</p>"}
    forms = {
        "goods": {"name": "Road bike", "sku": "BIKE-1", "net_price": "800.00", "initial_stock": "4",
                  "low_stock_threshold": "1"},
        "service": {"name": "Bike fitting", "sku": "FIT-1", "net_price": "60", "unit": "hour",
                    "duration_minutes": "90"},
        "lot": {"name": "Lot A01", "sku": "LOT-A01", "net_price": "250000", "project": project.pk,
                "lot_number": "A01", "surface_m2": "64.5", "rooms": "3", "floor": "1",
                "parking_spaces": "1"},
        "vehicle": {"name": "Peugeot 208", "sku": "CAR-1", "net_price": "15000", "make": "Peugeot",
                    "model": "208", "year": "2021", "mileage_km": "32000",
                    "vin": "VF3ABCDEF12345678", "initial_stock": "1"},
    }
    for kind, data in forms.items():
        response = owner_client.post(f"/dashboard/catalog/new/?kind={kind}",
                                     {**common, **data, "kind": kind})
        assert response.status_code == 302, (kind, response.context and response.context["form"].errors)

    with in_schema(shop):
        assert Product.objects.get(sku="BIKE-1").stock.on_hand == 4
        assert ServiceProduct.objects.get(sku="FIT-1").duration_minutes == 90
        lot = RealEstateLot.objects.get(sku="LOT-A01")
        assert (lot.project, lot.availability) == (project, "available")
        assert Vehicle.objects.get(sku="CAR-1").vin == "VF3ABCDEF12345678"
        assert {type(p) for p in BaseProduct.objects.all()} == {Product, ServiceProduct,
                                                                RealEstateLot, Vehicle}


def test_kind_is_chosen_first(owner_client):
    html = owner_client.get("/dashboard/catalog/new/").content.decode()
    for kind in ("goods", "service", "lot", "vehicle"):
        assert f'href="?kind={kind}"' in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"vin": "123"}, "vin", "17 characters"),
    ({"vin": "1HGCM82633A004352"}, "vin", None),  # valid North-American VIN: accepted
    ({"vin": "1HGCM82635A004352"}, "vin", "check digit"),
    ({"net_price": "-5"}, "net_price", "greater than or equal"),
])
def test_vehicle_form_errors_are_shown_next_to_the_field(owner_client, shop, data, field, message):
    base = {"kind": "vehicle", "name": "Car", "sku": "CAR-X", "net_price": "100",
            "tax_rate": rate_id(shop), "unit": "unit", "make": "Honda", "model": "Accord",
            "year": "2003", "mileage_km": "1", "vin": "VF3ABCDEF12345678"}
    response = owner_client.post("/dashboard/catalog/new/?kind=vehicle", {**base, **data})
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    with in_schema(shop):
        assert not Vehicle.objects.exists()


def test_duplicate_sku_is_refused_on_the_form(owner_client, shop):
    with in_schema(shop):
        product_create(kind="service", data={"sku": "X-1", "name": "One", "net_price": Decimal(1)})
    response = owner_client.post("/dashboard/catalog/new/?kind=service", {
        "kind": "service", "name": "Two", "sku": "X-1", "net_price": "2",
        "tax_rate": rate_id(shop), "unit": "unit"})
    assert response.status_code == 422
    assert "sku" in response.context["form"].errors


def test_plan_product_limit_is_enforced_with_a_clear_message(owner_client, shop):
    from tenants.models import Plan

    Plan.objects.filter(pk=shop.plan_id).update(max_products=1)
    with in_schema(shop):
        product_create(kind="service", data={"sku": "S-1", "name": "One", "net_price": Decimal(1)})
    response = owner_client.post("/dashboard/catalog/new/?kind=service", {
        "kind": "service", "name": "Two", "sku": "S-2", "net_price": "2",
        "tax_rate": rate_id(shop), "unit": "unit"})
    assert response.status_code == 422
    assert "Your plan allows 1 active products" in response.content.decode()


def _many(shop, n: int) -> None:
    with in_schema(shop):
        project = Project.objects.get_or_create(slug="p", defaults={"name": "P"})[0]
        for i in range(n):
            kind = ("goods", "service", "lot", "vehicle")[i % 4]
            data = {"sku": f"SKU-{n}-{i}", "name": f"Item {i:03d}", "net_price": Decimal("10")}
            if kind == "lot":
                data.update(project=project, lot_number=f"{n}-{i}", surface_m2=Decimal(50))
            if kind == "vehicle":
                data.update(make="Renault", model="Clio", year=2020, vin=f"VF1{n:03d}{i:011d}")
            product_create(kind=kind, data=data, initial_stock=Decimal(3) if kind == "goods" else None)


def test_product_list_filters_sorts_and_pages(owner_client, shop):
    _many(shop, 30)
    page = owner_client.get("/dashboard/catalog/", {"sort": "-name"})
    names = [row["name"] for row in page.context["rows"]]
    assert len(names) == 25 and names == sorted(names, reverse=True)
    assert {row["kind"] for row in page.context["rows"]} == {"goods", "service", "lot", "vehicle"}
    lots = owner_client.get("/dashboard/catalog/", {"kind": "lot"})
    assert {row["kind"] for row in lots.context["rows"]} == {"lot"}
    found = owner_client.get("/dashboard/catalog/", {"q": "SKU-30-7"})
    assert [row["sku"] for row in found.context["rows"]] == ["SKU-30-7"]
    partial = owner_client.get("/dashboard/catalog/", {"q": "Item"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="product-table")
    assert partial.content.decode().lstrip().startswith('<div id="product-table"')


def _bulk(shop, n: int) -> None:
    """Many rows quickly (ORM, no services): enough to show a page's cost does not grow."""
    with in_schema(shop):
        rate = TaxRate.objects.get(is_default=True)
        project = Project.objects.get_or_create(slug="bulk", defaults={"name": "Bulk"})[0]
        for i in range(n):
            common = {"sku": f"BULK-{i}", "name": f"Bulk {i:04d}", "slug": f"bulk-{i}",
                      "net_price": Decimal("10"), "tax_rate": rate}
            if i % 3 == 0:
                product = Product.objects.create(**common)
                StockLevel.objects.create(product=product, on_hand=5)
            elif i % 3 == 1:
                RealEstateLot.objects.create(**common, project=project, lot_number=f"B{i}",
                                             surface_m2=Decimal(40))
            else:
                ServiceProduct.objects.create(**common)


# Issue 3: every list page runs the same few queries whatever the catalog's size.
LIST_MAX_QUERIES = 8
LIST_VIEWS = [
    {},                                       # what staff see first: by name, every status
    {"page": "3"},                            # past the end with 10 products: the last page
    {"sort": "-price"},
    {"kind": "goods", "q": "k"},              # SKU-..., BULK-...
    {"status": "active", "stock": "in_stock", "sort": "-name"},
]


def test_product_list_query_count_is_the_same_for_10_and_500_products(
        owner_client, shop, django_assert_max_num_queries, django_assert_num_queries):
    _many(shop, 10)
    small = []
    for params in LIST_VIEWS:
        owner_client.get("/dashboard/catalog/", params)  # first request: templates, caches
        with django_assert_max_num_queries(LIST_MAX_QUERIES) as queries:
            assert owner_client.get("/dashboard/catalog/", params).status_code == 200
        small.append(len(queries.captured_queries))
    _bulk(shop, 490)
    for params, count in zip(LIST_VIEWS, small, strict=True):
        with django_assert_num_queries(count):
            response = owner_client.get("/dashboard/catalog/", params)
        assert len(response.context["rows"]) == 25, params
        if not params:
            assert response.context["page"].count == 500


def test_each_shop_lists_its_own_products_and_categories(owner_client, shop, other_shop):
    from catalog.services.categories import category_save
    from tests.conftest import owner_of

    with in_schema(other_shop):
        category_save(name="Beta only")
        product_create(kind="service", data={"sku": "BETA", "name": "Beta service",
                                             "net_price": Decimal(1)})
    with in_schema(shop):
        product_create(kind="service", data={"sku": "ALPHA", "name": "Alpha service",
                                             "net_price": Decimal(1)})
    beta = login(Client(HTTP_HOST=host_of(other_shop)), other_shop, owner_of(other_shop))
    for client, mine, theirs in [(owner_client, "ALPHA", "BETA"), (beta, "BETA", "ALPHA")]:
        response = client.get("/dashboard/catalog/")
        assert [row["sku"] for row in response.context["rows"]] == [mine]
        assert response.context["page"].count == 1
        html = response.content.decode()
        assert theirs not in html and ("Beta only" in html) == (mine == "BETA")


def test_a_page_past_the_end_shows_the_last_page(owner_client, shop):
    _many(shop, 30)
    response = owner_client.get("/dashboard/catalog/", {"page": "9"})
    page = response.context["page"]
    assert (page.number, page.start, page.end, page.count) == (2, 26, 30, 30)
    assert [row["name"] for row in response.context["rows"]] == [f"Item {i:03d}" for i in range(25, 30)]
    assert owner_client.get("/dashboard/catalog/", {"q": "nothing like it"}).context["page"].count == 0


def test_the_list_reads_any_slice_it_is_asked_for(shop, django_assert_num_queries):
    from catalog.selectors import product_page_for_dashboard

    _many(shop, 30)
    with in_schema(shop):
        products = product_page_for_dashboard(sort="-name", page=2, per_page=10)
        assert products.count() == 30
        with django_assert_num_queries(0):
            assert [row["name"] for row in products[10:20]][0] == "Item 019"
        with django_assert_num_queries(1):
            assert [row["name"] for row in products[25:30]] == [f"Item {i:03d}" for i in range(4, -1, -1)]


def test_name_order_interleaves_active_and_archived_products_across_pages(owner_client, shop):
    with in_schema(shop):
        for i in range(30):
            product_create(kind="service", data={"sku": f"S-{i}", "name": f"Name {i:02d}",
                                                 "net_price": Decimal(1)})
        BaseProduct.objects.filter(sku__in=[f"S-{i}" for i in range(0, 30, 3)]).update(
            status="archived")
    names = [f"Name {i:02d}" for i in range(30)]
    pages = [owner_client.get("/dashboard/catalog/", {"page": n}).context["rows"] for n in (1, 2)]
    assert [row["name"] for rows in pages for row in rows] == names
    assert {row["status"] for row in pages[0]} == {"active", "archived"}
    backwards = owner_client.get("/dashboard/catalog/", {"sort": "-name", "page": 2})
    assert [row["name"] for row in backwards.context["rows"]] == names[::-1][25:]


def test_product_list_sorts_by_price_and_sku(owner_client, shop):
    with in_schema(shop):
        for sku, price in [("B", 30), ("C", 10), ("A", 20)]:
            product_create(kind="service", data={"sku": sku, "name": f"Service {sku}",
                                                 "net_price": Decimal(price)})

    def skus(sort: str) -> list[str]:
        rows = owner_client.get("/dashboard/catalog/", {"sort": sort}).context["rows"]
        return [row["sku"] for row in rows]

    assert skus("price") == ["C", "A", "B"] and skus("-price") == ["B", "A", "C"]
    assert skus("sku") == ["A", "B", "C"] and skus("-sku") == ["C", "B", "A"]


def test_product_list_rows_show_kind_category_price_stock_and_main_image(owner_client, shop):
    from catalog.models import ProductImage
    from catalog.services.categories import category_save

    with in_schema(shop):
        bikes = category_save(name="Bikes")
        project = Project.objects.create(name="P", slug="p")
        bike = product_create(kind="goods", data={"sku": "BIKE", "name": "A bike",
                                                  "net_price": Decimal("100"), "category": bikes},
                              initial_stock=Decimal(3))
        lot = product_create(kind="lot", data={"sku": "LOT", "name": "B lot", "project": project,
                                               "lot_number": "1", "surface_m2": Decimal(50),
                                               "net_price": Decimal("1000")})
        product_create(kind="goods", data={"sku": "GONE", "name": "C gone",
                                           "net_price": Decimal("1")})
        ProductImage.objects.create(product=bike, image="products/b/big.png",
                                    thumbnail="products/b/small.webp", is_default=True,
                                    width=10, height=10)
        ProductImage.objects.create(product=bike, image="products/b/other.png", width=10,
                                    height=10, position=1)
        ProductImage.objects.create(product=lot, image="products/l/only.png", is_default=True,
                                    width=10, height=10)
    rows = {row["sku"]: row for row in owner_client.get("/dashboard/catalog/").context["rows"]}
    assert (rows["BIKE"]["kind"], rows["BIKE"]["category"], rows["BIKE"]["gross"]) == (
        "goods", "Bikes", "120.00")
    assert rows["BIKE"]["stock_text"] == "3 available"
    assert rows["BIKE"]["image_url"] == f"/media/{shop.schema_name}/products/b/small.webp"
    assert rows["LOT"]["image_url"] == f"/media/{shop.schema_name}/products/l/only.png"
    assert (rows["LOT"]["kind"], rows["LOT"]["stock_text"]) == ("lot", "Available")
    assert rows["GONE"]["stock_text"] == "Out of stock" and rows["GONE"]["image_url"] == ""


def test_product_list_filters_by_category_subtree_kind_status_and_stock(owner_client, shop):
    from catalog.services.categories import category_save

    with in_schema(shop):
        bikes = category_save(name="Bikes")
        road = category_save(name="Road", parent=bikes)
        shoes = category_save(name="Shoes")
        for sku, category, stock, threshold in [("ROAD", road, 1, 2), ("BIKE", bikes, 9, 2),
                                                ("SHOE", shoes, 0, 0)]:
            product_create(kind="goods", data={"sku": sku, "name": sku, "category": category,
                                               "net_price": Decimal(1),
                                               "low_stock_threshold": Decimal(threshold)},
                           initial_stock=Decimal(stock) if stock else None)
        product_create(kind="service", data={"sku": "FIT", "name": "FIT", "net_price": Decimal(1)})
        BaseProduct.objects.filter(sku="SHOE").update(status="archived")

    def skus(**params) -> set[str]:
        response = owner_client.get("/dashboard/catalog/", params)
        assert response.context["page"].count == len(response.context["rows"])
        return {row["sku"] for row in response.context["rows"]}

    assert skus(category=bikes.pk) == {"ROAD", "BIKE"}
    assert skus(category=road.pk) == {"ROAD"}
    assert skus(kind="service") == {"FIT"}
    assert skus(status="archived") == {"SHOE"}
    assert skus(stock="low") == {"ROAD"}
    assert skus(stock="in_stock") == {"ROAD", "BIKE"}
    assert skus(stock="out") == {"SHOE"}
    assert skus(q="oad") == {"ROAD"}
    # A category that is not this shop's is no filter at all (the form refuses it).
    assert skus(category=999999) == {"ROAD", "BIKE", "SHOE", "FIT"}


def test_rows_speak_the_visitors_language(owner_client, shop):
    with in_schema(shop):
        product_create(kind="goods", data={"sku": "G", "name": "Goods",
                                           "net_price": Decimal("1000")},
                       initial_stock=Decimal("1.5"))
        product_create(kind="service", data={"sku": "S", "name": "Service",
                                             "net_price": Decimal(1)})
    english = {row["sku"]: row for row in owner_client.get("/dashboard/catalog/").context["rows"]}
    owner_client.cookies["django_language"] = "fr"
    french = {row["sku"]: row for row in owner_client.get("/dashboard/catalog/").context["rows"]}
    assert (english["G"]["gross"], english["G"]["stock_text"]) == ("1,200.00", "1.5 available")
    with translation.override("fr"):  # Django's own number format, which the rows follow
        assert french["G"]["gross"] == number_format(Decimal("1200.00"), 2, force_grouping=True)
    assert (french["G"]["gross"], french["G"]["stock_text"]) == ("1\xa0200,00", "1,5 disponible(s)")
    assert (french["S"]["kind_label"], french["S"]["status_label"]) == ("Prestation", "Actif")
    assert (english["S"]["kind_label"], english["S"]["status_label"]) == ("Service", "Active")


def test_prices_carry_the_shops_currency(owner_client, shop):
    from tenants.models import Shop

    with in_schema(shop):
        product_create(kind="service", data={"sku": "S", "name": "S", "net_price": Decimal(10)})
    assert '<td class="num">12.00&nbsp;€</td>' in owner_client.get("/dashboard/catalog/").content.decode()
    Shop.objects.filter(pk=shop.pk).update(currency="USD")
    assert '<td class="num">12.00&nbsp;$</td>' in owner_client.get("/dashboard/catalog/").content.decode()


def test_rows_escape_what_staff_typed(owner_client, shop):
    from catalog.services.categories import category_save

    with in_schema(shop):
        category = category_save(name='<b onmouseover="x">Cat</b>')
        product_create(kind="service", data={"sku": "<SKU&1>", "name": "<script>alert(1)</script>",
                                             "net_price": Decimal(1), "category": category})
    html = owner_client.get("/dashboard/catalog/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in html
    assert 'aria-label="Select &lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "<code>&lt;SKU&amp;1&gt;</code>" in html
    assert "&lt;b onmouseover=&quot;x&quot;&gt;Cat&lt;/b&gt;" in html


def test_sort_headers_keep_the_filters_and_go_back_to_the_first_page(owner_client, shop):
    with in_schema(shop):
        product_create(kind="service", data={"sku": "S", "name": "S", "net_price": Decimal(1)})
    html = owner_client.get("/dashboard/catalog/", {"q": "S", "kind": "service", "page": "2", "sort": "sku"}
                            ).content.decode()
    assert 'href="?q=S&amp;kind=service&amp;sort=-sku">SKU ▲</a>' in html
    assert 'href="?q=S&amp;kind=service&amp;sort=name">Product</a>' in html
    html = owner_client.get("/dashboard/catalog/", {"sort": "-price"}).content.decode()
    assert 'href="?sort=price">Price incl. VAT ▼</a>' in html


def test_filter_selects_list_the_shops_categories_and_keep_the_choice(owner_client, shop):
    from catalog.services.categories import category_save

    with in_schema(shop):
        tools = category_save(name="Tools & parts")
    html = owner_client.get("/dashboard/catalog/", {"kind": "lot", "category": tools.pk}).content.decode()
    assert '<select name="kind" id="id_kind">' in html
    assert '<option value="lot" selected>Real-estate lots</option>' in html
    assert f'<option value="{tools.pk}" selected>Tools &amp; parts</option>' in html
    assert '<option value="" selected>Active and archived</option>' in html
    assert '<label class="visually-hidden" for="id_category">Category</label>' in html


def test_bulk_archive_hides_products_from_the_list(owner_client, shop):
    _many(shop, 4)
    with in_schema(shop):
        ids = list(BaseProduct.objects.values_list("pk", flat=True)[:2])
    owner_client.post("/dashboard/catalog/archive/", {"ids": ids})
    active = owner_client.get("/dashboard/catalog/", {"status": "active"})
    assert len(active.context["rows"]) == 2


def test_duplicate_copies_a_product_with_a_new_sku(owner_client, shop):
    with in_schema(shop):
        bike = product_create(kind="goods", data={"sku": "B-1", "name": "Bike",
                                                  "net_price": Decimal(5)}, initial_stock=Decimal(3))
    response = owner_client.post(f"/dashboard/catalog/{bike.pk}/duplicate/")
    with in_schema(shop):
        copy = Product.objects.exclude(pk=bike.pk).get()
        assert response["Location"] == f"/dashboard/catalog/{copy.pk}/"
        assert (copy.sku, copy.net_price, copy.stock.on_hand) == ("B-1-COPY", 5, 0)


def test_stock_panel_receives_and_adjusts_with_a_reason(owner_client, shop):
    with in_schema(shop):
        bike = product_create(kind="goods", data={"sku": "B-1", "name": "Bike",
                                                  "net_price": Decimal(5)}, initial_stock=Decimal(3))
    url = f"/dashboard/catalog/{bike.pk}/stock/"
    owner_client.post(url + "receive/", {"receive-quantity": "5", "receive-reason": "BL-778"})
    refused = owner_client.post(url + "adjust/", {"adjust-counted": "6", "adjust-reason": ""},
                                HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert 'id="stock-panel"' in refused.content.decode()
    owner_client.post(url + "adjust/", {"adjust-counted": "6", "adjust-reason": "inventory"})
    with in_schema(shop):
        assert StockLevel.objects.get(pk=bike.pk).on_hand == 6
        assert list(StockMovement.objects.filter(product=bike).order_by("id")
                    .values_list("kind", "on_hand_delta")) == [
            ("receipt", 3), ("receipt", 5), ("adjustment", -2)]
    page = owner_client.get(f"/dashboard/catalog/{bike.pk}/").content.decode()
    assert "inventory" in page and "BL-778" in page


def test_warehouse_adjusts_stock_but_cannot_edit_products(shop):
    with in_schema(shop):
        bike = product_create(kind="goods", data={"sku": "B-1", "name": "Bike",
                                                  "net_price": Decimal(5)}, initial_stock=Decimal(3))
    clerk = login(Client(HTTP_HOST=host_of(shop)), shop, make_staff(shop, "wh@example.test",
                                                                   "warehouse"))
    assert clerk.get(f"/dashboard/catalog/{bike.pk}/").status_code == 200
    clerk.post(f"/dashboard/catalog/{bike.pk}/stock/receive/", {"receive-quantity": "1"})
    assert clerk.get("/dashboard/catalog/new/").status_code == 403
    clerk.post(f"/dashboard/catalog/{bike.pk}/", {"name": "Hacked"})
    with in_schema(shop):
        assert Product.objects.get(pk=bike.pk).name == "Bike"
        assert StockLevel.objects.get(pk=bike.pk).on_hand == 4


def test_specs_follow_the_product_type(owner_client, shop):
    owner_client.post("/dashboard/catalog/types/", {"name": "Bike"})
    with in_schema(shop):
        bike_type = ProductType.objects.get(name="Bike")
    owner_client.post(f"/dashboard/catalog/types/{bike_type.pk}/",
                      {"label": "Frame size", "kind": "number", "unit": "cm", "required": "on"})
    owner_client.post(f"/dashboard/catalog/types/{bike_type.pk}/",
                      {"label": "Colour", "kind": "choice", "choices": "red\nblue"})
    base = {"kind": "goods", "name": "Bike", "sku": "B-9", "net_price": "10",
            "tax_rate": rate_id(shop), "unit": "unit", "product_type": bike_type.pk}
    missing = owner_client.post("/dashboard/catalog/new/?kind=goods", base)
    assert missing.status_code == 422
    assert "Frame size" in missing.content.decode()
    ok = owner_client.post("/dashboard/catalog/new/?kind=goods",
                           {**base, "spec_frame_size": "54", "spec_colour": "blue"})
    assert ok.status_code == 302, ok.context["form"].errors
    with in_schema(shop):
        assert Product.objects.get(sku="B-9").specs == {"frame_size": "54", "colour": "blue"}


def test_categories_form_a_tree_with_paths(owner_client, shop):
    owner_client.post("/dashboard/catalog/categories/", {"name": "Bikes"})
    with in_schema(shop):
        bikes = Category.objects.get(slug="bikes")
    owner_client.post("/dashboard/catalog/categories/", {"name": "Road bikes", "parent": bikes.pk})
    with in_schema(shop):
        assert Category.objects.get(slug="road-bikes").path == "bikes/road-bikes"
    refused = owner_client.post(f"/dashboard/catalog/categories/{bikes.pk}/delete/", follow=True)
    assert "sub-categories first" in refused.content.decode()


def test_programme_page_shows_an_availability_grid(owner_client, shop):
    owner_client.post("/dashboard/catalog/projects/", {"name": "Les Jardins", "status": "planning"})
    with in_schema(shop):
        project = Project.objects.get(name="Les Jardins")
        for floor, number in [(0, "A01"), (1, "B01"), (1, "B02")]:
            product_create(kind="lot", data={"sku": f"L-{number}", "name": f"Lot {number}",
                                             "net_price": Decimal(200000), "project": project,
                                             "lot_number": number, "surface_m2": Decimal(60),
                                             "floor": floor})
    page = owner_client.get(f"/dashboard/catalog/projects/{project.pk}/")
    assert [floor for floor, _lots in page.context["floors"]] == [1, 0]
    assert page.context["counts"]["available"] == 3
    assert "lot-available" in page.content.decode()


def test_dashboard_home_shows_low_stock_and_the_catalog_step(owner_client, shop):
    with in_schema(shop):
        product_create(kind="goods", data={"sku": "LOW", "name": "Brake pads",
                                           "net_price": Decimal(5),
                                           "low_stock_threshold": Decimal(5)},
                       initial_stock=Decimal(2))
    html = owner_client.get("/dashboard/").content.decode()
    assert 'id="low-stock"' in html and "Brake pads" in html
    assert "Add your first product" in html


def test_sales_staff_see_the_catalog_read_only(shop):
    clerk = login(Client(HTTP_HOST=host_of(shop)), shop, make_staff(shop, "s@example.test", "sales"))
    assert clerk.get("/dashboard/catalog/").status_code == 200
    assert clerk.post("/dashboard/catalog/categories/", {"name": "X"}).status_code == 404


def test_renaming_or_moving_a_category_updates_its_subtree(owner_client, shop):
    from catalog.services.categories import category_save

    with in_schema(shop):
        bikes = category_save(name="Bikes")
        road = category_save(name="Road", parent=bikes)
        category_save(name="Carbon", parent=road)
        sport = category_save(name="Sport")
    response = owner_client.post(f"/dashboard/catalog/categories/{bikes.pk}/",
                                 {"name": "Cycles", "parent": sport.pk})
    assert response.status_code == 302
    with in_schema(shop):
        assert Category.objects.get(name="Carbon").path == "sport/cycles/road/carbon"
    refused = owner_client.post(f"/dashboard/catalog/categories/{sport.pk}/",
                                {"name": "Sport", "parent": road.pk})
    assert refused.status_code == 422
    assert "inside itself" in refused.content.decode()
