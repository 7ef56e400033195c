"""A customer pays an order by card, in a browser, through the local Stripe server: the
storefront's checkout sends them to Stripe's hosted page, they type the test card and pay, come
back to the shop's page which says "processing" until Stripe's signed webhook (sent to the live
server's platform host a moment later) has recorded the payment, and then "paid" (HTMX polling,
no reload). Their account lists the paid invoice and its PDF downloads. Staff see the order
confirmed and the invoice paid in the dashboard, and refund part of it (through Stripe, with
a credit note)."""

from __future__ import annotations

import json
import re
import secrets
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import storages
from playwright.sync_api import expect

from billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from catalog.models import TaxRate
from catalog.services.products import product_create
from sales.models import Order, OrderStatus
from tenants.models import Shop
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.e2e.steps import textbox

PASSWORD = "amber-orchard-compass-58"
CUSTOMER = {"email": "irene.joliot@example.test", "first_name": "Irène", "last_name": "Joliot"}
ACCOUNT = "acct_1E2eCardJourney"
CARD = "4242 4242 4242 4242"
# What invoices need (French mandatory mentions): without it the paid order stays uninvoiced.
LEGAL = {"legal_name": "Jardin Vert SAS", "legal_form": "SAS", "share_capital": "10 000 €",
         "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
         "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
         "bic": "BNPAFRPPXXX"}
PLANTER = {"sku": "POT-001", "name": "Terracotta planter", "net": "25.00"}  # 30.00 € incl. VAT
# Stripe's webhook leaves this long after the customer paid: the shop's page is seen waiting.
WEBHOOK_DELAY = 2.5
INVOICE_NUMBER = re.compile(r"F-\d{4}-\d{5}")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Invoice PDFs are stored in a temporary folder, not the development data (django-tenants'
    storage caches the root it first saw: the cache is dropped both ways)."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")  # where issued documents go
    storages["default"].__dict__.pop("relative_media_root", None)
    yield tmp_path
    storages["default"].__dict__.pop("relative_media_root", None)


def open_card_shop() -> tuple[Shop, str]:
    """A new shop with its legal identity, connected to Stripe (charges enabled), selling a
    planter."""
    subdomain = f"e2e-pay-{secrets.token_hex(3)}"
    shop = shop_open(name="Jardin Vert", subdomain=subdomain,
                     owner_email=f"owner@{subdomain}.test", owner_password=PASSWORD,
                     locale="en").shop
    Shop.objects.filter(pk=shop.pk).update(**LEGAL, stripe_account_id=ACCOUNT,
                                           stripe_charges_enabled=True)
    with in_schema(shop):
        product_create(kind="goods", initial_stock=Decimal("10"), data={
            "sku": PLANTER["sku"], "name": PLANTER["name"], "net_price": Decimal(PLANTER["net"]),
            "tax_rate": TaxRate.objects.get(rate=Decimal("20.00"))})
    return shop, subdomain


def wait_for_delivery(stripe, kind: str, seconds: float = 15) -> dict:
    """The delivery of the first `kind` event, once the webhook has answered it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = stripe.deliveries(kind)
        if sent and (sent[0]["status"] or sent[0]["error"]):
            return sent[0]
        time.sleep(0.1)
    raise AssertionError(f"no answered {kind} delivery: {stripe.deliveries(kind)}")


def test_a_customer_pays_by_card_and_finds_the_paid_invoice(e2e_server, stripe_settings, media,
                                                            open_page, shot):
    shop, subdomain = open_card_shop()
    shop_url = e2e_server.shop_url(subdomain)
    stripe_settings.configure_webhook(e2e_server.platform_url + "/stripe/webhook/",
                                      delivery_delay_seconds=WEBHOOK_DELAY)
    page = open_page()

    # An account on the storefront.
    page.goto(shop_url + "/account/signup/")
    textbox(page, "Email").fill(CUSTOMER["email"])
    textbox(page, "First name").fill(CUSTOMER["first_name"])
    textbox(page, "Last name").fill(CUSTOMER["last_name"])
    page.get_by_label(re.compile(r"^Password\W*$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password again\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#messages")).to_contain_text("Welcome! Your account is ready.")

    # The planter into the cart, then the checkout: picked up at the shop, paid by card.
    page.goto(shop_url + "/")
    page.locator("article.product-card").filter(has_text=PLANTER["name"]).get_by_role(
        "link").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("link", name="Cart (1)")).to_be_visible()
    page.get_by_role("link", name="Cart (1)").click()
    page.get_by_role("link", name="Checkout").click()
    billing = page.get_by_role("group", name="Billing address")
    textbox(billing, "Address").fill("12 rue des Écoles")
    textbox(billing, "Postal code").fill("75005")
    textbox(billing, "City").fill("Paris")
    page.get_by_role("radio", name=re.compile(r"^Pickup at the shop")).check()
    card = page.get_by_role("radio", name=re.compile(r"^Card"))
    expect(card).to_be_checked()  # the shop accepts cards: offered first
    shot(page, "01-checkout-card")
    page.get_by_role("button", name="Review your order").click()
    expect(page.locator("aside dl.totals dd.grand-total")).to_have_text("30.00 €")
    page.get_by_role("button", name="Place order and pay by card").click()

    # Stripe's hosted page (the local server), for the order's amount.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_settings.api_base)}/pay/cs_"))
    expect(page.get_by_role("heading", name="Pay 30.00 EUR")).to_be_visible()
    with in_schema(shop):
        order = Order.objects.get()
        payment = Payment.objects.get(order=order)
        assert (order.status, order.payment_method) == (OrderStatus.PENDING, "card")
    page.get_by_label("Card number").fill(CARD)
    shot(page, "02-stripe-hosted-page")
    page.get_by_role("button", name="Pay 30.00 EUR").click()

    # Back on the shop: processing until the webhook arrives, then paid, in place.
    expect(page).to_have_url(f"{shop_url}/pay/return/{payment.pk}/")
    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", level=1)).to_have_text("Processing your payment…")
    page.evaluate("window.sameDocument = true")
    shot(page, "03-processing")
    expect(status.get_by_role("heading", level=1)).to_have_text(
        "Paid — thank you", timeout=WEBHOOK_DELAY * 1000 + 10_000)
    expect(status).to_contain_text(f"We received your payment of 30.00 € for order {order.number}.")
    assert page.evaluate("window.sameDocument") is True, "HTMX polling, not a reload"
    shot(page, "04-paid")

    [delivered] = stripe_settings.deliveries()
    assert (delivered["type"], delivered["status"]) == ("checkout.session.completed", 200)
    with in_schema(shop):
        order = Order.objects.get()
        payment = Payment.objects.get(pk=payment.pk)
        invoice = Invoice.objects.get(order=order)
        assert order.status == OrderStatus.CONFIRMED
        assert payment.status == PaymentStatus.SUCCEEDED and payment.payment_intent_id
        assert (invoice.status, invoice.gross_total, invoice.amount_paid) == (
            InvoiceStatus.PAID, Decimal("30.00"), Decimal("30.00"))
        assert WebhookEvent.objects.get().outcome == "order paid"
    assert INVOICE_NUMBER.fullmatch(invoice.number)

    # My account -> Invoices: the paid invoice, and its PDF.
    page.get_by_role("link", name="My account").click()
    page.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Invoices").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=invoice.number))
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("30.00 €")
    shot(page, "05-account-invoices")
    row.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {invoice.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    expect(page.locator(".invoice-balance")).to_have_text("0.00 €")
    expect(page.get_by_role("link", name=re.compile(r"^Pay now"))).to_have_count(0)
    shot(page, "06-account-invoice")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download PDF").click()
    download = caught.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # Staff: the order is confirmed, its invoice paid by card.
    staff = open_page()
    staff.goto(shop_url + "/accounts/login/")
    staff.get_by_label("Email").fill(f"owner@{subdomain}.test")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    expect(staff).to_have_url(shop_url + "/dashboard/")
    staff.goto(shop_url + "/dashboard/sales/orders/")
    staff.get_by_role("link", name=order.number).click()
    expect(staff.get_by_role("heading", name=f"Order {order.number}", level=1)).to_contain_text(
        "Confirmed")
    invoices = staff.locator("#order-invoices")
    expect(invoices.get_by_role("listitem")).to_contain_text("Paid")
    shot(staff, "07-dashboard-order")
    invoices.get_by_role("link", name=re.compile(re.escape(invoice.number))).click()
    expect(staff.locator("#invoice-header .badge")).to_have_text("Paid")
    payments = staff.locator("#invoice-payments")
    expect(payments).to_contain_text("Card")
    expect(payments).to_contain_text("Succeeded")
    shot(staff, "08-dashboard-invoice")

    # Staff refund part of it: through Stripe, a credit note at once; Stripe's charge.refunded
    # then reaches the platform while the refund is recorded, and adds nothing.
    payments.locator("summary", has_text="Refund").click()
    payments.get_by_label("Amount to refund").fill("10.00")
    payments.get_by_label(re.compile(r"^Reason")).fill("Chipped rim")
    payments.get_by_role("button", name="Refund").click()
    expect(staff.locator("#messages")).to_contain_text(
        re.compile(r"10\.00\s€ refunded; credit note [A-Z]+-\d{4}-\d{5} issued\."))
    expect(staff.locator("#invoice-payments .refund-list")).to_contain_text("Chipped rim")
    shot(staff, "09-dashboard-refunded")
    refunded = wait_for_delivery(stripe_settings, "charge.refunded")
    assert (refunded["status"], json.loads(refunded["response"])["outcome"]) == (
        200, "nothing new")
    with in_schema(shop):
        invoice = Invoice.objects.get(pk=invoice.pk)
        [refund] = Refund.objects.filter(payment=payment)
        [note] = Invoice.objects.filter(credited_invoice=invoice)
        assert (refund.amount, refund.status, refund.credit_note_id) == (
            Decimal("10.00"), RefundStatus.SUCCEEDED, note.pk)
        assert note.gross_total == Decimal("10.00")
        assert (invoice.amount_paid, invoice.amount_credited, invoice.balance) == (
            Decimal("20.00"), Decimal("10.00"), Decimal("0.00"))

    assert page.js_errors == []
    assert staff.js_errors == []
