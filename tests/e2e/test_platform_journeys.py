"""The platform, proved end to end in a real browser (issue 7): four continuous journeys across
the apps, and a walk through the main staff and storefront pages with JavaScript off.

1. A merchant signs up, lands in the dashboard, adds stocked goods (stock received) and a
   service, and finds both in the storefront with their prices incl. VAT.
2. A customer registers, fills a cart, checks out and pays by card through the local Stripe
   server; staff find the order confirmed and invoiced (the shop's default for card-paid
   orders), prepare and ship it; the customer sees the paid invoice and downloads its PDF.
3. A salesperson builds and sends a quote for a real-estate lot; the customer accepts it through
   the emailed link; staff put a 35 % instalment at "Foundations" on the order, complete the
   milestone, and the instalment invoice is issued.
4. A platform admin suspends a shop from the console: its storefront and dashboard show it as
   unavailable; reactivating brings both back.

What a journey is not about (a shop's legal identity, its Stripe connection, a programme) is set
up through the services; what it is about is driven through the pages. Screenshots of the key
pages go to test-artifacts/screenshots/<test>-<step>.png.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.storage import storages
from playwright.sync_api import expect

from billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from billing.services.invoices import invoice_create_for_order, invoice_issue
from catalog.models import (
    BaseProduct,
    LotAvailability,
    Project,
    RealEstateLot,
    StockLevel,
    TaxRate,
)
from catalog.services.products import product_create
from sales.models import Order, OrderSource, OrderStatus, Quote, QuoteStatus
from sales.services.customers import customer_create, customer_register
from streams.models import Milestone, MilestoneStatus
from streams.services.work import task_create
from tenants.accounts.models import User
from tenants.models import Shop, ShopStatus
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.e2e import steps
from tests.e2e.steps import accept_quote_online, number, register_customer_form, textbox
from tests.sales.factories import place_order

PASSWORD = "saffron-lighthouse-quartz-64"
INVOICE_NUMBER = re.compile(r"F-\d{4}-\d{5}")
QUOTE_REF = re.compile(r"D-\d{4}-\d{5}")
QUOTE_LINK = re.compile(r"https?://\S+/q/[^/\s]+/")
# What French invoices must show about the seller: without it nothing can be invoiced.
LEGAL = {"legal_name": "Jardin Vert SAS", "legal_form": "SAS", "share_capital": "10 000 €",
         "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
         "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
         "bic": "BNPAFRPPXXX"}
STRIPE_ACCOUNT = "acct_1E2ePlatformJourney"
CARD = "4242 4242 4242 4242"

# Net prices as typed, and what the storefront shows incl. VAT (English formats; 20 % VAT
# unless said otherwise): 1040.83 * 1.2 = 1248.996, rounded half-up per unit.
GOODS = {"name": "Terracotta planter", "sku": "POT-001", "net": "1040.83", "gross": "1,249.00 €"}
SERVICE = {"name": "Garden design consultation", "sku": "SRV-001", "net": "75.00",
           "gross": "90.00 €"}
LOT = {"name": "Apartment A12", "sku": "LOT-A12", "net": "250000.00", "gross": "300,000.00 €"}


# ---------------------------------------------------------------------------------------------
# Set-up through the services, and small page helpers
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Issued documents (invoice PDFs) go to a temporary folder, not the development data
    (django-tenants' storage caches the root it first saw: the cache is dropped both ways)."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    storages["default"].__dict__.pop("relative_media_root", None)
    yield tmp_path
    storages["default"].__dict__.pop("relative_media_root", None)


def open_shop(label: str, *, legal: bool = False, **shop_fields) -> tuple[Shop, str]:
    """A new shop (claimed from the pool) with an English storefront; with `legal`, the legal
    identity invoices need."""
    subdomain = f"e2e-{label}-{secrets.token_hex(3)}"
    shop = shop_open(name=f"Jardin {subdomain[-6:].upper()}", subdomain=subdomain,
                     owner_email=f"owner@{subdomain}.test", owner_password=PASSWORD,
                     locale="en").shop
    fields = {**(LEGAL if legal else {}), **shop_fields}
    if fields:
        Shop.objects.filter(pk=shop.pk).update(**fields)
        shop = Shop.objects.get(pk=shop.pk)  # FSM-protected status: no refresh_from_db
    return shop, subdomain


def owner_email(subdomain: str) -> str:
    return f"owner@{subdomain}.test"


def add_staff(shop: Shop, email: str, name: str, role: str) -> None:
    with in_schema(shop):
        user = User.objects.create_user(email, PASSWORD, is_staff=True, full_name=name)
        user.groups.add(Group.objects.get(name=role))


def rate_20() -> TaxRate:
    return TaxRate.objects.get(rate=Decimal("20.00"))


def sign_in_staff(page, shop_url: str, email: str) -> None:
    steps.sign_in_staff(page, shop_url, email, PASSWORD)


def sidenav(page, name: str):
    return page.locator("nav.sidenav").get_by_role("link", name=name, exact=True)


def storefront_card(page, name: str):
    return page.locator("article.product-card").filter(
        has=page.get_by_role("heading", name=name, exact=True))


def badge(scope):
    return scope.locator(".badge").first


def settled(page) -> None:
    """HTMX has finished swapping and settling (a change fired before is lost)."""
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-added, .htmx-swapping")
           ).to_have_count(0)


def htmx_ready(page) -> None:
    """The page has loaded and htmx (a deferred script) has wired it up: before that, a
    search box typed into does nothing and a form posts the whole page."""
    # htmx wires the page up on DOMContentLoaded, which is over once "load" fires. (Not
    # wait_for_function: its predicate is compiled in the page, which the CSP forbids.)
    page.wait_for_load_state("load")


def register_customer(page, shop_url: str, customer: dict) -> None:
    page.goto(shop_url + "/account/signup/")
    register_customer_form(page, shop_url, customer, PASSWORD)


# ---------------------------------------------------------------------------------------------
# 1. A merchant signs up and fills the catalog
# ---------------------------------------------------------------------------------------------
def start_product(page, kind_label: str) -> None:
    """Catalog > New product > the kind's card."""
    sidenav(page, "Catalog").click()
    page.locator("main").get_by_role("link", name="New product").first.click()
    expect(page.get_by_role("heading", name="What are you adding?", level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile(rf"^{re.escape(kind_label)}\b")).click()
    expect(page.get_by_role("heading", name=f"New {kind_label.lower()}", level=1)).to_be_visible()


def fill_product(page, product: dict) -> None:
    textbox(page, "Name").fill(product["name"])
    textbox(page, "SKU").fill(product["sku"])
    number(page, "Price excl. VAT").fill(product["net"])


def create_product(page, product: dict) -> None:
    page.get_by_role("button", name="Create product").click()
    expect(page).to_have_url(re.compile(r"/dashboard/catalog/\d+/$"))
    expect(page.get_by_role("heading", name=product["name"], level=1)).to_be_visible()
    expect(page.locator("#messages")).to_contain_text(f"{product['name']} is in your catalog.")


def test_journey_1_a_merchant_signs_up_and_sells_goods_and_a_service(e2e_server, browser_page,
                                                                      shot):
    page = browser_page
    subdomain = f"e2e-j1-{secrets.token_hex(3)}"
    shop_name = f"Atelier {subdomain[-6:].upper()}"
    shop_url = e2e_server.shop_url(subdomain)

    # The public site sends the merchant to the signup form; the shop opens on its own host.
    page.goto(e2e_server.platform_url + "/")
    shot(page, "01-platform-home")
    page.locator("main").get_by_role("link", name="Open your shop").click()
    page.get_by_label("Shop name").fill(shop_name)
    page.get_by_label("Shop address").fill(subdomain)
    page.get_by_label("Your email").fill(owner_email(subdomain))
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "02-signup")
    page.get_by_role("button", name="Create my shop").click()
    page.wait_for_url(shop_url + "/dashboard/")
    expect(page.locator("nav.sidenav .brand")).to_have_text(shop_name)
    expect(page.get_by_text("Welcome to your shop!")).to_be_visible()
    expect(page.get_by_role("link", name="Add your first product")).to_be_visible()
    shot(page, "03-dashboard")

    # Goods with 3 in stock at creation, then a delivery of 2 received in the stock panel.
    start_product(page, "Goods")
    fill_product(page, GOODS)
    number(page, "Initial stock").fill("3")
    create_product(page, GOODS)
    stock_panel = page.locator("#stock-panel")
    available = stock_panel.locator(".stats div").filter(
        has=page.locator("dt", has_text="Available")).locator("dd")
    expect(available).to_have_text("3")
    stock_panel.locator("summary", has_text="Receive or adjust stock").click()
    number(page, "Quantity received").fill("2")
    textbox(page, "Note").fill("Delivery note DN-7")
    page.get_by_role("button", name="Record receipt").click()
    expect(available).to_have_text("5")
    expect(stock_panel.locator("ol.movements")).to_contain_text("Delivery note DN-7")
    shot(page, "04-goods-stock-received")

    # A service, sold by the hour.
    start_product(page, "Service")
    fill_product(page, SERVICE)
    page.get_by_role("combobox", name="Unit", exact=True).select_option(label="hour")
    create_product(page, SERVICE)
    shot(page, "05-service")

    sidenav(page, "Catalog").click()
    expect(page.locator("main h1 .count")).to_have_text("2")
    expect(page.locator("#product-table tbody tr")).to_have_count(2)
    shot(page, "06-product-list")

    # The storefront lists both with their prices incl. VAT; the goods are in stock.
    page.locator("nav.sidenav").get_by_role("link", name="View storefront").click()
    expect(page).to_have_url(shop_url + "/")
    expect(page.get_by_role("heading", name=shop_name, level=1)).to_be_visible()
    expect(page.locator("#catalog-results-title")).to_have_text("2 products")
    expect(storefront_card(page, GOODS["name"]).locator(".price")).to_have_text(
        f"{GOODS['gross']} incl. VAT")
    expect(storefront_card(page, SERVICE["name"]).locator(".price")).to_have_text(
        f"{SERVICE['gross']} incl. VAT")
    shot(page, "07-storefront")
    storefront_card(page, GOODS["name"]).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=GOODS["name"], level=1)).to_be_visible()
    expect(page.locator(".product-summary .price")).to_contain_text(GOODS["gross"])
    expect(page.locator(".product-summary .badge-in_stock")).to_have_text("In stock")
    expect(page.get_by_role("button", name="Add to cart")).to_be_visible()
    shot(page, "08-storefront-goods")

    shop = Shop.objects.get(domains__domain=f"{subdomain}.localhost")
    assert (shop.status, shop.owner_email) == (ShopStatus.ACTIVE, owner_email(subdomain))
    with in_schema(shop):
        goods = BaseProduct.objects.get(sku=GOODS["sku"])
        assert StockLevel.objects.get(pk=goods.pk).on_hand == Decimal("5")
        assert BaseProduct.objects.get(sku=SERVICE["sku"]).net_price == Decimal("75.00")
    assert page.js_errors == []


# ---------------------------------------------------------------------------------------------
# 2. A customer pays by card; staff prepare and ship; the customer finds the paid invoice
# ---------------------------------------------------------------------------------------------
CUSTOMER = {"email": "irene.joliot@example.test", "first_name": "Irène", "last_name": "Joliot"}
PLANTER = {"sku": "POT-010", "name": "Glazed planter", "net": "25.00"}  # 30.00 € incl. VAT
BOOK = {"sku": "BOOK-010", "name": "The gardener's year", "net": "18.00"}  # 18.99 € at 5.5 %


def open_card_shop() -> tuple[Shop, str]:
    """A shop with its legal identity and a connected Stripe account (charges enabled),
    selling a planter and a book."""
    shop, subdomain = open_shop("j2", legal=True, stripe_account_id=STRIPE_ACCOUNT,
                                stripe_charges_enabled=True)
    with in_schema(shop):
        product_create(kind="goods", initial_stock=Decimal("10"), data={
            "sku": PLANTER["sku"], "name": PLANTER["name"], "net_price": Decimal(PLANTER["net"]),
            "tax_rate": rate_20()})
        product_create(kind="goods", initial_stock=Decimal("4"), data={
            "sku": BOOK["sku"], "name": BOOK["name"], "net_price": Decimal(BOOK["net"]),
            "tax_rate": TaxRate.objects.get(rate=Decimal("5.50"))})
    return shop, subdomain


def add_to_cart(page, name: str, *, quantity: str, cart_count: int) -> None:
    """Storefront > the product's card > its page > quantity > "Add to cart" (HTMX)."""
    page.locator("header .brand").click()
    storefront_card(page, name).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("spinbutton", name="Quantity").fill(quantity)
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("link", name=f"Cart ({cart_count})")).to_be_visible()


def test_journey_2_a_customer_pays_by_card_staff_ship_and_the_invoice_is_paid(
        e2e_server, stripe_settings, media, open_page, shot):
    shop, subdomain = open_card_shop()
    shop_url = e2e_server.shop_url(subdomain)
    # Stripe's webhook reaches the platform host before the hosted page sends the customer back.
    stripe_settings.configure_webhook(e2e_server.platform_url + "/stripe/webhook/")

    # The customer registers on the storefront and fills a cart: two planters and a book.
    page = open_page()
    register_customer(page, shop_url, CUSTOMER)
    shot(page, "01-account-created")
    add_to_cart(page, PLANTER["name"], quantity="2", cart_count=1)
    add_to_cart(page, BOOK["name"], quantity="1", cart_count=2)
    page.get_by_role("link", name="Cart (2)").click()
    expect(page.locator("section.cart-totals dd.grand-total")).to_have_text("78.99 €")
    shot(page, "02-cart")

    # Checkout: picked up at the shop, paid by card (offered first: the shop takes cards).
    page.get_by_role("link", name="Checkout").click()
    expect(textbox(page, "Email")).to_have_value(CUSTOMER["email"])
    billing = page.get_by_role("group", name="Billing address")
    textbox(billing, "Address").fill("12 rue des Écoles")
    textbox(billing, "Postal code").fill("75005")
    textbox(billing, "City").fill("Paris")
    page.get_by_role("radio", name=re.compile(r"^Pickup at the shop")).check()
    expect(page.get_by_role("radio", name=re.compile(r"^Card"))).to_be_checked()
    page.get_by_role("button", name="Review your order").click()
    summary = page.locator("aside dl.totals")
    expect(summary).to_contain_text(re.compile(r"VAT 20 % on 50\.00\s€\s*10\.00\s€"))
    expect(summary).to_contain_text(re.compile(r"VAT 5\.5 % on 18\.00\s€\s*0\.99\s€"))
    expect(summary.locator("dd.grand-total")).to_have_text("78.99 €")
    shot(page, "03-review")
    page.get_by_role("button", name="Place order and pay by card").click()

    # Stripe's hosted page (the local server): the test card pays the order's amount.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_settings.api_base)}/pay/cs_"))
    expect(page.get_by_role("heading", name="Pay 78.99 EUR")).to_be_visible()
    page.get_by_label("Card number").fill(CARD)
    shot(page, "04-stripe-hosted-page")
    page.get_by_role("button", name="Pay 78.99 EUR").click()
    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", level=1)).to_have_text("Paid — thank you")
    with in_schema(shop):
        order = Order.objects.get()
        invoice = Invoice.objects.get(order=order)
        assert Payment.objects.get(order=order).status == PaymentStatus.SUCCEEDED
    expect(status).to_contain_text(f"for order {order.number}")
    shot(page, "05-paid")
    # The shop invoices card-paid orders at once (its default): the invoice is issued and paid.
    assert (order.status, invoice.status, invoice.gross_total) == (
        OrderStatus.CONFIRMED, InvoiceStatus.PAID, Decimal("78.99"))
    assert INVOICE_NUMBER.fullmatch(invoice.number)

    # Staff: the order is in the list, confirmed by the payment, its invoice paid.
    staff = open_page()
    sign_in_staff(staff, shop_url, owner_email(subdomain))
    sidenav(staff, "Orders").click()
    row = staff.locator("#order-table tbody tr").filter(has_text=order.number)
    expect(row).to_contain_text("Confirmed")
    expect(row).to_contain_text("78.99 €")
    shot(staff, "06-dashboard-orders")
    row.get_by_role("link", name=order.number).click()
    header = staff.locator("#order-header")
    expect(badge(header)).to_have_text("Confirmed")
    order_invoices = staff.locator("#order-invoices")
    expect(order_invoices.get_by_role("listitem").filter(has_text=invoice.number)
           ).to_contain_text("Paid")
    expect(order_invoices).to_contain_text("The whole order is invoiced.")
    history = staff.locator("#order-history")
    expect(history).to_contain_text("Order placed")
    expect(history).to_contain_text("Confirmed")

    # ... they prepare and ship it (HTMX buttons, no reload).
    htmx_ready(staff)
    staff.evaluate("window.sameDocument = true")
    staff.get_by_role("button", name="Start preparing").click()
    expect(badge(header)).to_have_text("Processing")
    settled(staff)
    header.locator("summary", has_text="Mark shipped").click()
    staff.get_by_role("textbox", name="Tracking reference").fill("COLIS-77")
    header.get_by_role("button", name="Mark shipped").click()
    expect(badge(header)).to_have_text("Shipped")
    expect(staff.locator("#order-facts")).to_contain_text("COLIS-77")
    expect(history).to_contain_text("Shipped")
    assert staff.evaluate("window.sameDocument") is True, "the order page was reloaded"
    shot(staff, "07-dashboard-order-shipped")

    # ... and find the invoice, paid by card, on its page and in the invoices list.
    order_invoices.get_by_role("link", name=re.compile(re.escape(invoice.number))).click()
    expect(staff.locator("#invoice-header .badge")).to_have_text("Paid")
    expect(staff.locator("#invoice-payments")).to_contain_text("Card")
    shot(staff, "08-dashboard-invoice")
    sidenav(staff, "Invoices").click()
    invoice_row = staff.locator("#invoice-table tbody tr").filter(has_text=invoice.number)
    expect(invoice_row).to_contain_text("Paid")
    expect(invoice_row).to_contain_text("78.99 €")
    shot(staff, "09-dashboard-invoices")

    # The customer: the order is shipped, the invoice paid, its PDF downloads.
    page.goto(shop_url + f"/account/orders/{order.number}/")
    expect(page.get_by_role("heading", name=f"Order {order.number}", level=1)).to_contain_text(
        "Shipped")
    page.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Invoices").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=invoice.number))
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("78.99 €")
    shot(page, "10-account-invoices")
    row.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {invoice.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    expect(page.locator(".invoice-balance")).to_have_text("0.00 €")
    shot(page, "11-account-invoice")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download PDF").click()
    assert caught.value.suggested_filename == f"{invoice.number}.pdf"
    assert Path(caught.value.path()).read_bytes().startswith(b"%PDF")

    with in_schema(shop):
        assert Order.objects.get().status == OrderStatus.SHIPPED
        planter = BaseProduct.objects.get(sku=PLANTER["sku"])
        level = StockLevel.objects.get(pk=planter.pk)
        assert (level.on_hand, level.reserved) == (Decimal("8"), Decimal("0"))  # 2 sold
    assert page.js_errors == []
    assert staff.js_errors == []


# ---------------------------------------------------------------------------------------------
# 3. A quote for a lot, accepted online; a milestone bills the first instalment
# ---------------------------------------------------------------------------------------------
SELLER = {"email": "sam.seller@staff.test", "name": "Sam Seller"}
BUYER = {"email": "marie.curie@example.test", "first_name": "Marie", "last_name": "Curie"}


def test_journey_3_a_quote_for_a_lot_is_accepted_and_a_milestone_bills_an_instalment(
        e2e_server, media, open_page, shot):
    shop, subdomain = open_shop("j3", legal=True)
    shop_url = e2e_server.shop_url(subdomain)
    with in_schema(shop):
        project = Project.objects.create(name="Les Jardins", slug="les-jardins")
        product_create(kind="lot", data={
            "sku": LOT["sku"], "name": LOT["name"], "net_price": Decimal(LOT["net"]),
            "tax_rate": rate_20(), "project": project, "lot_number": "A12",
            "surface_m2": Decimal("64.5")})
        customer_create(data={**BUYER, "kind": "person"}, by=None)
    add_staff(shop, SELLER["email"], SELLER["name"], "sales")

    # The salesperson builds the quote: the customer by search, the lot through the picker.
    seller = open_page()
    sign_in_staff(seller, shop_url, SELLER["email"])
    sidenav(seller, "Quotes").click()
    seller.locator("main").get_by_role("link", name="New quote").first.click()
    seller.get_by_role("searchbox", name="Find a customer").fill("Curie")
    seller.get_by_role("link", name="Marie Curie").click()
    textbox(seller, "Terms").fill("Paid in instalments at the construction milestones.")
    seller.get_by_role("button", name="Create quote and add lines").click()
    heading = seller.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Draft")
    reference = QUOTE_REF.search(heading.text_content()).group(0)
    picker = seller.locator("details").filter(has_text="Add a product from the catalog")
    htmx_ready(seller)
    picker.get_by_role("searchbox", name="Find a product").fill("A12")
    picker.get_by_role("group", name="Product").get_by_role(
        "radio", name=re.compile(rf"^{LOT['name']}\b")).check()  # waits for the results
    textbox(picker, "Quantity").fill("1")
    picker.get_by_role("button", name="Add line").click()
    expect(seller.locator("#quote-lines tbody")).to_contain_text(LOT["sku"])
    expect(seller.locator("#quote-totals dd.grand")).to_have_text(LOT["gross"])
    shot(seller, "01-quote-built")

    # Sent: the customer is emailed a signed link.
    mail.outbox.clear()
    seller.get_by_role("button", name="Send quote").click()
    expect(heading).to_contain_text("Sent")
    expect(seller.locator("#messages")).to_contain_text(f"sent to {BUYER['email']}")
    shot(seller, "02-quote-sent")
    [email] = [m for m in mail.outbox if m.to == [BUYER["email"]]]
    link = QUOTE_LINK.search(email.body).group(0)
    assert link.startswith(shop_url + "/q/"), link

    # The customer opens the link (not signed in), signs and accepts: an order is placed.
    customer = open_page()
    customer.goto(link)
    expect(customer.get_by_role("heading", name=f"Quote {reference}", level=1)).to_be_visible()
    expect(customer.locator("main")).to_contain_text(LOT["name"])
    expect(customer.locator("main")).to_contain_text(LOT["gross"])
    shot(customer, "03-public-quote")
    number = accept_quote_online(customer, reference)
    shot(customer, "04-quote-accepted")
    with in_schema(shop):
        assert Quote.objects.get(number=reference).status == QuoteStatus.CONVERTED
        order = Order.objects.get()
        assert (order.number, order.source) == (number, OrderSource.QUOTE)
        assert RealEstateLot.objects.get(sku=LOT["sku"]).availability == \
            LotAvailability.RESERVED

    # The salesperson follows the quote to its order.
    seller.reload()
    expect(heading).to_contain_text("Converted")
    seller.locator("aside").get_by_role("link", name=number).click()
    expect(seller.get_by_role("heading", name=f"Order {number}", level=1)).to_be_visible()

    # The owner puts the first instalment on the order: 35 % at "Foundations".
    staff = open_page()
    sign_in_staff(staff, shop_url, owner_email(subdomain))
    sidenav(staff, "Orders").click()
    staff.get_by_role("link", name=number).click()
    section = staff.locator("#milestones-section")
    expect(section.get_by_role("heading", level=2)).to_contain_text(
        "Milestones and billing schedule")
    expect(staff.locator("#order-invoices")).to_contain_text("Not invoiced yet.")
    htmx_ready(staff)
    section.locator("summary", has_text="Add a milestone").click()
    textbox(section, "Name").fill("Foundations")
    textbox(section, "Share of the order billed at completion (%)").fill("35")
    section.get_by_role("button", name="Add milestone").click()
    row = section.locator("tbody tr").filter(has_text="Foundations")
    expect(row).to_contain_text("35 %")
    expect(row).to_contain_text("At completion")
    expect(badge(row)).to_have_text("Planned")
    expect(section).to_contain_text("65 % of the order is not scheduled")
    shot(staff, "05-milestone-planned")

    # Work starts, then the foundations are done: completing bills the instalment.
    settled(staff)
    row.get_by_role("button", name="Start").click()
    expect(badge(row)).to_have_text("In progress")
    settled(staff)
    row.get_by_role("button", name="Complete and bill 35 %").click()
    expect(badge(row)).to_have_text("Completed")
    invoice_link = row.get_by_role("link", name=INVOICE_NUMBER)
    expect(invoice_link).to_be_visible()
    invoice_number = invoice_link.text_content().strip()
    instalment = staff.locator("#order-invoices").get_by_role("listitem").filter(
        has_text=invoice_number)
    expect(instalment).to_contain_text("Issued")
    expect(instalment).to_contain_text("105,000.00 €")  # 35 % of 300,000.00 €
    expect(instalment).to_contain_text("35 %")
    shot(staff, "06-milestone-completed-and-billed")

    # The instalment invoice is in the invoices list, and its page says what it bills.
    sidenav(staff, "Invoices").click()
    invoice_row = staff.locator("#invoice-table tbody tr").filter(has_text=invoice_number)
    expect(invoice_row).to_contain_text("Issued")
    expect(invoice_row).to_contain_text("105,000.00 €")
    shot(staff, "07-invoices-list")
    invoice_row.get_by_role("link", name=invoice_number).click()
    expect(staff.locator("#invoice-header .badge")).to_have_text("Issued")
    expect(staff.locator("main")).to_contain_text(f"Deposit of 35 % on order {number}")
    shot(staff, "08-instalment-invoice")

    with in_schema(shop):
        milestone = Milestone.objects.get(name="Foundations")
        [invoice] = Invoice.objects.filter(order__number=number)
        assert milestone.status == MilestoneStatus.COMPLETED
        assert (invoice.number, invoice.status, invoice.order_percent, invoice.gross_total) == (
            invoice_number, InvoiceStatus.ISSUED, Decimal("35.00"), Decimal("105000.00"))
    assert seller.js_errors == [] and customer.js_errors == [] and staff.js_errors == []


# ---------------------------------------------------------------------------------------------
# 4. A platform admin suspends a shop, then reactivates it
# ---------------------------------------------------------------------------------------------
# Not root@platform.test: this one is committed and kept, and the `platform_admin` fixture
# (tests/conftest.py) creates that address in later tests of the same database.
ADMIN = {"email": "journey-admin@platform.test"}


@pytest.fixture(scope="session")
def console_admin(_platform, django_db_blocker) -> User:
    """A platform admin (public schema), made before `committed` takes its snapshot and kept:
    platform admins are deactivated, never deleted (see tenants/accounts/admin.py)."""
    with django_db_blocker.unblock():
        admin = User.objects.filter(email=ADMIN["email"]).first()
        if admin is None:
            admin = User.objects.create_user(ADMIN["email"], PASSWORD, is_staff=True)
        return admin


def test_journey_4_a_suspended_shop_is_unavailable_until_reactivated(console_admin, e2e_server,
                                                                       open_page, shot):
    shop, subdomain = open_shop("j4")
    shop_url = e2e_server.shop_url(subdomain)
    with in_schema(shop):
        product_create(kind="service", data={"sku": SERVICE["sku"], "name": SERVICE["name"],
                                             "net_price": Decimal(SERVICE["net"])})

    # A visitor browses the storefront; the owner works in the dashboard.
    visitor = open_page()
    visitor.goto(shop_url + "/")
    expect(storefront_card(visitor, SERVICE["name"])).to_be_visible()
    owner = open_page()
    sign_in_staff(owner, shop_url, owner_email(subdomain))

    # The platform admin signs in to the console and finds the shop.
    admin = open_page()
    admin.goto(e2e_server.platform_url + "/console/")
    expect(admin).to_have_url(re.compile(r"/console/login/\?next=/console/$"))
    admin.get_by_label("Email").fill(ADMIN["email"])
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin).to_have_url(e2e_server.platform_url + "/console/")
    admin.get_by_role("searchbox").fill(subdomain)
    admin.get_by_role("button", name="Filter").click()
    row = admin.locator("#shop-table tbody tr").filter(has_text=f"{subdomain}.localhost")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Active")
    shot(admin, "01-console-shops")
    row.get_by_role("link", name=shop.name).click()
    expect(admin.get_by_role("heading", name=shop.name, level=1)).to_be_visible()

    # Suspended, with a reason: the console says so and keeps it in the shop's history.
    danger = admin.locator("section.danger-zone")
    danger.get_by_role("textbox", name="Reason").first.fill("Unpaid subscription")
    danger.get_by_role("button", name="Suspend shop").click()
    expect(admin.locator("#messages")).to_contain_text(
        f"{shop.name} is suspended: its visitors, staff and API are refused.")
    expect(admin.get_by_role("heading", name=shop.name, level=1)).to_contain_text("Suspended")
    expect(admin.locator("ol.timeline")).to_contain_text("Unpaid subscription")
    shot(admin, "02-console-suspended")
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.SUSPENDED

    # The storefront shows the "unavailable" page; the dashboard is refused too.
    answer = visitor.goto(shop_url + "/")
    assert answer.status == 503
    expect(visitor.get_by_role("heading", name="This shop is temporarily unavailable",
                               level=1)).to_be_visible()
    expect(storefront_card(visitor, SERVICE["name"])).to_have_count(0)
    shot(visitor, "03-storefront-unavailable")
    answer = owner.goto(shop_url + "/dashboard/")
    assert answer.status == 503
    expect(owner.get_by_role("heading", name="This shop is temporarily unavailable",
                             level=1)).to_be_visible()
    expect(owner.locator("nav.sidenav")).to_have_count(0)
    shot(owner, "04-dashboard-unavailable")
    assert owner.goto(shop_url + "/accounts/login/").status == 503

    # Reactivated: the storefront and the dashboard (same session) are back.
    admin.get_by_role("button", name="Reactivate").click()
    expect(admin.locator("#messages")).to_contain_text(f"{shop.name} is active again.")
    expect(admin.get_by_role("heading", name=shop.name, level=1)).to_contain_text("Active")
    shot(admin, "05-console-reactivated")
    assert visitor.goto(shop_url + "/").status == 200
    expect(storefront_card(visitor, SERVICE["name"])).to_be_visible()
    assert owner.goto(shop_url + "/dashboard/").status == 200
    expect(owner.locator("nav.sidenav .brand")).to_have_text(shop.name)
    shot(owner, "06-dashboard-back")
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.ACTIVE
    assert admin.js_errors == [] and visitor.js_errors == [] and owner.js_errors == []


# ---------------------------------------------------------------------------------------------
# Without JavaScript: plain links and form posts do everything
# ---------------------------------------------------------------------------------------------
MANAGER = {"email": "max.manager@staff.test", "name": "Max Manager"}
SHOPPER = {"email": "paul.langevin@example.test", "first_name": "Paul", "last_name": "Langevin"}


def prepare_plain_shop() -> tuple[Shop, str, dict]:
    """A shop with goods and a service, a registered customer whose order waits for staff and
    is already invoiced, and a task a manager gave the owner (which lands in their inbox)."""
    shop, subdomain = open_shop("nojs", legal=True)
    add_staff(shop, MANAGER["email"], MANAGER["name"], "manager")
    with in_schema(shop):
        planter = product_create(kind="goods", initial_stock=Decimal("10"), data={
            "sku": PLANTER["sku"], "name": PLANTER["name"], "net_price": Decimal(PLANTER["net"]),
            "tax_rate": rate_20()})
        product_create(kind="service", data={"sku": SERVICE["sku"], "name": SERVICE["name"],
                                             "net_price": Decimal(SERVICE["net"])})
        customer = customer_register(password=PASSWORD, **SHOPPER)
        order = place_order((planter, 1), customer=customer, email=SHOPPER["email"],
                            first_name=SHOPPER["first_name"], last_name=SHOPPER["last_name"])
        invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None), by=None)
        owner = User.objects.get(email=owner_email(subdomain))
        task_create(subject=order, title="Call the customer about delivery",
                    by=User.objects.get(email=MANAGER["email"]), assignee=owner)
    return shop, subdomain, {"order": order.number, "invoice": invoice.number}


def plain_submit(page, button) -> None:
    """Click a form's button and wait for the page the server answers with (no JavaScript:
    every form is a full page load)."""
    with page.expect_navigation():
        button.click()


# What only htmx could run: a form without an action, a link without an href, a control that
# posts or loads on its own outside a form that would post it anyway.
JS_ONLY = ", ".join(["form[hx-post]:not([action])", "form[hx-get]:not([action])",
                     "a[hx-get]:not([href])", "a[hx-post]"]
                    + [f"{tag}[{verb}]:not(form[action] {tag})" for tag in ("button", "input",
                                                                          "select", "textarea")
                       for verb in ("hx-get", "hx-post")])


def test_staff_and_storefront_pages_work_without_javascript(e2e_server, media, open_page,
                                                            shot):
    def seen(page, step: str) -> None:
        """The page offers nothing that needs JavaScript; its screenshot is kept."""
        expect(page.locator(JS_ONLY)).to_have_count(0)
        shot(page, step)

    shop, subdomain, made = prepare_plain_shop()
    shop_url = e2e_server.shop_url(subdomain)
    number, invoice_number = made["order"], made["invoice"]

    # Staff sign in (a plain form post) and land on the dashboard home.
    staff = open_page(java_script_enabled=False)
    staff.goto(shop_url + "/accounts/login/")
    staff.get_by_label("Email").fill(owner_email(subdomain))
    staff.get_by_label("Password").fill(PASSWORD)
    plain_submit(staff, staff.get_by_role("button", name="Sign in"))
    expect(staff).to_have_url(shop_url + "/dashboard/")
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(staff.get_by_role("heading", name=re.compile(r"^Get your shop ready"))).to_be_visible()
    seen(staff, "01-dashboard-home")

    # The top bar's search (a plain GET): the customer's name finds their order and invoice.
    search = staff.locator("header.topbar").get_by_role("searchbox", name="Search")
    search.fill(SHOPPER["last_name"])
    with staff.expect_navigation():
        search.press("Enter")
    expect(staff).to_have_url(f"{shop_url}/dashboard/search/?q={SHOPPER['last_name']}")
    results = staff.locator("main")
    expect(results.get_by_role("heading", name="Orders", level=2)).to_be_visible()
    expect(results.get_by_role("link", name=number)).to_be_visible()
    expect(results.get_by_role("link", name=invoice_number)).to_be_visible()
    seen(staff, "01b-search")

    # Catalog: the filter form is submitted as a plain GET, its answer filtered.
    sidenav(staff, "Catalog").click()
    expect(staff.locator("main h1 .count")).to_have_text("2")
    staff.get_by_placeholder("Name or SKU").fill("planter")
    plain_submit(staff, staff.get_by_role("button", name="Filter"))
    expect(staff).to_have_url(re.compile(r"/dashboard/catalog/\?(.+&)?q=planter"))
    expect(staff.locator("main h1 .count")).to_have_text("1")
    expect(staff.locator("#product-table tbody tr")).to_have_count(1)
    expect(staff.locator("#product-table tbody")).to_contain_text(PLANTER["name"])
    seen(staff, "02-catalog-filtered")

    # Orders: the list, the order's page, and a transition button (a plain post, back on
    # the order's page with the new state and a message).
    sidenav(staff, "Orders").click()
    row = staff.locator("#order-table tbody tr").filter(has_text=number)
    expect(row).to_contain_text("Pending")
    row.get_by_role("link", name=number).click()
    header = staff.locator("#order-header")
    expect(badge(header)).to_have_text("Pending")
    plain_submit(staff, header.get_by_role("button", name="Confirm order"))
    expect(staff).to_have_url(re.compile(r"/dashboard/sales/orders/\d+/$"))
    expect(badge(header)).to_have_text("Confirmed")
    expect(staff.locator("#messages")).to_contain_text(f"{number}: ")
    expect(staff.locator("#messages")).to_contain_text("now confirmed")
    expect(staff.locator("#order-history")).to_contain_text("Confirmed")
    seen(staff, "03-order-confirmed")

    # Invoices: the list has the order's invoice.
    sidenav(staff, "Invoices").click()
    invoice_row = staff.locator("#invoice-table tbody tr").filter(has_text=invoice_number)
    expect(invoice_row).to_contain_text("Issued")
    seen(staff, "04-invoices")

    # Activity: the feed lists the confirmation, and its filter form answers as a page.
    sidenav(staff, "Activity").click()
    feed = staff.locator("#activity-feed")
    expect(feed).to_contain_text("Confirmed")
    plain_submit(staff, staff.locator("#activity-filters").get_by_role("button", name="Filter"))
    expect(staff).to_have_url(re.compile(r"/dashboard/activity/\?"))
    expect(feed).to_contain_text(f"Order {number}")
    seen(staff, "05-activity")

    # Inbox: the manager's task is there; "Mark all read" posts and answers the page.
    staff.locator("#inbox-badge").click()
    expect(staff.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    item = staff.locator("li.inbox-item.unread")
    expect(item).to_contain_text("Call the customer about delivery")
    seen(staff, "06-inbox")
    plain_submit(staff, staff.get_by_role("button", name="Mark all read"))
    expect(staff.locator("#messages")).to_contain_text("All caught up.")
    expect(staff.locator("li.inbox-item.unread")).to_have_count(0)
    expect(staff.locator("li.inbox-item")).to_have_count(1)

    # My work: the task assigned to me, which opens.
    sidenav(staff, "My work").click()
    tasks = staff.locator("section[aria-labelledby=my-tasks-title]")
    expect(tasks.locator(".count")).to_have_text("1")
    seen(staff, "07-my-work")
    tasks.get_by_role("link", name="Call the customer about delivery").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(
        "Call the customer about delivery")

    # The storefront, as the customer: search, a product, "Add to cart", the account.
    page = open_page(java_script_enabled=False)
    page.goto(shop_url + "/")
    expect(page.locator("#catalog-results-title")).to_have_text("2 products")
    page.get_by_role("searchbox", name="Search the catalog").fill("consultation")
    plain_submit(page, page.get_by_role("button", name="Show products"))
    expect(page.locator("#catalog-results-title")).to_have_text("1 product for “consultation”")
    expect(storefront_card(page, SERVICE["name"])).to_be_visible()
    page.goto(shop_url + "/")
    storefront_card(page, PLANTER["name"]).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=PLANTER["name"], level=1)).to_be_visible()
    seen(page, "08-product")
    page.get_by_role("spinbutton", name="Quantity").fill("2")
    plain_submit(page, page.get_by_role("button", name="Add to cart"))
    expect(page).to_have_url(shop_url + "/cart/")
    expect(page.locator("#messages")).to_contain_text(f"{PLANTER['name']} is in your cart.")
    expect(page.locator("section.cart-totals dd.grand-total")).to_have_text("60.00 €")
    seen(page, "09-cart")

    page.locator("header").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/login/"))
    textbox(page, "Email").fill(SHOPPER["email"])
    page.get_by_label(re.compile(r"^Password\W*$")).fill(PASSWORD)
    plain_submit(page, page.get_by_role("button", name="Sign in"))
    expect(page).to_have_url(shop_url + "/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {SHOPPER['first_name']}")
    account = page.get_by_role("navigation", name="Your account")
    account.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
           ).to_contain_text("Confirmed")
    account.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name=invoice_number))
           ).to_be_visible()
    seen(page, "10-account-invoices")
    # The cart kept what was added before signing in.
    expect(page.get_by_role("link", name="Cart (1)")).to_be_visible()

    with in_schema(shop):
        assert Order.objects.get(number=number).status == OrderStatus.CONFIRMED
