"""The quote journey: a salesperson builds a quote in the dashboard (a customer picked by
search, catalog lines through the product picker, a free line, an inline change; the totals
follow live), sends it; the customer opens the emailed link, signs and accepts; the order is
placed at once with its stock reserved (a real-estate lot becomes reserved), and the
salesperson finds the history and the order on the quote. A tampered link opens nothing."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core import mail
from playwright.sync_api import expect

from catalog.models import LotAvailability, Project, RealEstateLot, StockLevel, TaxRate
from catalog.services.products import product_create
from catalog.services.stock import stock_audit
from sales.models import Order, OrderSource, OrderStatus, Quote, QuoteStatus
from sales.services.customers import customer_create
from tenants.accounts.models import User
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.e2e.steps import accept_quote_online, textbox

PASSWORD = "copper-meadow-signal-91"
SELLER = {"email": "sam.seller@staff.test", "name": "Sam Seller"}
CUSTOMER = {"email": "marie.curie@example.test", "first_name": "Marie", "last_name": "Curie"}
PLANTER = {"sku": "POT-001", "name": "Terracotta planter", "net": "25.00"}
LOT = {"sku": "LOT-A12", "name": "Apartment A12", "net": "250000.00"}
FREE_LINE = "Installation on site"
QUOTE_REF = re.compile(r"D-\d{4}-\d{5}")
LINK = re.compile(r"https?://\S+/q/[^/\s]+/")
SKU_OF = {PLANTER["name"]: PLANTER["sku"], LOT["name"]: LOT["sku"]}


def open_shop(label: str):
    """A new shop (claimed from the pool, or created) with an English storefront."""
    subdomain = f"e2e-{label}-{secrets.token_hex(3)}"
    opened = shop_open(name=f"Immo {subdomain[-6:].upper()}", subdomain=subdomain,
                       owner_email=f"owner@{subdomain}.test", owner_password=PASSWORD,
                       locale="en")
    return opened.shop, subdomain


def prepare(shop) -> dict:
    """Through the services: goods in stock, a lot of a programme, a customer, and a staff
    member with the "sales" role."""
    with in_schema(shop):
        rate = TaxRate.objects.get(rate=Decimal("20.00"))
        planter = product_create(kind="goods", initial_stock=Decimal("10"), data={
            "sku": PLANTER["sku"], "name": PLANTER["name"], "net_price": Decimal(PLANTER["net"]),
            "tax_rate": rate})
        project = Project.objects.create(name="Les Jardins", slug="les-jardins")
        lot = product_create(kind="lot", data={
            "sku": LOT["sku"], "name": LOT["name"], "net_price": Decimal(LOT["net"]),
            "tax_rate": rate, "project": project, "lot_number": "A12",
            "surface_m2": Decimal("64.5")})
        customer = customer_create(data={**CUSTOMER, "kind": "person"}, by=None)
        seller = User.objects.create_user(SELLER["email"], PASSWORD, is_staff=True,
                                          full_name=SELLER["name"])
        seller.groups.add(Group.objects.get(name="sales"))
    return {"planter": planter, "lot": lot, "customer": customer}


def grand_total(page):
    return page.locator("#quote-totals dd.grand")


def add_catalog_line(page, search: str, product_name: str, quantity: str) -> None:
    """The product picker: search (HTMX results), choose, quantity, "Add line"."""
    catalog = page.locator("details").filter(has_text="Add a product from the catalog")
    catalog.get_by_role("searchbox", name="Find a product").fill(search)
    choice = catalog.get_by_role("group", name="Product").get_by_role(
        "radio", name=re.compile(rf"^{re.escape(product_name)}\b"))
    choice.check()  # waits for the search results
    textbox(catalog, "Quantity").fill(quantity)
    catalog.get_by_role("button", name="Add line").click()
    expect(page.locator("#quote-lines tbody")).to_contain_text(SKU_OF[product_name])


def test_a_quote_is_built_sent_and_accepted_online(e2e_server, open_page, shot):
    shop, subdomain = open_shop("quote")
    made = prepare(shop)
    shop_url = e2e_server.shop_url(subdomain)

    # The salesperson signs in and starts a quote for Marie Curie (customer search, HTMX).
    seller = open_page()
    seller.goto(shop_url + "/accounts/login/")
    seller.get_by_label("Email").fill(SELLER["email"])
    seller.get_by_label("Password").fill(PASSWORD)
    seller.get_by_role("button", name="Sign in").click()
    expect(seller).to_have_url(shop_url + "/dashboard/")
    seller.goto(shop_url + "/dashboard/sales/quotes/new/")
    expect(seller.get_by_role("heading", name="New quote", level=1)).to_be_visible()
    seller.get_by_role("searchbox", name="Find a customer").fill("Curie")
    seller.get_by_role("link", name="Marie Curie").click()
    expect(seller.locator("main")).to_contain_text(f"For Marie Curie ({CUSTOMER['email']})")
    textbox(seller, "Terms").fill("50 % on order, the balance on delivery.")
    seller.get_by_role("button", name="Create quote and add lines").click()
    heading = seller.get_by_role("heading", level=1)
    expect(heading).to_contain_text(QUOTE_REF)
    expect(heading).to_contain_text("Draft")
    reference = QUOTE_REF.search(heading.text_content()).group(0)
    quote_url = seller.url
    expect(seller.locator("#messages")).to_contain_text(f"Quote {reference} created")

    # Lines through the inline editor; the totals follow without a reload.
    seller.evaluate("window.sameDocument = true")
    add_catalog_line(seller, "planter", PLANTER["name"], "4")
    expect(grand_total(seller)).to_have_text("120.00 €")  # 4 x 25.00 + 20 % VAT
    add_catalog_line(seller, "A12", LOT["name"], "1")
    expect(grand_total(seller)).to_have_text("300,120.00 €")
    seller.locator("summary", has_text="Add a free line").click()
    free = seller.locator("details").filter(has_text="Add a free line")
    textbox(free, "Description").fill(FREE_LINE)
    textbox(free, "Unit price excl. VAT").fill("120")
    expect(free.get_by_role("combobox", name="VAT rate")).to_have_value(
        str(default_rate_pk(shop)))
    free.get_by_role("button", name="Add line").click()
    expect(seller.locator("#quote-lines tbody")).to_contain_text(FREE_LINE)
    expect(grand_total(seller)).to_have_text("300,264.00 €")
    # A change in a line's row saves it (hx-trigger "change"): five planters instead of four.
    quantity = textbox(seller, f"Quantity ({PLANTER['name']})")
    quantity.fill("5")
    quantity.press("Tab")
    expect(grand_total(seller)).to_have_text("300,294.00 €")
    expect(seller.locator("#quote-totals")).to_contain_text(
        re.compile(r"VAT 20 % on 250,245\.00\s€\s*50,049\.00\s€"))
    assert seller.evaluate("window.sameDocument") is True, "the editor reloaded the page"
    shot(seller, "01-quote-editor")

    # Send: the page comes back read-only, and the customer gets an email with the link.
    mail.outbox.clear()
    seller.get_by_role("button", name="Send quote").click()
    expect(heading).to_contain_text("Sent")
    expect(seller.locator("#messages")).to_contain_text(f"sent to {CUSTOMER['email']}")
    expect(seller.get_by_text("This quote was sent to the customer, so it is read-only."))\
        .to_be_visible()
    sent = [m for m in mail.outbox if m.to == [CUSTOMER["email"]]]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    link = LINK.search(sent[0].body).group(0)
    assert link.startswith(shop_url + "/q/"), link

    # A tampered link (one character changed) opens nothing, and changes nothing.
    customer = open_page()
    token = link.rstrip("/").rsplit("/", 1)[1]
    position = len(token) // 2
    tampered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
    refused = customer.goto(f"{shop_url}/q/{tampered}/")
    assert refused.status == 404
    expect(customer.get_by_role("heading", name="This link is not valid", level=1)).to_be_visible()
    expect(customer.get_by_role("button", name="Accept and sign")).to_have_count(0)
    shot(customer, "02-tampered-link")
    with in_schema(shop):
        assert Quote.objects.get(number=reference).status == QuoteStatus.SENT
        assert not Order.objects.exists()

    # The customer (not signed in, own browser context) reads the quote and accepts it.
    customer.goto(link)
    expect(customer.get_by_role("heading", name=f"Quote {reference}", level=1)).to_be_visible()
    expect(customer.locator("main")).to_contain_text(LOT["name"])
    expect(customer.locator("main")).to_contain_text(FREE_LINE)
    expect(customer.locator("main")).to_contain_text("300,294.00 €")
    shot(customer, "03-public-quote")
    number = accept_quote_online(customer, reference)
    shot(customer, "04-accepted")

    # The quote is converted; its order is pending with the stock and the lot reserved.
    with in_schema(shop):
        quote = Quote.objects.get(number=reference)
        assert quote.status == QuoteStatus.CONVERTED
        assert quote.accepted_name == "Marie Curie"
        assert quote.accepted_ip == "127.0.0.1"
        order = Order.objects.get()
        assert (order.number, order.status, order.source) == (
            number, OrderStatus.PENDING, OrderSource.QUOTE)
        assert order.quote_id == quote.pk
        assert order.gross_total == Decimal("300294.00")
        level = StockLevel.objects.get(pk=made["planter"].pk)
        assert (level.on_hand, level.reserved) == (Decimal("10"), Decimal("5"))
        lot = RealEstateLot.objects.get(pk=made["lot"].pk)
        assert lot.availability == LotAvailability.RESERVED
        assert stock_audit() == []

    # The salesperson sees the answer, the history and the order on the quote.
    seller.goto(quote_url)
    expect(heading).to_contain_text("Converted")
    history = seller.locator("#quote-history")
    for step in ("Quote created", "Sent to the customer", "Accepted", "Converted into an order"):
        expect(history).to_contain_text(step)
    expect(history).to_contain_text("The customer")
    details = seller.locator("aside section").filter(
        has=seller.get_by_role("heading", name="Details"))
    expect(details).to_contain_text("Signed by Marie Curie")
    shot(seller, "05-quote-converted")
    details.get_by_role("link", name=number).click()
    expect(seller.get_by_role("heading", name=f"Order {number}", level=1)).to_contain_text(
        "Pending")
    expect(seller.locator("#order-facts").get_by_role("link", name=f"Quote {reference}"))\
        .to_be_visible()
    shot(seller, "06-order-from-quote")

    # The signed link now shows the answer, no form.
    customer.goto(link)
    expect(customer.locator("main")).to_contain_text(f"Your order number is {number}.")
    expect(customer.get_by_role("button", name="Accept and sign")).to_have_count(0)

    assert seller.js_errors == []
    assert customer.js_errors == []


def default_rate_pk(shop) -> int:  # noqa: N802
    with in_schema(shop):
        return TaxRate.objects.get(is_default=True).pk
