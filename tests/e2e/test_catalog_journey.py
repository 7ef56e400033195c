"""The catalog journey: a merchant opens a shop, fills its catalog from the dashboard with a
programme and one product of each kind (goods, service, real-estate lot, vehicle), receives
stock, and finds it all in the storefront; an archived product leaves the storefront."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from catalog.models import BaseProduct, ProductStatus, RealEstateLot
from tenants.models import Shop
from tests.conftest import in_schema
from tests.e2e.steps import number, textbox

PASSWORD = "amber-orchard-compass-58"
VIN = "VF1AG000X64900001"

# Net prices typed in the form, and the price incl. VAT (default rate 20 %) the storefront
# shows for them in English: 1040.83 * 1.2 = 1248.996, rounded half-up per unit.
GOODS = {"name": "Terracotta planter", "sku": "POT-001", "net": "1040.83",
         "gross": "1,249.00 €"}
SERVICE = {"name": "Garden design consultation", "sku": "SRV-001", "net": "75.00",
           "gross": "90.00 €"}
LOT = {"name": "Apartment A12", "sku": "LOT-A12", "net": "250000.00", "gross": "300,000.00 €"}
VEHICLE = {"name": "Renault Kangoo van", "sku": "VEH-001", "net": "12500.00",
           "gross": "15,000.00 €"}
PROGRAMME = "Les Jardins"


def sign_up(page, server, *, subdomain: str, shop_name: str) -> None:
    page.goto(server.platform_url + "/signup/")
    page.get_by_label("Shop name").fill(shop_name)
    page.get_by_label("Shop address").fill(subdomain)
    page.get_by_label("Your email").fill(f"owner@{subdomain}.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my shop").click()
    page.wait_for_url(f"{server.shop_url(subdomain)}/dashboard/")


# The labels carry an aria-hidden "*" for required fields: the accessible name (what the role
# locators match) is the bare label.
def select(page, name: str):
    return page.get_by_role("combobox", name=name, exact=True)


def start_product(page, kind_label: str) -> None:
    """Catalog > New product > the kind's card."""
    page.locator("nav.sidenav").get_by_role("link", name="Catalog").click()
    page.locator("main").get_by_role("link", name="New product").first.click()
    expect(page.get_by_role("heading", name="What are you adding?", level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile(rf"^{re.escape(kind_label)}\b")).click()
    expect(page.get_by_role("heading", name=f"New {kind_label.lower()}", level=1)).to_be_visible()


def fill_common(page, product: dict) -> None:
    textbox(page, "Name").fill(product["name"])
    textbox(page, "SKU").fill(product["sku"])
    number(page, "Price excl. VAT").fill(product["net"])


def create_and_expect_detail(page, product: dict) -> None:
    page.get_by_role("button", name="Create product").click()
    expect(page).to_have_url(re.compile(r"/dashboard/catalog/\d+/$"))
    expect(page.get_by_role("heading", name=product["name"], level=1)).to_be_visible()
    expect(page.locator("#messages")).to_contain_text(f"{product['name']} is in your catalog.")


def storefront_card(page, name: str):
    return page.locator("article.product-card").filter(
        has=page.get_by_role("heading", name=name, exact=True))


def test_merchant_fills_the_catalog_and_finds_it_in_the_storefront(e2e_server, browser_page,
                                                                     shot):
    page = browser_page
    subdomain = f"e2e-{secrets.token_hex(4)}"
    shop_name = f"Jardin {subdomain[4:].upper()}"
    sign_up(page, e2e_server, subdomain=subdomain, shop_name=shop_name)
    shop_url = e2e_server.shop_url(subdomain)

    # Catalog, from the left navigation: an empty catalog invites a first product.
    catalog_link = page.locator("nav.sidenav").get_by_role("link", name="Catalog")
    catalog_link.click()
    expect(page).to_have_url(f"{shop_url}/dashboard/catalog/")
    expect(catalog_link).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name=re.compile(r"^Products"), level=1)).to_be_visible()
    expect(page.locator("main .empty-state")).to_contain_text("Your catalog is empty.")
    shot(page, "01-empty-catalog")

    # A programme, for the lot to come.
    page.get_by_role("navigation", name="Catalog sections").get_by_role(
        "link", name="Programmes").click()
    expect(page.get_by_role("heading", name="Programmes", level=1)).to_be_visible()
    textbox(page, "Name").fill(PROGRAMME)
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_role("heading", name=re.compile(rf"^{PROGRAMME}"), level=1)).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Programme created.")
    expect(page.locator("main")).to_contain_text("No lots yet.")
    shot(page, "02-programme-created")

    # Goods, with an initial stock of 3.
    start_product(page, "Goods")
    fill_common(page, GOODS)
    expect(select(page, "VAT rate")).to_have_value(re.compile(r"\d+"))
    number(page, "Initial stock").fill("3")
    shot(page, "03-goods-form")
    create_and_expect_detail(page, GOODS)
    stock_panel = page.locator("#stock-panel")
    available = stock_panel.locator(".stats div").filter(
        has=page.locator("dt", has_text="Available")).locator("dd")
    expect(available).to_have_text("3")
    goods_url = page.url

    # A stock receipt of 2 through the stock panel (HTMX swaps the panel in place).
    stock_panel.locator("summary", has_text="Receive or adjust stock").click()
    number(page, "Quantity received").fill("2")
    textbox(page, "Note").fill("Delivery note DN-42")
    page.get_by_role("button", name="Record receipt").click()
    expect(available).to_have_text("5")
    expect(page).to_have_url(goods_url)
    expect(stock_panel.locator("ol.movements")).to_contain_text("Delivery note DN-42")
    shot(page, "04-goods-stock-received")

    # A service sold by the hour, 90 minutes long.
    start_product(page, "Service")
    fill_common(page, SERVICE)
    select(page, "Unit").select_option(label="hour")
    number(page, "Duration (minutes)").fill("90")
    create_and_expect_detail(page, SERVICE)
    shot(page, "05-service-detail")

    # A real-estate lot of the programme.
    start_product(page, "Real-estate lot")
    fill_common(page, LOT)
    select(page, "Programme").select_option(label=PROGRAMME)
    textbox(page, "Lot number").fill("A12")
    number(page, "Surface (m²)").fill("64.5")
    number(page, "Rooms").fill("3")
    create_and_expect_detail(page, LOT)
    expect(page.locator("aside .card", has_text="Programme").get_by_role(
        "link", name=PROGRAMME)).to_be_visible()
    shot(page, "06-lot-detail")

    # A vehicle.
    start_product(page, "Vehicle")
    fill_common(page, VEHICLE)
    textbox(page, "Make").fill("Renault")
    textbox(page, "Model").fill("Kangoo")
    number(page, "Year").fill("2021")
    textbox(page, "VIN").fill(VIN)
    create_and_expect_detail(page, VEHICLE)
    shot(page, "07-vehicle-detail")

    # The dashboard list has the four of them.
    catalog_link.click()
    expect(page.locator("main h1 .count")).to_have_text("4")
    rows = page.locator("#product-table tbody tr")
    expect(rows).to_have_count(4)
    shot(page, "08-product-list")

    # The storefront lists each product with its price incl. VAT.
    page.locator("nav.sidenav").get_by_role("link", name="View storefront").click()
    expect(page).to_have_url(f"{shop_url}/")
    expect(page.get_by_role("heading", name=shop_name, level=1)).to_be_visible()
    expect(page.locator("#catalog-results-title")).to_have_text("4 products")
    # The shop took the signup's language (English): comma thousands, point decimals, and a
    # no-break space before the euro sign.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for product in (GOODS, SERVICE, LOT, VEHICLE):
        price = storefront_card(page, product["name"]).locator(".price")
        expect(price).to_have_text(f"{product['gross']} incl. VAT")
        assert price.text_content().startswith(product["gross"].replace(" €", "\u00a0€ "))
    shot(page, "09-storefront")

    # The lot's page names its programme, whose page lists the lot as available.
    storefront_card(page, LOT["name"]).get_by_role("link").click()
    expect(page.get_by_role("heading", name=LOT["name"], level=1)).to_be_visible()
    expect(page.locator(".product-summary .price")).to_contain_text(LOT["gross"])
    facts = page.locator(".product-facts")
    expect(facts).to_contain_text("64.5 m²")
    programme_link = facts.get_by_role("link", name=PROGRAMME)
    expect(programme_link).to_be_visible()
    shot(page, "10-storefront-lot")
    programme_link.click()
    expect(page).to_have_url(re.compile(r"/projects/les-jardins/$"))
    expect(page.get_by_role("heading", name=re.compile(rf"^{PROGRAMME}"), level=1)).to_be_visible()
    expect(page.locator("#lots-title .count")).to_have_text("1 available")
    lot_row = page.locator("table.lots-table tbody tr").filter(has_text=LOT["name"])
    expect(lot_row).to_have_count(1)
    expect(lot_row).to_contain_text("Lot A12")
    expect(lot_row.locator(".badge")).to_have_text("Available")
    expect(lot_row.locator(".price")).to_have_text(LOT["gross"])
    shot(page, "11-storefront-programme")

    # Archiving the vehicle hides it from the storefront.
    page.goto(f"{shop_url}/dashboard/catalog/")
    page.locator("#product-table").get_by_role("link", name=VEHICLE["name"]).click()
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("#messages")).to_contain_text(
        f"{VEHICLE['name']} is archived: hidden from the storefront.")
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    shot(page, "12-vehicle-archived")
    page.locator("nav.sidenav").get_by_role("link", name="View storefront").click()
    expect(page.locator("#catalog-results-title")).to_have_text("3 products")
    expect(storefront_card(page, VEHICLE["name"])).to_have_count(0)
    for product in (GOODS, SERVICE, LOT):
        expect(storefront_card(page, product["name"])).to_have_count(1)
    shot(page, "13-storefront-after-archive")

    # What the browser did is what the shop's schema holds.
    shop = Shop.objects.get(domains__domain=f"{subdomain}.localhost")
    with in_schema(shop):
        statuses = dict(BaseProduct.objects.values_list("sku", "status"))
        lot = RealEstateLot.objects.select_related("project").get(sku=LOT["sku"])
        assert lot.project.name == PROGRAMME
    assert statuses == {GOODS["sku"]: ProductStatus.ACTIVE, SERVICE["sku"]: ProductStatus.ACTIVE,
                        LOT["sku"]: ProductStatus.ACTIVE, VEHICLE["sku"]: ProductStatus.ARCHIVED}
    assert page.js_errors == []
