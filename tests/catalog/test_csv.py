"""CSV import and export of products: one format per kind, all-or-nothing imports that say
exactly which line is wrong and why, files from French Excel, limits, permissions, isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import (
    BaseProduct,
    Category,
    Product,
    ProductStatus,
    ProductType,
    Project,
    RealEstateLot,
    ServiceProduct,
    SpecDefinition,
    StockLevel,
    StockMovement,
    Vehicle,
)
from catalog.services.csv_io import MAX_ROWS, products_export_csv, products_import_csv
from catalog.services.products import product_create
from tenants.models import Plan
from tests.conftest import host_of, in_schema, login
from tests.tenants.test_staff import make_staff

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/catalog/csv/"
IMPORT = "/dashboard/catalog/csv/import/"


def export(kind: str) -> str:
    return f"/dashboard/catalog/csv/export/{kind}/"


def upload(text: str, *, encoding: str = "utf-8", name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def import_file(kind: str, text: str, **kwargs):
    """The service, in the current schema."""
    return products_import_csv(kind=kind, file=upload(text, **kwargs), by=None)


def snapshot(model) -> dict[str, dict]:
    """Every stored value of every product of a model, by SKU (the write time aside)."""
    fields = [f for f in model._meta.concrete_fields if f.name != "updated_at"]
    return {p.sku: {f.name: getattr(p, f.attname) for f in fields} for p in model.objects.all()}


@pytest.fixture
def bike_type(shop):
    with in_schema(shop):
        bike = ProductType.objects.create(name="Bike")
        SpecDefinition.objects.create(product_type=bike, code="frame_size", label="Frame size",
                                      kind="number", unit="cm")
        SpecDefinition.objects.create(product_type=bike, code="electric", label="Electric",
                                      kind="boolean")
        SpecDefinition.objects.create(product_type=bike, code="colour", label="Colour",
                                      kind="choice", choices=["red", "blue"])
        return bike


@pytest.fixture
def road(shop):
    with in_schema(shop):
        bikes = Category.objects.create(name="Bikes", slug="bikes", path="bikes")
        return Category.objects.create(name="Road", slug="road", parent=bikes, path="bikes/road",
                                       depth=1)


@pytest.fixture
def goods(shop, bike_type, road):
    with in_schema(shop):
        racer = product_create(kind="goods", data={
            "sku": "BIKE-1", "name": "Racer, “light”", "net_price": Decimal("1249.90"),
            "description": "<p>Carbon frame; <strong>fast</strong>.\nSecond line</p>",
            "category": road, "product_type": bike_type,
            "specs": {"frame_size": "54.5", "electric": False, "colour": "red"},
            "weight_kg": Decimal("7.250"), "length_cm": Decimal("170.0"),
            "low_stock_threshold": Decimal("2")}, initial_stock=Decimal("12"))
        helmet = product_create(kind="goods", data={
            "sku": "HELMET", "name": "=Helmet (formula-looking name)",
            "net_price": Decimal("39.00"), "unit": "unit"})
        return [racer, helmet]


@pytest.fixture
def project(shop):
    with in_schema(shop):
        return Project.objects.create(name="Les Jardins", slug="les-jardins")


@pytest.fixture
def lots(shop, project):
    with in_schema(shop):
        return [product_create(kind="lot", data={
            "sku": f"LOT-{n}", "name": f"Lot {n}", "net_price": Decimal("250000.00"),
            "project": project, "lot_number": n, "surface_m2": Decimal("64.50"), "rooms": 3,
            "floor": -1 if n == "A01" else 2, "orientation": "SW", "parking_spaces": 1})
            for n in ("A01", "B12")]


# --- round trips --------------------------------------------------------------------------------

def test_goods_export_then_import_changes_nothing_and_updates_each_product(owner_client, shop,
                                                                         goods):
    with in_schema(shop):
        before = snapshot(Product)
        movements = StockMovement.objects.count()

    exported = owner_client.get(export("goods"))
    response = owner_client.post(IMPORT, {"kind": "goods", "file": SimpleUploadedFile(
        "products-goods.csv", exported.content)}, follow=True)

    assert response.status_code == 200
    assert "Goods: 0 created, 2 updated." in response.content.decode()
    with in_schema(shop):
        assert snapshot(Product) == before
        assert StockMovement.objects.count() == movements, "an import never moves stock"
        assert Product.objects.get(sku="HELMET").name == "=Helmet (formula-looking name)"


def test_lots_export_then_import_changes_nothing(owner_client, shop, lots):
    with in_schema(shop):
        before = snapshot(RealEstateLot)

    exported = owner_client.get(export("lot")).content
    with in_schema(shop):
        report = import_file("lot", exported.decode("utf-8"))

    assert (report.ok, report.created, report.updated) == (True, 0, 2)
    with in_schema(shop):
        assert snapshot(RealEstateLot) == before


def test_services_and_vehicles_round_trip_too(shop):
    with in_schema(shop):
        product_create(kind="service", data={"sku": "FIT", "name": "Bike fitting",
                                             "net_price": Decimal("80.00"), "unit": "hour",
                                             "duration_minutes": 90})
        product_create(kind="vehicle", data={"sku": "CAR-1", "name": "Clio",
                                             "net_price": Decimal("12500.00"), "make": "Renault",
                                             "model": "Clio V", "year": 2021, "mileage_km": 35000,
                                             "vin": "VF1RJA00168123456"})
        before = {kind: snapshot(model) for kind, model in (("service", ServiceProduct),
                                                            ("vehicle", Vehicle))}
        for kind, model in (("service", ServiceProduct), ("vehicle", Vehicle)):
            report = import_file(kind, products_export_csv(kind=kind))

            assert (report.ok, report.created, report.updated) == (True, 0, 1)
            assert snapshot(model) == before[kind]


def test_a_french_export_uses_semicolons_and_decimal_commas_and_round_trips(shop, goods):
    with in_schema(shop):
        before = snapshot(Product)
        text = products_export_csv(kind="goods", semicolon=True)
        header, racer = text.lstrip("\ufeff").split("\r\n")[:2]
        assert header.startswith("sku;name;description;net_price;tax_rate;unit;category")
        assert ";1249,90;20;unit;bikes/road;Bike;active;7,25;170;" in racer

        report = import_file("goods", text)

        assert (report.ok, report.updated) == (True, 2)
        assert snapshot(Product) == before


def test_export_is_a_dated_download_with_one_column_per_spec_code(owner_client, goods):
    response = owner_client.get(export("goods"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="products-goods-20')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffsku,name,")
    header = text.lstrip("\ufeff").split("\r\n")[0].split(",")
    assert header[-3:] == ["spec:colour", "spec:electric", "spec:frame_size"]
    assert "weight_kg" in header and "stock" in header and "vin" not in header
    assert ",red,no,54.5" in text
    assert ",'=Helmet (formula-looking name)," in text, "no formula runs when opened"


def test_export_runs_the_same_queries_for_3_or_30_products(owner_client, shop,
                                                          django_assert_max_num_queries):
    def add(first: int, last: int):
        with in_schema(shop):
            for n in range(first, last):
                product_create(kind="goods", data={"sku": f"G{n}", "name": f"G {n}",
                                                   "net_price": Decimal("1")})

    add(0, 3)
    owner_client.get(export("goods"))  # warm the session and content type caches
    with django_assert_max_num_queries(12) as small:
        owner_client.get(export("goods"))
    add(3, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert owner_client.get(export("goods")).content.count(b"\r\n") == 31


# --- creating and updating ----------------------------------------------------------------------

def test_new_products_are_created_and_known_skus_updated(shop, goods, bike_type, road):
    text = ("sku,name,net_price,tax_rate,category,product_type,spec:frame_size,stock\n"
            "BIKE-1,Racer II,999.00,20,bikes,Bike,56,12\n"
            "BIKE-2,Tourer,799.5,5.5,bikes/road,Bike,52,4\n")
    with in_schema(shop):
        report = import_file("goods", text)

        assert (report.ok, report.created, report.updated, report.warnings) == (True, 1, 1, [])
        racer = Product.objects.get(sku="BIKE-1")
        assert (racer.name, racer.net_price, racer.category.path) == ("Racer II", Decimal("999.00"),
                                                                       "bikes")
        assert racer.specs == {"frame_size": "56", "electric": False, "colour": "red"}
        assert racer.weight_kg == Decimal("7.250"), "columns left out of the file are kept"
        tourer = Product.objects.get(sku="BIKE-2")
        assert (tourer.tax_rate.rate, tourer.specs) == (Decimal("5.50"), {"frame_size": "52"})
        assert StockLevel.objects.get(pk=tourer.pk).on_hand == 4, "initial stock of new goods"


def test_stock_of_an_existing_product_is_not_changed_and_the_import_says_so(shop, goods):
    with in_schema(shop):
        report = import_file("goods", "sku,stock\nBIKE-1,20\n")

        assert (report.ok, report.updated) == (True, 1)
        assert [str(w) for w in report.warnings] == [
            "Line 2: stock is not changed by an import for an existing product (it stays 12): "
            "record a receipt or an adjustment instead"]
        assert StockLevel.objects.get(pk=goods[0].pk).on_hand == 12


def test_status_archives_and_restores(shop, goods):
    with in_schema(shop):
        report = import_file("goods", "sku,status\nBIKE-1,archived\nHELMET,active\n")

        assert report.ok
        assert Product.objects.get(sku="BIKE-1").status == ProductStatus.ARCHIVED
        import_file("goods", "sku,status\nBIKE-1,Active\n")
        assert Product.objects.get(sku="BIKE-1").status == ProductStatus.ACTIVE


def test_vehicles_import_with_their_vin(shop):
    text = ("sku,name,net_price,make,model,year,mileage_km,vin\n"
            "CAR-1,Clio,12500,Renault,Clio V,2021,35 000,vf1rja00168123456\n")
    with in_schema(shop):
        report = import_file("vehicle", text)

        assert (report.ok, report.created) == (True, 1)
        car = Vehicle.objects.get(sku="CAR-1")
        assert (car.vin, car.mileage_km, car.year) == ("VF1RJA00168123456", 35000, 2021)


# --- refusals: nothing is imported, every problem is named with its line ------------------------

def test_one_bad_line_among_good_ones_imports_nothing_and_names_line_and_reason(owner_client, shop):
    text = ("sku,name,net_price\n"
            "A-1,First,10\n"
            "A-2,Second,12.5\n"
            "A-3,Third,15\n"
            "A-4,Fourth,16\n"
            "A-5,Fifth,17\n"
            "A-6,Sixth,abc\n"
            "A-7,Seventh,18\n")

    response = owner_client.post(IMPORT, {"kind": "goods", "file": upload(text)})

    assert response.status_code == 422
    html = response.content.decode()
    assert "Line 7: net_price “abc” is not a number" in html
    assert "Nothing was imported: 1 problem to fix" in html
    with in_schema(shop):
        assert not BaseProduct.objects.filter(sku__startswith="A-").exists()


def test_every_bad_line_is_reported(shop, road):
    text = ("sku,name,net_price,tax_rate,category,unit,weight_kg\n"
            "OK-1,Fine,10,20,bikes/road,kg,1.5\n"
            "BAD-1,,10,20,,unit,\n"
            "BAD-2,Rate,10,19,,,\n"
            "BAD-3,Category,10,20,bikes/mountain,,\n"
            "BAD-4,Unit,10,20,,litre,\n"
            "BAD-5,Weight,-3,20,,,heavy\n"
            ",No SKU,10,20,,,\n")
    with in_schema(shop):
        report = import_file("goods", text)

        assert (report.ok, report.created, report.updated) == (False, 0, 0)
        assert [str(e) for e in report.errors] == [
            "Line 3: name is required",
            "Line 4: tax_rate “19” is not one of the shop's VAT rates (20, 10, 5.5, 2.1)",
            "Line 5: category “bikes/mountain” does not exist",
            "Line 6: unit “litre” is not one of: unit, kg, m, m2, hour, day",
            "Line 7: weight_kg “heavy” is not a number",
            "Line 7: net_price “-3”: Ensure this value is greater than or equal to 0.",
            "Line 8: sku is required",
        ]
        assert not BaseProduct.objects.exists()


def test_a_sku_twice_in_the_file_is_reported_with_both_lines(shop):
    text = "sku,name,net_price\nDUP,One,1\nOTHER,Other,1\nDUP,Two,2\n"
    with in_schema(shop):
        report = import_file("goods", text)

    assert [str(e) for e in report.errors] == [
        "Line 4: sku “DUP” is also on line 2: give each product one line"]


def test_an_invalid_vin_is_reported(shop):
    text = ("sku,name,net_price,make,model,year,vin\n"
            "CAR-1,Clio,12500,Renault,Clio,2021,VF1RJA00168123456\n"
            "CAR-2,Golf,15000,VW,Golf,2020,WVWZZZ1KZAO123456\n")
    with in_schema(shop):
        report = import_file("vehicle", text)

        assert [str(e) for e in report.errors] == [
            "Line 3: vin “WVWZZZ1KZAO123456”: A VIN has 17 characters: digits and capital "
            "letters except I, O and Q."]
        assert not Vehicle.objects.exists()


def test_a_vin_or_lot_number_already_used_is_reported(shop, lots):
    with in_schema(shop):
        product_create(kind="vehicle", data={"sku": "CAR-1", "name": "Clio",
                                             "net_price": Decimal("1"), "make": "Renault",
                                             "model": "Clio", "year": 2021,
                                             "vin": "VF1RJA00168123456"})
        cars = import_file("vehicle", "sku,name,net_price,make,model,year,vin\n"
                                      "CAR-2,Clio,1,Renault,Clio,2021,VF1RJA00168123456\n")
        lot = import_file("lot", "sku,name,net_price,project,lot_number,surface_m2\n"
                                 "LOT-NEW,New,1,les-jardins,B12,40\n")

    assert [str(e) for e in cars.errors] == [
        "Line 2: vin “VF1RJA00168123456” belongs to another vehicle (CAR-1)"]
    assert [str(e) for e in lot.errors] == [
        "Line 2: lot_number “B12” of les-jardins belongs to another lot (LOT-B12)"]


def test_unknown_columns_are_reported_before_any_row(shop, bike_type):
    text = "sku,name,net_price,colour,spec:wheels\nX,X,1\n"
    with in_schema(shop):
        report = import_file("goods", text)

    assert [str(e) for e in report.errors] == [
        "Line 1: unknown column “colour” (the columns for this kind are: category, description, "
        "height_cm, length_cm, low_stock_threshold, name, net_price, product_type, sku, status, "
        "stock, tax_rate, unit, weight_kg, width_cm)",
        "Line 1: column “spec:wheels”: no product type has a specification “wheels”"]


def test_specifications_are_checked_against_the_product_type(shop, bike_type):
    text = ("sku,name,net_price,product_type,spec:frame_size,spec:colour,spec:electric\n"
            "B-1,Bike,1,Bike,large,green,maybe\n"
            "B-2,No type,1,,54,,\n")
    with in_schema(shop):
        report = import_file("goods", text)

    assert [str(e) for e in report.errors] == [
        "Line 2: “Frame size” must be a number.",
        "Line 3: spec:frame_size: choose a product_type to give specifications"]


def test_a_sku_of_another_kind_cannot_change_kind(shop, goods):
    with in_schema(shop):
        report = import_file("service", "sku,name,net_price\nBIKE-1,Repair,50\n")

    assert [str(e) for e in report.errors] == [
        "Line 2: sku “BIKE-1” is a product of another kind (goods): it cannot become a service"]


def test_too_many_rows_are_refused(shop):
    text = "sku,name,net_price\n" + "".join(f"S{n},S,1\n" for n in range(MAX_ROWS + 1))
    with in_schema(shop):
        report = import_file("goods", text)

        assert [str(e) for e in report.errors] == [
            "This file has 5001 products; an import takes at most 5000. Split it into several "
            "files."]
        assert not BaseProduct.objects.exists()


def test_a_file_over_5_mb_is_refused(shop):
    text = "sku,name,description,net_price\n" + "S,S," + "x" * (5 * 1024 * 1024) + ",1\n"
    with in_schema(shop):
        report = import_file("goods", text)

    assert "larger than 5 MB" in str(report.errors[0])


def test_a_spreadsheet_workbook_is_refused_with_what_to_do(shop):
    with in_schema(shop):
        report = products_import_csv(kind="goods", by=None, file=SimpleUploadedFile(
            "products.xlsx", b"PK\x03\x04 not a csv"))

    assert "use “Save as” and choose CSV" in str(report.errors[0])


def test_the_plan_limit_refuses_the_whole_file_at_the_line_that_exceeds_it(owner_client, shop):
    Plan.objects.filter(pk=shop.plan_id).update(max_products=2)
    text = "sku,name,net_price\nP-1,One,1\nP-2,Two,1\nP-3,Three,1\n"

    response = owner_client.post(IMPORT, {"kind": "service", "file": upload(text)})

    assert response.status_code == 422
    assert "Line 4: Your plan allows 2 active products" in response.content.decode()
    with in_schema(shop):
        assert not BaseProduct.objects.exists(), "the lines before were rolled back"


def test_validation_runs_the_same_queries_for_3_or_30_lines(shop, road, bike_type,
                                                           django_assert_max_num_queries):
    def text(n: int) -> str:
        lines = "".join(f"S{i},Name,abc,20,bikes/road,Bike,54\n" for i in range(n))
        return "sku,name,net_price,tax_rate,category,product_type,spec:frame_size\n" + lines

    with in_schema(shop):
        import_file("goods", text(1))  # content type cache
        with django_assert_max_num_queries(12) as small:
            assert len(import_file("goods", text(3)).errors) == 3
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert len(import_file("goods", text(30)).errors) == 30


# --- files from spreadsheets --------------------------------------------------------------------

def test_a_french_excel_file_with_semicolons_and_decimal_commas_imports(shop):
    text = ("\ufeffsku;name;net_price;tax_rate;weight_kg\r\n"
            "VELO-1;Vélo électrique;1 234,50;5,5;22,5\r\n"
            "VELO-2;Antivol;\"19,90\";20;0,8\r\n")
    with in_schema(shop):
        report = import_file("goods", text)

        assert (report.ok, report.created) == (True, 2)
        velo = Product.objects.get(sku="VELO-1")
        assert (velo.name, velo.net_price, velo.tax_rate.rate, velo.weight_kg) == (
            "Vélo électrique", Decimal("1234.50"), Decimal("5.50"), Decimal("22.500"))


def test_a_windows_1252_file_from_excel_imports(shop):
    with in_schema(shop):
        report = import_file("service", "sku;name;net_price;duration_minutes\r\n"
                                        "POSE;Pose de carrelage;45,00;90\r\n", encoding="cp1252")

        assert report.ok
        assert BaseProduct.objects.get(sku="POSE").name == "Pose de carrelage"


def test_a_text_cell_may_span_several_lines_and_line_numbers_count_rows(shop):
    text = 'sku,name,description,net_price\nM-1,One,"first\nsecond",1\nM-2,Two,,x\n'
    with in_schema(shop):
        report = import_file("goods", text)

    assert [str(e) for e in report.errors] == ["Line 3: net_price “x” is not a number"]


# --- the page -----------------------------------------------------------------------------------

def test_the_page_offers_an_export_per_kind_and_the_import_form(owner_client):
    response = owner_client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    for kind in ("goods", "service", "lot", "vehicle"):
        assert f'href="{export(kind)}"' in html
    assert 'enctype="multipart/form-data"' in html and f'action="{IMPORT}"' in html
    assert "Import products" in html


def test_an_import_without_a_file_shows_the_form_error(owner_client):
    response = owner_client.post(IMPORT, {"kind": "goods"})

    assert response.status_code == 422
    assert "There is a problem" in response.content.decode()


def test_the_page_needs_the_import_permission(shop):
    clerk = make_staff(shop, "sales@example.test", "sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)

    assert client.get(PAGE).status_code == 403
    assert client.get(export("goods")).status_code == 403
    assert client.post(IMPORT, {"kind": "goods", "file": upload("sku,name,net_price\nX,X,1\n")}
                       ).status_code == 403
    with in_schema(shop):
        assert not BaseProduct.objects.exists()


def test_a_manager_may_import(shop):
    manager = make_staff(shop, "manager@example.test", "manager")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, manager)

    response = client.post(IMPORT, {"kind": "goods", "file": upload("sku,name,net_price\nX,X,1\n")},
                           follow=True)

    assert "Goods: 1 created, 0 updated." in response.content.decode()


def test_imported_products_exist_only_in_the_shop_that_imported_them(owner_client, shop,
                                                                      other_shop):
    owner_client.post(IMPORT, {"kind": "goods", "file": upload("sku,name,net_price\nX-1,X,1\n")})

    with in_schema(shop):
        assert BaseProduct.objects.filter(sku="X-1").count() == 1
    with in_schema(other_shop):
        assert not BaseProduct.objects.exists()


def test_a_sku_that_looks_like_a_formula_round_trips(shop):
    with in_schema(shop):
        product_create(kind="service", data={"sku": "-PROMO", "name": "+1 hour",
                                             "net_price": Decimal("10")})
        text = products_export_csv(kind="service")
        assert "'-PROMO,'+1 hour," in text

        report = import_file("service", text)

        assert (report.ok, report.created, report.updated) == (True, 0, 1)
        assert BaseProduct.objects.get().name == "+1 hour"


def test_a_value_under_no_column_name_is_reported_not_dropped(shop):
    with in_schema(shop):
        report = import_file("goods", "sku,name,net_price,\nA,A,1,\nB,B,1,oops\n")

    assert [str(e) for e in report.errors] == [
        "Line 3: column 4 has a value but no name in the header line"]


def test_a_file_with_only_a_header_is_refused(shop):
    with in_schema(shop):
        report = import_file("goods", "sku,name,net_price\n")

    assert [str(e) for e in report.errors] == ["This file has no products: only a header line."]
