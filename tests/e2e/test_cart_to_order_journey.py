"""The storefront's cart-to-order journey: a customer creates an account, fills a cart from the
product pages, changes a quantity (HTMX totals), checks out (addresses, delivery, review with
the VAT per rate) and places an order whose stock is reserved; staff confirm, prepare and ship
it from the dashboard (stock committed) and the customer's order page says "Shipped". A guest
does the same without JavaScript, with plain form posts."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from playwright.sync_api import expect

from catalog.models import StockLevel, TaxRate
from catalog.services.products import product_create
from catalog.services.stock import stock_audit
from sales.models import CartLine, CustomerState, Order, OrderStatus
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.e2e.steps import ORDER_NUMBER, register_customer_form, textbox

PASSWORD = "violet-harbour-lantern-73"
CUSTOMER = {"email": "marie.curie@example.test", "first_name": "Marie", "last_name": "Curie"}

# Prices excl. VAT and what the storefront shows incl. VAT (English formats, € after a space).
PLANTER = {"sku": "POT-001", "name": "Terracotta planter", "net": "25.00", "rate": "20.00",
           "stock": "10"}  # 30.00 € incl. VAT
BOOK = {"sku": "BOOK-001", "name": "The gardener's year", "net": "18.00", "rate": "5.50",
        "stock": "4"}  # 18.99 € incl. VAT (books: reduced rate)
SERVICE = {"sku": "SRV-001", "name": "Garden design consultation", "net": "75.00",
           "rate": "20.00"}


def open_shop(label: str):
    """A new shop (claimed from the pool, or created) with an English storefront."""
    subdomain = f"e2e-{label}-{secrets.token_hex(3)}"
    opened = shop_open(name=f"Jardin {subdomain[-6:].upper()}", subdomain=subdomain,
                       owner_email=f"owner@{subdomain}.test", owner_password=PASSWORD,
                       locale="en")
    return opened.shop, subdomain


def add_products(shop) -> dict:
    """Goods at two VAT rates (stocked) and a service, through the catalog services."""
    with in_schema(shop):
        rates = {r.rate: r for r in TaxRate.objects.all()}
        made = {}
        for kind, spec in (("goods", PLANTER), ("goods", BOOK), ("service", SERVICE)):
            data = {"sku": spec["sku"], "name": spec["name"], "net_price": Decimal(spec["net"]),
                    "tax_rate": rates[Decimal(spec["rate"])]}
            stock = Decimal(spec["stock"]) if "stock" in spec else None
            made[spec["sku"]] = product_create(kind=kind, data=data, initial_stock=stock)
        return made


def cart_line_id(shop, product) -> int:
    with in_schema(shop):
        return CartLine.objects.get(product_id=product.pk).pk


def stock_of(shop, product) -> tuple[Decimal, Decimal]:
    with in_schema(shop):
        level = StockLevel.objects.get(pk=product.pk)
        return level.on_hand, level.reserved


def storefront_card(page, name: str):
    return page.locator("article.product-card").filter(
        has=page.get_by_role("heading", name=name, exact=True))


def grand_total(scope):
    return scope.locator("dd.grand-total")


def add_from_product_page(page, name: str, *, cart_count: int) -> None:
    """Storefront > the product's card > its page > "Add to cart" (HTMX: the form answers in
    place and the header's cart count follows, without a reload)."""
    page.locator("header .brand").click()
    storefront_card(page, name).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#add-to-cart").get_by_role("status")).to_contain_text(
        "Added to your cart.")
    expect(page.get_by_role("link", name=f"Cart ({cart_count})")).to_be_visible()


def test_a_customer_orders_and_staff_ship_it(e2e_server, open_page, shot):
    shop, subdomain = open_shop("cart")
    products = add_products(shop)
    planter, book = products[PLANTER["sku"]], products[BOOK["sku"]]
    shop_url = e2e_server.shop_url(subdomain)
    page = open_page()

    # The storefront lists the three products with their prices incl. VAT.
    page.goto(shop_url + "/")
    expect(page.locator("#catalog-results-title")).to_have_text("3 products")
    expect(storefront_card(page, PLANTER["name"]).locator(".price")).to_have_text(
        "30.00 € incl. VAT")
    expect(storefront_card(page, BOOK["name"]).locator(".price")).to_have_text(
        "18.99 € incl. VAT")

    # An account, from /account/ (sign-in page -> "Create an account").
    page.goto(shop_url + "/account/")
    expect(page).to_have_url(re.compile(r"/account/login/\?next=/account/$"))
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account", level=1)).to_be_visible()
    register_customer_form(page, shop_url, CUSTOMER, PASSWORD)
    expect(page.get_by_role("link", name="My account")).to_be_visible()

    # Two products into the cart from their pages.
    add_from_product_page(page, PLANTER["name"], cart_count=1)
    shot(page, "01-product-added")
    add_from_product_page(page, BOOK["name"], cart_count=2)

    # The cart: 30.00 + 18.99; two planters instead of one, and the totals follow in place.
    page.get_by_role("link", name="Cart (2)").click()
    expect(page.get_by_role("heading", name="Your cart", level=1)).to_be_visible()
    totals = page.locator("section.cart-totals")
    expect(grand_total(totals)).to_have_text("48.99 €")
    page.evaluate("window.sameDocument = true")
    quantity = page.get_by_role("spinbutton", name=f"Quantity of {PLANTER['name']}")
    quantity.fill("2")
    quantity.press("Tab")  # a change saves the line (hx-trigger="change")
    expect(grand_total(totals)).to_have_text("78.99 €")
    expect(totals).to_contain_text(re.compile(r"Total excl\. VAT\s*68\.00\s€"))  # 2 x 25 + 18
    expect(page.locator("#cart-line-" + str(cart_line_id(shop, planter)))).to_contain_text(
        "60.00 €")
    expect(page.locator("#messages")).to_contain_text("Quantity updated.")
    assert page.evaluate("window.sameDocument") is True, "the cart page was reloaded"
    expect(page.get_by_role("link", name="Cart (2)")).to_be_visible()  # lines, not units
    shot(page, "02-cart")

    # Checkout: contact taken from the account, a billing and another delivery address.
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_visible()
    expect(textbox(page, "Email")).to_have_value(CUSTOMER["email"])
    expect(textbox(page, "First name")).to_have_value(CUSTOMER["first_name"])
    billing = page.get_by_role("group", name="Billing address")
    textbox(billing, "Address").fill("12 rue des Écoles")
    textbox(billing, "Postal code").fill("75005")
    textbox(billing, "City").fill("Paris")
    delivery_address = page.get_by_role("group", name="Delivery address")
    delivery_address.get_by_role("radio", name="Another address").check()
    textbox(delivery_address, "Full name").fill("Pierre Curie")
    textbox(delivery_address, "Address").fill("3 quai de la Tournelle")
    textbox(delivery_address, "Postal code").fill("75005")
    textbox(delivery_address, "City").fill("Paris")
    # Standard delivery costs 5.75 € excl. VAT (6.90 € incl.): the cart is under 100 €.
    standard = page.get_by_role("group", name="Delivery", exact=True).get_by_role(
        "radio", name=re.compile(r"^Standard delivery"))
    expect(standard).to_have_accessible_name(re.compile(r"6\.90\s€"))
    standard.check()
    expect(page.get_by_role("radio", name=re.compile(r"^Bank transfer"))).to_be_checked()
    page.get_by_role("button", name="Review your order").click()

    # Review: the lines, the delivery, and the VAT per rate (shipping taxed at 20 %).
    expect(page.get_by_role("heading", name="Review your order", level=1)).to_be_visible()
    details = page.locator("section.review-details")
    expect(details).to_contain_text("12 rue des Écoles")
    expect(details).to_contain_text("Pierre Curie")
    expect(details).to_contain_text("3 quai de la Tournelle")
    summary = page.locator("aside dl.totals")
    expect(summary).to_contain_text(re.compile(r"Total excl\. VAT\s*73\.75\s€"))
    expect(summary).to_contain_text(re.compile(r"VAT 20 % on 55\.75\s€\s*11\.15\s€"))
    expect(summary).to_contain_text(re.compile(r"VAT 5\.5 % on 18\.00\s€\s*0\.99\s€"))
    expect(grand_total(summary)).to_have_text("85.89 €")
    shot(page, "03-checkout-review")

    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    lead = page.locator(".order-done .lead")
    expect(lead).to_contain_text(ORDER_NUMBER)
    number = ORDER_NUMBER.search(lead.text_content()).group(0)
    expect(lead).to_contain_text(f"We have sent a confirmation to {CUSTOMER['email']}.")
    expect(page.get_by_role("link", name="Cart (0)")).to_be_visible()
    shot(page, "04-confirmation")

    # One pending order, the stock reserved exactly (on hand unchanged until shipping).
    with in_schema(shop):
        order = Order.objects.select_related("customer").get()
        assert (order.number, order.status) == (number, OrderStatus.PENDING)
        assert order.gross_total == Decimal("85.89")
        assert order.customer.state == CustomerState.REGISTERED
        assert order.customer.email == CUSTOMER["email"]
    assert stock_of(shop, planter) == (Decimal("10"), Decimal("2"))
    assert stock_of(shop, book) == (Decimal("4"), Decimal("1"))

    # "My orders" in the account lists it, pending.
    page.get_by_role("link", name="Follow this order in your account").click()
    expect(page.get_by_role("heading", name=f"Order {number}", level=1)).to_contain_text("Pending")
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Orders").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("85.89 €")
    customer_order_url = shop_url + f"/account/orders/{number}/"

    # Staff: the owner signs in on the staff page and drives the order from the dashboard.
    staff = open_page()
    staff.goto(shop_url + "/accounts/login/")
    staff.get_by_label("Email").fill(f"owner@{subdomain}.test")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    expect(staff).to_have_url(shop_url + "/dashboard/")
    staff.goto(shop_url + "/dashboard/sales/orders/")
    staff.get_by_role("link", name=number).click()
    header = staff.locator("#order-header")
    expect(staff.get_by_role("heading", name=f"Order {number}", level=1)).to_contain_text("Pending")
    expect(staff.locator("#order-lines")).to_contain_text(PLANTER["name"])
    shot(staff, "05-dashboard-order")

    staff.evaluate("window.sameDocument = true")
    staff.get_by_role("button", name="Confirm order").click()
    expect(header.locator(".badge")).to_have_text("Confirmed")
    staff.get_by_role("button", name="Start preparing").click()
    expect(header.locator(".badge")).to_have_text("Processing")
    header.locator("summary", has_text="Mark shipped").click()
    staff.get_by_role("textbox", name="Tracking reference").fill("COLIS-42")
    header.get_by_role("button", name="Mark shipped").click()
    expect(header.locator(".badge")).to_have_text("Shipped")
    expect(staff.locator("#order-facts")).to_contain_text("COLIS-42")
    history = staff.locator("#order-history")
    for step in ("Order placed", "Confirmed", "Preparation started", "Shipped"):
        expect(history).to_contain_text(step)
    assert staff.evaluate("window.sameDocument") is True, "HTMX buttons reloaded the page"
    shot(staff, "06-dashboard-order-shipped")

    # Shipping turned the reservations into sales.
    with in_schema(shop):
        assert Order.objects.get().status == OrderStatus.SHIPPED
        assert stock_audit() == []
    assert stock_of(shop, planter) == (Decimal("8"), Decimal("0"))
    assert stock_of(shop, book) == (Decimal("3"), Decimal("0"))

    # The customer's order page says so.
    page.goto(customer_order_url)
    expect(page.get_by_role("heading", name=f"Order {number}", level=1)).to_contain_text("Shipped")
    expect(page.locator("aside")).to_contain_text("Tracking: COLIS-42")
    shot(page, "07-customer-order-shipped")

    assert page.js_errors == []
    assert staff.js_errors == []


def test_a_guest_orders_without_javascript(e2e_server, open_page, shot):
    shop, subdomain = open_shop("nojs")
    products = add_products(shop)
    planter = products[PLANTER["sku"]]
    shop_url = e2e_server.shop_url(subdomain)
    page = open_page(java_script_enabled=False)

    # The product page's form posts and lands on the cart.
    page.goto(shop_url + "/")
    storefront_card(page, PLANTER["name"]).get_by_role("link").first.click()
    page.get_by_role("spinbutton", name="Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(shop_url + "/cart/")
    expect(page.locator("#messages")).to_contain_text(f"{PLANTER['name']} is in your cart.")
    expect(grand_total(page.locator("section.cart-totals"))).to_have_text("90.00 €")

    # The quantity's "Update" button posts too.
    page.get_by_role("spinbutton", name=f"Quantity of {PLANTER['name']}").fill("2")
    page.get_by_role("button", name="Update").click()
    expect(page).to_have_url(shop_url + "/cart/")
    expect(grand_total(page.locator("section.cart-totals"))).to_have_text("60.00 €")
    shot(page, "01-cart")

    # A guest checkout, picked up at the shop (no delivery address needed).
    page.get_by_role("link", name="Checkout").click()
    textbox(page, "Email").fill("ada@example.test")
    textbox(page, "First name").fill("Ada")
    textbox(page, "Last name").fill("Lovelace")
    billing = page.get_by_role("group", name="Billing address")
    textbox(billing, "Address").fill("12 rue des Écoles")
    textbox(billing, "Postal code").fill("75005")
    textbox(billing, "City").fill("Paris")
    page.get_by_role("radio", name=re.compile(r"^Pickup at the shop")).check()
    page.get_by_role("button", name="Review your order").click()
    expect(page).to_have_url(shop_url + "/checkout/review/")
    summary = page.locator("aside dl.totals")
    expect(summary).to_contain_text(re.compile(r"VAT 20 % on 50\.00\s€\s*10\.00\s€"))
    expect(grand_total(summary)).to_have_text("60.00 €")
    shot(page, "02-review")

    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    lead = page.locator(".order-done .lead")
    expect(lead).to_contain_text(ORDER_NUMBER)
    number = ORDER_NUMBER.search(lead.text_content()).group(0)
    shot(page, "03-confirmation")

    with in_schema(shop):
        order = Order.objects.select_related("customer").get()
        assert (order.number, order.status) == (number, OrderStatus.PENDING)
        assert order.customer.state == CustomerState.GUEST
        assert order.shipping_address in ({}, None)
    assert stock_of(shop, planter) == (Decimal("10"), Decimal("2"))
