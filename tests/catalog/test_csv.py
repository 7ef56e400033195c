"""CSV import and export of products: one format per kind, all-or-nothing imports that say
exactly which line is wrong and why, files from French Excel, limits, permissions, isolation;
imports from the dashboard run as background jobs with a progress page."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    BaseProduct,
    Category,
    ImportJob,
    ImportState,
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
from catalog.services import csv_io
from catalog.services.csv_io import (
    MAX_ROWS,
    import_job_create,
    import_job_run,
    products_export_csv,
    products_import_csv,
)
from catalog.services.products import product_create
from catalog.services.stock import stock_audit
from tenants.models import Plan
from tests.conftest import host_of, in_schema, login, owner_of
from tests.tenants.test_staff import make_staff

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/catalog/csv/"
IMPORT = "/dashboard/catalog/csv/import/"
JOBS = "/dashboard/catalog/csv/imports/"


def export(kind: str) -> str:
    return f"/dashboard/catalog/csv/export/{kind}/"


def upload(text: str, *, encoding: str = "utf-8", name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def import_file(kind: str, text: str, **kwargs):
    """The service, in the current schema."""
    return products_import_csv(kind=kind, file=upload(text, **kwargs), by=None)


@pytest.fixture
def broker(settings):
    """As with a Celery broker: an upload queues the import task on commit. Celery itself stays
    eager (CELERY_TASK_ALWAYS_EAGER was fixed when the settings loaded, without a broker), so
    the task runs at once, in this test's transaction, when the on-commit callbacks run."""
    settings.CELERY_BROKER_URL = "memory://"


@pytest.fixture
def import_through_page(broker, django_capture_on_commit_callbacks):
    """Upload on the page, let the queued job run, then open the job's page."""

    def run(client: Client, kind: str, file: SimpleUploadedFile):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(IMPORT, {"kind": kind, "file": file})
        assert response.status_code == 302, response.content.decode()[:500]
        assert response["Location"].startswith(JOBS)
        return client.get(response["Location"])

    return run


def job_url(job: ImportJob) -> str:
    return f"{JOBS}{job.pk}/"


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

def test_goods_export_then_import_changes_nothing_and_updates_each_product(
        owner_client, shop, goods, import_through_page):
    with in_schema(shop):
        before = snapshot(Product)
        movements = StockMovement.objects.count()

    exported = owner_client.get(export("goods"))
    response = import_through_page(owner_client, "goods", SimpleUploadedFile(
        "products-goods.csv", exported.content))

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


def test_vehicles_import_with_their_vin_and_stock(shop):
    text = ("sku,name,net_price,make,model,year,mileage_km,vin,stock\n"
            "CAR-1,Clio,12500,Renault,Clio V,2021,35 000,vf1rja00168123456,1\n")
    with in_schema(shop):
        report = import_file("vehicle", text)

        assert (report.ok, report.created) == (True, 1)
        car = Vehicle.objects.get(sku="CAR-1")
        assert (car.vin, car.mileage_km, car.year) == ("VF1RJA00168123456", 35000, 2021)
        assert StockLevel.objects.get(pk=car.pk).on_hand == 1
        assert stock_audit() == []


# --- refusals: nothing is imported, every problem is named with its line ------------------------

def test_one_bad_line_among_good_ones_imports_nothing_and_names_line_and_reason(
        owner_client, shop, import_through_page):
    text = ("sku,name,net_price\n"
            "A-1,First,10\n"
            "A-2,Second,12.5\n"
            "A-3,Third,15\n"
            "A-4,Fourth,16\n"
            "A-5,Fifth,17\n"
            "A-6,Sixth,abc\n"
            "A-7,Seventh,18\n")

    response = import_through_page(owner_client, "goods", upload(text))

    assert response.status_code == 200
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


def test_the_plan_limit_refuses_the_whole_file_at_the_line_that_exceeds_it(
        owner_client, shop, import_through_page):
    Plan.objects.filter(pk=shop.plan_id).update(max_products=2)
    text = "sku,name,net_price\nP-1,One,1\nP-2,Two,1\nP-3,Three,1\n"

    response = import_through_page(owner_client, "service", upload(text))

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

    with in_schema(shop):
        job = import_job_create(kind="goods", file=upload("sku,name,net_price\nX,X,1\n"), by=None)

    assert client.get(PAGE).status_code == 403
    assert client.get(export("goods")).status_code == 403
    assert client.get(job_url(job)).status_code == 403
    assert client.post(IMPORT, {"kind": "goods", "file": upload("sku,name,net_price\nX,X,1\n")}
                       ).status_code == 403
    with in_schema(shop):
        assert ImportJob.objects.count() == 1, "the refused upload queued nothing"
        assert not BaseProduct.objects.exists()


def test_a_manager_may_import(shop, import_through_page):
    manager = make_staff(shop, "manager@example.test", "manager")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, manager)

    response = import_through_page(client, "goods", upload("sku,name,net_price\nX,X,1\n"))

    assert "Goods: 1 created, 0 updated." in response.content.decode()


def test_imported_products_exist_only_in_the_shop_that_imported_them(owner_client, shop,
                                                                      other_shop,
                                                                      import_through_page):
    import_through_page(owner_client, "goods", upload("sku,name,net_price\nX-1,X,1\n"))

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


# --- writing in bulk, the stock ledger kept -----------------------------------------------------

def goods_lines(first: int, count: int) -> str:
    return "sku,name,net_price,stock\n" + "".join(
        f"N-{n},New {n},{n}.50,{n % 4}\n" for n in range(first, first + count))


def test_new_goods_get_a_level_and_an_initial_stock_receipt_that_agree(shop):
    with in_schema(shop):
        report = import_file("goods", goods_lines(1, 4))

        assert (report.ok, report.created) == (True, 4)
        levels = {level.product.sku: level.on_hand for level in
                  StockLevel.objects.select_related("product")}
        assert levels == {"N-1": 1, "N-2": 2, "N-3": 3, "N-4": 0}
        receipts = StockMovement.objects.filter(kind="receipt", reason="Initial stock")
        assert sorted(m.on_hand_delta for m in receipts) == [1, 2, 3], "no receipt of nothing"
        assert stock_audit() == []
        assert sorted(Product.objects.values_list("slug", flat=True)) == [
            "new-1", "new-2", "new-3", "new-4"]


def test_slugs_taken_by_the_shop_or_the_file_get_a_suffix(shop):
    with in_schema(shop):
        product_create(kind="service", data={"sku": "OLD", "name": "Fitting",
                                             "net_price": Decimal("1")})

        import_file("service", "sku,name,net_price\nF-1,Fitting,1\nF-2,Fitting,1\n")

        assert dict(BaseProduct.objects.values_list("sku", "slug")) == {
            "OLD": "fitting", "F-1": "fitting-2", "F-2": "fitting-3"}


def test_an_update_writes_what_the_file_gives_in_both_tables_and_keeps_the_rest(shop, goods,
                                                                                 lots):
    with in_schema(shop):
        before = Product.objects.get(sku="BIKE-1").updated_at
        goods_report = import_file("goods", "sku,weight_kg,category,description,spec:colour\n"
                                            "BIKE-1,,,<p>New <em>look</em></p>,blue\n")
        lots_report = import_file("lot", "sku,floor,orientation,rooms,surface_m2\n"
                                         "LOT-A01,-2,,4,\"70,25\"\n")

        assert (goods_report.ok, lots_report.ok) == (True, True), (goods_report.errors,
                                                                   lots_report.errors)
        racer = Product.objects.get(sku="BIKE-1")
        assert (racer.weight_kg, racer.category, racer.description) == (
            None, None, "<p>New <em>look</em></p>")
        assert racer.specs == {"frame_size": "54.5", "electric": False, "colour": "blue"}
        assert racer.length_cm == Decimal("170.0"), "a column the file leaves out is kept"
        assert racer.updated_at > before
        lot = RealEstateLot.objects.get(sku="LOT-A01")
        assert (lot.floor, lot.orientation, lot.rooms, lot.surface_m2) == (-2, "", 4,
                                                                          Decimal("70.25"))
        assert RealEstateLot.objects.get(sku="LOT-B12").floor == 2


def test_writing_costs_the_same_queries_for_3_or_30_new_goods(shop, django_assert_max_num_queries):
    with in_schema(shop):
        import_file("goods", goods_lines(0, 1))  # content type and plan caches
        with CaptureQueriesContext(connection) as small:
            assert import_file("goods", goods_lines(100, 3)).created == 3
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert import_file("goods", goods_lines(200, 30)).created == 30
        with django_assert_max_num_queries(len(small.captured_queries)):
            text = goods_lines(200, 30).replace(",New ", ",Renamed ")
            assert import_file("goods", text).updated == 30
        assert Product.objects.filter(name__startswith="Renamed").count() == 30
        assert stock_audit() == []


# --- background jobs ----------------------------------------------------------------------------

def test_a_job_goes_from_queued_to_done_and_imports_every_line(shop, owner):
    with in_schema(shop):
        job = import_job_create(kind="goods", file=upload(goods_lines(1, 3), name="spring.csv"),
                                by=owner)
        assert (job.state, job.file_name, job.created_by) == (ImportState.QUEUED, "spring.csv",
                                                              owner)
        assert not BaseProduct.objects.exists(), "nothing happens before the job runs"

        import_job_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.state, job.total_rows, job.processed_rows) == (ImportState.DONE, 3, 3)
        assert (job.created_count, job.updated_count, job.errors) == (3, 0, [])
        assert job.started_at and job.finished_at and job.percent == 100
        assert bytes(job.content) == b"", "the file is not kept once imported"
        assert Product.objects.count() == 3
        assert set(StockMovement.objects.values_list("by", flat=True)) == {owner.pk}


def test_a_bad_line_fails_the_job_with_every_problem_and_imports_nothing(shop):
    with in_schema(shop):
        job = import_job_create(kind="goods", by=None, file=upload(
            "sku,name,net_price\nA-1,First,10\nA-2,,12\nA-3,Third,abc\n"))

        import_job_run(job_id=job.pk)

        job.refresh_from_db()
        assert job.state == ImportState.FAILED
        assert job.errors == [{"line": 3, "message": "name is required"},
                              {"line": 4, "message": "net_price “abc” is not a number"}]
        assert (job.total_rows, job.created_count) == (3, 0)
        assert not BaseProduct.objects.exists()


def test_a_job_runs_once_even_if_its_task_is_delivered_twice(shop):
    with in_schema(shop):
        job = import_job_create(kind="service", by=None, file=upload("sku,name,net_price\nS,S,1\n"))
        import_job_run(job_id=job.pk)

        again = import_job_run(job_id=job.pk)

        assert (again.state, again.created_count) == (ImportState.DONE, 1)
        assert BaseProduct.objects.count() == 1


def test_an_unexpected_error_fails_the_job_and_reaches_the_worker(shop, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csv_io, "_insert_new", broken)
    with in_schema(shop):
        job = import_job_create(kind="service", by=None, file=upload("sku,name,net_price\nS,S,1\n"))

        with pytest.raises(RuntimeError):
            import_job_run(job_id=job.pk)

        job.refresh_from_db()
        assert job.state == ImportState.FAILED
        assert "nothing was imported" in job.errors[0]["message"]
        assert not BaseProduct.objects.exists()


def test_a_file_over_the_limit_is_refused_at_upload_and_never_stored(owner_client, shop):
    big = "sku,name,description,net_price\n" + "S,S," + "x" * (5 * 1024 * 1024) + ",1\n"

    response = owner_client.post(IMPORT, {"kind": "goods", "file": upload(big)})

    assert response.status_code == 422
    assert "larger than 5 MB" in response.content.decode()
    with in_schema(shop):
        assert not ImportJob.objects.exists()


def test_the_upload_answers_at_once_with_the_job_page_and_the_job_queued(owner_client, shop,
                                                                         broker):
    response = owner_client.post(IMPORT, {"kind": "goods", "file": upload(goods_lines(1, 2))},
                                 follow=True)

    html = response.content.decode()
    assert response.redirect_chain[0][1] == 302
    assert "is being imported. You can leave this page" in html
    assert "Waiting to start…" in html and "<progress" in html
    with in_schema(shop):
        assert ImportJob.objects.get().state == ImportState.QUEUED, "run after the commit"
        assert not BaseProduct.objects.exists()


def test_a_running_job_page_polls_with_htmx_and_reloads_without_javascript(owner_client, shop):
    with in_schema(shop):
        job = import_job_create(kind="goods", by=None, file=upload(goods_lines(1, 2)))
        ImportJob.objects.filter(pk=job.pk).update(state=ImportState.IMPORTING, total_rows=2000,
                                                   processed_rows=500)

    page = owner_client.get(job_url(job)).content.decode()
    partial = owner_client.get(job_url(job), HTTP_HX_REQUEST="true").content.decode()

    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert f'hx-get="{job_url(job)}" hx-trigger="every 1s"' in page
    # Checking the lines is the first 40 % of the bar; a quarter written is 40 + 60 / 4.
    assert "Importing: 500 of 2,000 (55 %)" in page and 'value="55"' in page
    assert partial.lstrip().startswith('<div id="import-job"') and "<html" not in partial
    assert "every 1s" in partial


def test_a_finished_job_page_stops_polling_and_shows_the_outcome(owner_client, shop):
    with in_schema(shop):
        job = import_job_create(kind="goods", by=None, file=upload(goods_lines(1, 2)))
        import_job_run(job_id=job.pk)

    page = owner_client.get(job_url(job)).content.decode()
    partial = owner_client.get(job_url(job), HTTP_HX_REQUEST="true").content.decode()

    for html in (page, partial):
        assert "Goods: 2 created, 0 updated." in html
        assert "hx-trigger" not in html.split('id="import-job"')[1].split(">")[0]
    assert "http-equiv=\"refresh\"" not in page


def test_a_job_without_news_for_long_says_it_stopped(owner_client, shop):
    with in_schema(shop):
        job = import_job_create(kind="goods", by=None, file=upload(goods_lines(1, 2)))
        ImportJob.objects.filter(pk=job.pk).update(state=ImportState.VALIDATING)
        # auto_now would refresh updated_at on save(): set it behind its back.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE catalog_importjob SET updated_at = now() - interval '1 hour' "
                           "WHERE id = %s", [job.pk])

    html = owner_client.get(job_url(job)).content.decode()

    assert "this import has most likely stopped" in html
    assert "every 1s" not in html and "http-equiv" not in html


def test_the_page_lists_recent_imports_with_state_and_counts(owner_client, shop, owner):
    with in_schema(shop):
        done = import_job_create(kind="goods", by=owner, file=upload(goods_lines(1, 3),
                                                                     name="done.csv"))
        import_job_run(job_id=done.pk)
        failed = import_job_create(kind="service", by=owner, file=upload(
            "sku,name,net_price\nS,,1\n", name="bad.csv"))
        import_job_run(job_id=failed.pk)
        import_job_create(kind="lot", by=owner, file=upload("sku\n", name="queued.csv"))

    html = owner_client.get(PAGE).content.decode()

    section = html.split('id="import-jobs"')[1].split("</section>")[0]
    assert section.index("queued.csv") < section.index("bad.csv") < section.index("done.csv")
    assert f'href="{job_url(done)}"' in section
    assert "badge-completed" in section and "badge-failed" in section
    assert "badge-pending" in section
    assert 'hx-trigger="every 2s"' in html, "a queued import keeps the list fresh"
    partial = owner_client.get(PAGE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-jobs")
    assert partial.content.decode().lstrip().startswith('<section class="card" id="import-jobs"')


def test_the_list_page_runs_the_same_queries_for_2_or_10_imports(owner_client, shop,
                                                               django_assert_max_num_queries):
    def add(count: int):
        with in_schema(shop):
            for _n in range(count):
                import_job_create(kind="goods", by=owner_of(shop), file=upload("sku\n"))

    add(2)
    owner_client.get(PAGE)
    with django_assert_max_num_queries(20) as small:
        owner_client.get(PAGE)
    add(8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        owner_client.get(PAGE)


# --- with real commits: the background thread, progress seen from another connection -----------

def committed_in_a_thread(work):
    """Run `work` in a thread of its own: its connection is outside this test's transaction, so
    what it writes is committed and seen by other connections (`work` removes it again)."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed over to the test, which raises it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _remove_imported(prefix: str) -> None:
    """What a committed test imported (the session shop must stay empty for the others)."""
    StockMovement.objects.filter(product__sku__startswith=prefix).delete()
    BaseProduct.objects.filter(sku__startswith=prefix).delete()
    ImportJob.objects.all().delete()


def test_without_a_broker_the_import_runs_in_a_thread_after_the_commit(shop, settings):
    settings.CELERY_BROKER_URL = ""

    def work():
        with in_schema(shop):
            try:
                job = import_job_create(kind="service", by=None,
                                        file=upload("sku,name,net_price\nTH-1,One,1\nTH-2,Two,2\n"))
                deadline = time.monotonic() + 30
                while ImportJob.objects.get(pk=job.pk).is_running and time.monotonic() < deadline:
                    time.sleep(0.05)
                job.refresh_from_db()
                return job.state, job.created_count, ServiceProduct.objects.filter(
                    sku__startswith="TH-").count()
            finally:
                _remove_imported("TH-")

    assert committed_in_a_thread(work) == (ImportState.DONE, 2, 2)


def test_progress_is_seen_from_another_connection_while_the_import_is_uncommitted(
        shop, monkeypatch):
    """What another request (the progress page) reads while the import's transaction runs:
    the job's progress moves, the products are not there yet."""
    monkeypatch.setattr(csv_io, "WRITE_CHUNK", 2)
    monkeypatch.setattr(csv_io, "PUBLISH_EVERY", 0)
    seen: list[tuple[str, int, int]] = []
    publish = csv_io._JobProgress._publish
    observer = {}

    def publish_and_look(progress, processed):
        publish(progress, processed)
        with observer["connection"].cursor() as cursor:
            cursor.execute(f"SELECT state, processed_rows FROM {progress.table} WHERE id = %s",
                           [progress.job_id])
            state, rows = cursor.fetchone()
            cursor.execute(f'SELECT count(*) FROM "{shop.schema_name}".catalog_baseproduct '
                           "WHERE sku LIKE 'N-%%'")
            seen.append((state, rows, cursor.fetchone()[0]))

    monkeypatch.setattr(csv_io._JobProgress, "_publish", publish_and_look)

    def work():
        # A third connection, as a request showing the progress page would have.
        observer["connection"] = connection.copy()
        with in_schema(shop):
            try:
                # Created directly: import_job_create would start the job itself on commit.
                job = ImportJob.objects.create(kind="goods", file_name="spring.csv",
                                               content=goods_lines(1, 5).encode())
                import_job_run(job_id=job.pk)
                return (ImportJob.objects.get(pk=job.pk).state,
                        Product.objects.filter(sku__startswith="N-").count(), stock_audit())
            finally:
                observer["connection"].close()
                _remove_imported("N-")

    assert committed_in_a_thread(work) == (ImportState.DONE, 5, [])
    assert ("validating", 0, 0) in seen
    importing = [(rows, products) for state, rows, products in seen if state == "importing"]
    assert importing == [(0, 0), (2, 0), (4, 0), (5, 0)], seen
