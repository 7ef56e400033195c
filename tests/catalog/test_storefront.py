"""The storefront catalog as a shop's customers see it: listing, product and programme pages,
isolation between shops, and a listing cache that is never stale after an edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.text import slugify

from catalog.cache import connect_signals
from catalog.models import Category, ProductImage, Project, SpecKind, TaxRate
from catalog.services.categories import category_save, product_type_save, spec_definition_add
from catalog.services.products import product_create, product_update, products_archive
from catalog.services.stock import stock_adjust, stock_commit, stock_reserve
from tests.conftest import host_of, in_schema, login, owner_of

pytestmark = pytest.mark.django_db

RESULTS = {"HX-Request": "true", "HX-Target": "catalog-results"}


@pytest.fixture(autouse=True)
def _listing_cache(settings):
    """The listing cache on, as in production, and empty: entries of other tests' rolled-back
    data must not answer here."""
    connect_signals()  # until CatalogConfig.ready() does it; idempotent
    settings.STOREFRONT_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def beta_client(other_shop) -> Client:
    return Client(HTTP_HOST=host_of(other_shop))


def _sku(name: str) -> str:
    return slugify(name).upper()[:60]


def goods(name="Road bike", net="100.00", stock="5", **extra):
    return product_create(kind="goods", data={"sku": _sku(name), "name": name,
                                              "net_price": Decimal(net), **extra},
                          initial_stock=Decimal(stock) if stock else None)


def service(name="Bike fitting", net="50.00", **extra):
    return product_create(kind="service", data={"sku": _sku(name), "name": name,
                                                "net_price": Decimal(net), **extra})


def programme(name="Les Jardins", **extra) -> Project:
    return Project.objects.get_or_create(slug=slugify(name), defaults={"name": name, **extra})[0]


def lot(number="A01", net="250000.00", project=None, **extra):
    return product_create(kind="lot", data={
        "sku": f"LOT-{number}", "name": f"Flat {number}", "net_price": Decimal(net),
        "project": project or programme(), "lot_number": number, "surface_m2": Decimal("64.50"),
        **extra})


def vehicle(name="Golf 1.5 TSI", net="12345.67", vin="WVWZZZ1JZXW000001", **extra):
    return product_create(kind="vehicle", data={
        "sku": _sku(name), "name": name, "net_price": Decimal(net), "make": "Volkswagen",
        "model": "Golf", "year": 2021, "mileage_km": 42300, "vin": vin, **extra})


def sell(product):
    stock_reserve(lines=[(product, 1)], by=None, reference="TEST")
    stock_commit(lines=[(product, 1)], by=None, reference="TEST")


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ---------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------
def test_listing_shows_every_kind_with_its_price_including_vat(shop, shop_client):
    with in_schema(shop):
        goods("Road bike", net="100.00")
        service("Bike fitting", net="50.00", tax_rate=TaxRate.objects.get(rate=Decimal("10")))
        lot("A01", net="250000.00")
        vehicle("Golf 1.5 TSI", net="12345.67")

    html = html_of(shop_client.get("/"))

    assert "4 products" in html
    for name, kind, price in [("Road bike", "Goods", "120.00"), ("Bike fitting", "Service", "55.00"),
                              ("Flat A01", "Real-estate lot", "300,000.00"),
                              ("Golf 1.5 TSI", "Vehicle", "14,814.80")]:
        card = _card(html, name)
        assert f'<span class="badge badge-kind">{kind}</span>' in card
        assert f"{price}&nbsp;€" in card


def _card(html: str, name: str) -> str:
    """The HTML of the product card showing `name`."""
    start = html.index(f'<h3 class="product-card-name">{name}</h3>')
    start = html.rindex("<article", 0, start)
    return html[start:html.index("</article>", start)]


def test_prices_follow_the_visitors_language(shop, shop_client):
    with in_schema(shop):
        goods("Cargo bike", net="1028.80")
    shop_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    html = html_of(shop_client.get("/"))

    assert "1\xa0234,56&nbsp;€" in _card(html, "Cargo bike")


def test_archived_products_are_never_listed(shop, shop_client):
    with in_schema(shop):
        goods("Kept bike")
        products_archive(product_ids=[goods("Old bike").pk])

    html = html_of(shop_client.get("/"))

    assert "Kept bike" in html
    assert "Old bike" not in html


def test_products_customers_cannot_buy_are_marked_unavailable(shop, shop_client):
    with in_schema(shop):
        goods("Bike in stock", stock="2")
        goods("Bike out of stock", stock="")
        lot("A01")
        sell(lot("B02"))

    html = html_of(shop_client.get("/"))

    assert "Out of stock" not in _card(html, "Bike in stock")
    assert '<span class="badge badge-out_of_stock">Out of stock</span>' in _card(html,
                                                                                "Bike out of stock")
    assert "badge-sold" not in _card(html, "Flat A01")
    assert '<span class="badge badge-sold">Sold</span>' in _card(html, "Flat B02")
    assert "is-unavailable" in _card(html, "Flat B02")


def test_the_default_image_is_the_cards_thumbnail(shop, shop_client):
    with in_schema(shop):
        bike = goods("Pictured bike")
        ProductImage.objects.create(product=bike, image="products/side.jpg", width=800,
                                    height=600, position=1)
        ProductImage.objects.create(product=bike, image="products/front.jpg",
                                    thumbnail="products/front-thumb.jpg", width=800, height=600,
                                    is_default=True, alt="The bike from the front")

    card = _card(html_of(shop_client.get("/")), "Pictured bike")

    assert "front-thumb.jpg" in card
    assert 'alt="The bike from the front"' in card
    assert "side.jpg" not in card


def test_search_finds_products_by_name(shop, shop_client):
    with in_schema(shop):
        goods("Road bike")
        goods("Helmet")

    html = html_of(shop_client.get("/", {"q": "road"}))

    assert "Road bike" in html
    assert "Helmet" not in html
    assert "1 product for “road”" in html


def test_kind_filter_shows_only_that_kind(shop, shop_client):
    with in_schema(shop):
        goods("Road bike")
        service("Bike fitting")

    html = html_of(shop_client.get("/", {"kind": "service"}))

    assert "Bike fitting" in html
    assert "Road bike" not in html
    assert '<option value="service" selected>' in html


def test_sort_by_price_uses_the_price_including_vat(shop, shop_client):
    with in_schema(shop):
        # 100 + 20 % = 120 is dearer than 110 + 5.5 % = 116.05, though its net price is lower.
        goods("Bike at 120", net="100.00")
        goods("Bike at 116", net="110.00", tax_rate=TaxRate.objects.get(rate=Decimal("5.5")))

    html = html_of(shop_client.get("/", {"sort": "-price"}))

    assert html.index("Bike at 120") < html.index("Bike at 116")


def test_a_category_lists_its_products_and_those_of_its_subcategories(shop, shop_client):
    with in_schema(shop):
        bikes = category_save(name="Bikes")
        road = category_save(name="Road", parent=bikes)
        goods("Road bike", category=road)
        goods("City bike", category=bikes)
        goods("Helmet", category=category_save(name="Helmets"))

    html = html_of(shop_client.get("/c/bikes/"))

    assert "Road bike" in html and "City bike" in html
    assert "Helmet</h3>" not in html
    assert '<a href="/c/bikes/" aria-current="page">Bikes</a>' in html
    assert '<a href="/c/bikes/road/">Road</a>' in html, "the current branch is open"
    assert "Road bike" in html_of(shop_client.get("/c/bikes/road/"))
    assert "City bike" not in html_of(shop_client.get("/c/bikes/road/"))


def test_an_unknown_category_is_not_found(shop, shop_client):
    assert shop_client.get("/c/nothing-here/").status_code == 404


def test_listing_is_paginated_with_filters_kept_in_the_links(shop, shop_client):
    with in_schema(shop):
        for n in range(30):
            service(f"Lesson {n:02d}")

    first = html_of(shop_client.get("/", {"kind": "service"}))
    second = html_of(shop_client.get("/", {"kind": "service", "page": "2"}))

    assert first.count('<article class="product-card') == 24
    assert "1–24 of 30" in first
    assert 'href="?kind=service&amp;page=2"' in first
    assert second.count('<article class="product-card') == 6
    assert "25–30 of 30" in second


def test_htmx_filter_requests_get_only_the_results(shop, shop_client):
    with in_schema(shop):
        goods("Road bike")

    response = shop_client.get("/", {"q": "road"}, headers=RESULTS)

    html = html_of(response)
    assert html.lstrip().startswith('<div id="catalog-results"')
    assert "<html" not in html and "Road bike" in html
    assert "HX-Request" in response["Vary"]


def test_the_listing_works_without_javascript(shop, shop_client):
    html = html_of(shop_client.get("/"))

    assert '<form class="filter-bar catalog-filters" method="get" action="/"' in html
    assert '<button class="button" type="submit">' in html


def test_an_empty_catalog_says_so(shop, shop_client):
    assert "Our catalog is on its way" in html_of(shop_client.get("/"))


def test_a_search_without_results_offers_to_clear_it(shop, shop_client):
    with in_schema(shop):
        goods("Road bike")

    html = html_of(shop_client.get("/", {"q": "submarine"}))

    assert "No product matches your search." in html
    assert '<a href="/">Clear the filters</a>' in html


def test_listing_queries_do_not_grow_with_the_number_of_products(shop, shop_client,
                                                                 django_assert_max_num_queries):
    def make(start: int, count: int) -> None:
        with in_schema(shop):
            category = Category.objects.first() or category_save(name="Bikes")
            for n in range(start, start + count):
                bike = goods(f"Bike {n:02d}", category=category)
                ProductImage.objects.create(product=bike, image=f"products/{n}.jpg", width=8,
                                            height=6, is_default=True)
                lot(f"L{n:02d}")
                service(f"Service {n:02d}")

    make(0, 1)
    with CaptureQueriesContext(connection) as small:
        assert "3 products" in html_of(shop_client.get("/"))
    assert len(small) <= 8

    make(1, 9)
    with django_assert_max_num_queries(len(small)):
        assert "30 products" in html_of(shop_client.get("/"))


# ---------------------------------------------------------------------------------------------
# Product page
# ---------------------------------------------------------------------------------------------
def test_goods_page_shows_availability_weight_and_dimensions(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike", stock="3", weight_kg=Decimal("8.2"), length_cm=Decimal("170"),
                     width_cm=Decimal("45"), height_cm=Decimal("100"))

    html = html_of(shop_client.get(f"/p/{bike.slug}/"))

    assert "<h1>Road bike</h1>" in html
    assert "120.00&nbsp;€" in html
    assert "<dd>In stock</dd>" in html
    assert "<dd>8.2 kg</dd>" in html
    assert "170 × 45 × 100 cm" in html


def test_goods_without_stock_say_out_of_stock(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike", stock="")

    assert "<dd>Out of stock</dd>" in html_of(shop_client.get(f"/p/{bike.slug}/"))


def test_service_page_shows_its_duration(shop, shop_client):
    with in_schema(shop):
        fitting = service("Bike fitting", duration_minutes=90, unit="hour")

    html = html_of(shop_client.get(f"/p/{fitting.slug}/"))

    assert "<dd>1 h 30 min</dd>" in html
    assert "/ hour" in html


def test_lot_page_shows_its_programme_and_features(shop, shop_client):
    with in_schema(shop):
        flat = lot("A12", floor=2, rooms=3, orientation="SW", parking_spaces=1,
                   project=programme("Les Jardins", city="Lyon"))

    html = html_of(shop_client.get(f"/p/{flat.slug}/"))

    assert '<a href="/projects/les-jardins/">Les Jardins</a>, Lyon' in html
    assert "<dd>64.5 m²</dd>" in html
    assert "<dt>Rooms</dt><dd>3</dd>" in html
    assert "<dt>Floor</dt><dd>2</dd>" in html
    assert "<dd>South-west</dd>" in html
    assert "<dt>Parking spaces</dt><dd>1</dd>" in html
    assert '<span class="badge badge-available">Available</span>' in html


def test_vehicle_page_shows_make_model_year_mileage_and_vin(shop, shop_client):
    with in_schema(shop):
        car = vehicle()

    html = html_of(shop_client.get(f"/p/{car.slug}/"))

    for expected in ["<dd>Volkswagen</dd>", "<dd>Golf</dd>", "<dd>2021</dd>", "<dd>42,300 km</dd>",
                     "<code>WVWZZZ1JZXW000001</code>"]:
        assert expected in html


def test_product_page_lists_the_specifications_of_its_type(shop, shop_client):
    with in_schema(shop):
        bikes = product_type_save(name="Bike")
        spec_definition_add(product_type=bikes, label="Frame size", kind=SpecKind.NUMBER,
                            unit="cm")
        spec_definition_add(product_type=bikes, label="Electric", kind=SpecKind.BOOLEAN)
        spec_definition_add(product_type=bikes, label="Colour", kind=SpecKind.TEXT)
        bike = goods("Road bike", product_type=bikes,
                     specs={"frame_size": "54", "electric": "no"})

    html = html_of(shop_client.get(f"/p/{bike.slug}/"))

    assert "<dt>Frame size</dt><dd>54 cm</dd>" in html
    assert "<dt>Electric</dt><dd>No</dd>" in html
    assert "Colour" not in html, "specifications left empty are not shown"


def test_product_page_links_each_image_to_its_full_size(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike")
        ProductImage.objects.create(product=bike, image="products/front.jpg",
                                    thumbnail="products/front-thumb.jpg", width=8, height=6,
                                    is_default=True)
        ProductImage.objects.create(product=bike, image="products/side.jpg", width=8, height=6,
                                    position=1)

    html = html_of(shop_client.get(f"/p/{bike.slug}/"))

    assert 'front.jpg"><img src="' in html and "front-thumb.jpg" in html
    assert 'side.jpg"><img src="' in html


def test_a_description_with_a_script_is_harmless(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike", description=(
            '<p>Light and <strong>fast</strong>.</p><script>alert(1)</script>'
            '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">more</a>'))

    html = html_of(shop_client.get(f"/p/{bike.slug}/"))

    assert "<p>Light and <strong>fast</strong>.</p>" in html
    assert "alert(" not in html
    assert "onerror" not in html.lower()
    assert "javascript:" not in html.lower()


def test_archived_and_unknown_products_are_not_found(shop, shop_client):
    with in_schema(shop):
        old = goods("Old bike")
        products_archive(product_ids=[old.pk])

    assert shop_client.get(f"/p/{old.slug}/").status_code == 404
    assert shop_client.get("/p/no-such-product/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Programme page
# ---------------------------------------------------------------------------------------------
def test_programme_page_lists_its_active_lots_available_first(shop, shop_client):
    with in_schema(shop):
        jardins = programme("Les Jardins", city="Lyon", status=Project.Status.UNDER_CONSTRUCTION,
                            description="<p>Twelve flats near the park.</p>")
        sell(lot("A01", project=jardins))
        lot("A02", project=jardins)
        products_archive(product_ids=[lot("A03", project=jardins).pk])
        lot("Z01", project=programme("Other programme"))

    html = html_of(shop_client.get("/projects/les-jardins/"))

    assert "<h1>Les Jardins" in html and "Under construction" in html
    assert "<p>Twelve flats near the park.</p>" in html
    assert "<dd>Lyon</dd>" in html
    assert "1 available" in html
    assert html.index("Flat A02") < html.index("Flat A01"), "available lots come first"
    assert '<span class="badge badge-sold">Sold</span>' in html
    assert "Flat A03" not in html and "Flat Z01" not in html


def test_an_unknown_programme_is_not_found(shop, shop_client):
    assert shop_client.get("/projects/nowhere/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Isolation between shops
# ---------------------------------------------------------------------------------------------
def test_a_shops_products_never_appear_in_another_shop(shop, other_shop, shop_client, beta_client):
    with in_schema(shop):
        bike = goods("Alpha-only bike")
        jardins = programme("Les Jardins")

    assert "Alpha-only bike" in html_of(shop_client.get("/"))
    assert "Alpha-only bike" not in html_of(beta_client.get("/"))
    assert "Alpha-only bike" not in html_of(beta_client.get("/", {"q": "alpha"}))
    assert beta_client.get(f"/p/{bike.slug}/").status_code == 404
    assert beta_client.get(f"/projects/{jardins.slug}/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Listing cache: per shop, never stale
# ---------------------------------------------------------------------------------------------
def test_a_repeated_visit_is_served_from_the_cache(shop, shop_client):
    with in_schema(shop):
        goods("Road bike")
    html_of(shop_client.get("/"))

    with CaptureQueriesContext(connection) as again:
        assert "Road bike" in html_of(shop_client.get("/"))

    catalog_tables = ("catalog_baseproduct", "catalog_category", "django_content_type")
    assert not [q for q in again if any(t in q["sql"] for t in catalog_tables)]


def test_an_edit_shows_on_the_next_visit(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike")
    assert "Road bike" in html_of(shop_client.get("/"))

    with in_schema(shop):
        product_update(product=bike, data={"name": "Gravel bike"})

    html = html_of(shop_client.get("/"))
    assert "Gravel bike" in html and "Road bike" not in html


def test_a_stock_change_shows_on_the_next_visit(shop, shop_client, owner):
    with in_schema(shop):
        bike = goods("Road bike", stock="1")
    assert "Out of stock" not in html_of(shop_client.get("/"))

    with in_schema(shop):
        stock_adjust(product=bike, counted=0, by=owner, reason="inventory count")

    assert "Out of stock" in _card(html_of(shop_client.get("/")), "Road bike")


def test_a_new_category_shows_on_the_next_visit(shop, shop_client):
    html_of(shop_client.get("/"))

    with in_schema(shop):
        category_save(name="Helmets")

    assert '<a href="/c/helmets/">Helmets</a>' in html_of(shop_client.get("/"))


def test_archiving_shows_on_the_next_visit(shop, shop_client):
    with in_schema(shop):
        bike = goods("Road bike")
    assert "Road bike" in html_of(shop_client.get("/"))

    with in_schema(shop):
        products_archive(product_ids=[bike.pk])

    assert "Road bike" not in html_of(shop_client.get("/"))


def test_the_cached_page_keeps_each_visitors_own_shell(shop, shop_client):
    """The cache holds the catalog fragment only: the shell (CSRF token of the language form,
    sign-in link) is the visitor's own."""
    with in_schema(shop):
        goods("Road bike")
    anonymous = html_of(shop_client.get("/"))
    staff = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))

    html = html_of(staff.get("/"))

    assert "Road bike" in html
    assert "Sign in" in anonymous and "Sign in" not in html
    assert 'href="/dashboard/"' in html
