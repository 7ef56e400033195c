"""Under the strict Content-Security-Policy (no inline script or style, tenants/security.py),
the pages that run the most JavaScript still work in a real browser, and the browser blocks
nothing on the way (the `csp_violations` fixture fails the test otherwise): Swagger UI at
/api/docs/ renders and runs a request; the invoice page's "Copy" button (app.js, not an
inline handler) copies the card payment link, after an HTMX swap and after a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billing.services.invoices import invoice_create_for_order, invoice_issue
from tests.conftest import in_schema
from tests.e2e.test_card_payment_journey import PASSWORD, open_card_shop
from tests.e2e.test_card_payment_journey import media as media  # the fixture: PDFs in a tmp dir
from tests.sales.factories import goods, place_order, staff


@pytest.mark.usefixtures("media")
def test_swagger_ui_and_the_copy_button_work_under_the_policy(e2e_server, stripe_settings,
                                                               open_page, csp_violations):
    shop, subdomain = open_card_shop()
    with in_schema(shop):
        order = place_order((goods("CSP-1", price="10.00"), 1))
        invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None),
                                by=staff("accountant"))
    shop_url = e2e_server.shop_url(subdomain)
    page = open_page(permissions=["clipboard-read", "clipboard-write"])

    # Swagger UI: its init script is a file (no inline script), and "Try it out" runs.
    page.goto(shop_url + "/api/docs/")
    expect(page.get_by_role("heading", name="Shop API")).to_be_visible()
    page.locator("#operations-categories-v1_categories_list .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table .response .response-col_status").first
           ).to_have_text("401")  # no token: refused, as documented

    # The copy button appears with JavaScript only and copies the link.
    page.goto(shop_url + "/accounts/login/")
    page.get_by_label("Email").fill(f"owner@{subdomain}.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(shop_url + f"/dashboard/billing/invoices/{invoice.pk}/")
    page.get_by_role("button", name="Card payment link").click()  # HTMX swaps the link in
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").startswith(stripe_settings.api_base)
    page.reload()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    assert csp_violations == []
    assert page.js_errors == []
