"""Content-Security-Policy: every answer of the platform and of a shop carries a policy that
allows no inline script or style, and no page needs one: no `<script>` without `src`, no
`on*=` or `hx-on` handler, no `javascript:` link, no `style` attribute or element. Checked on
the templates' source (every page, including those no test below opens) and on the HTML of a
representative set of pages as their users see them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from billing.models import Payment
from billing.services.invoices import invoice_create_for_order, invoice_issue
from sales.links import quote_link_token
from sales.services.orders import LineInput
from sales.services.quotes import quote_create, quote_send
from streams.services.milestones import milestone_create
from tenants.accounts.models import User
from tenants.models import Shop
from tenants.security import HEADER
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import BASE_URL, goods, place_order, registered, staff

ROOT = Path(settings.BASE_DIR)
ACCOUNT = "acct_1CspTestShop"
# Rendered by WeasyPrint into PDFs, never sent to a browser: their <style> is not a page's.
NOT_SERVED = ("templates/billing/pdf/",)


def template_files() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app in ("tenants", "catalog", "sales", "billing", "streams"):
        found += list((ROOT / app).rglob("templates/**/*.html"))
    return sorted(p for p in found if not str(p.relative_to(ROOT)).startswith(NOT_SERVED))


COMMENTS = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)
INLINE_IN_SOURCE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on[:\-\w]*\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "js: values": re.compile(r"hx-vals\s*=\s*['\"]\s*js:|hx-vars\s*=", re.I),
}


class InlineCodeFinder(HTMLParser):
    """What a strict policy would block in a page's HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append(f"<script> without src at {self.getpos()}")
        if tag == "style":
            self.found.append(f"<style> element at {self.getpos()}")
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…> at {self.getpos()}")
            elif name == "style":
                self.found.append(f"<{tag} style=…> at {self.getpos()}")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> at {self.getpos()}")
            elif name in ("hx-vals", "hx-vars") and ("js:" in (value or "") or name == "hx-vars"):
                self.found.append(f"<{tag} {name}> needs eval at {self.getpos()}")

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


def directives(response) -> dict[str, list[str]]:
    header = response.headers.get(HEADER, "")
    assert header, f"no {HEADER} header"
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_strict(response, path: str) -> None:
    assert response.status_code == 200, (path, response.status_code)
    policy = directives(response)
    assert policy["default-src"] == ["'self'"], path
    assert policy["script-src"] == ["'self'"], path
    assert policy["style-src"] == ["'self'"], path
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"] and policy["form-action"][0] == "'self'", path
    if response["Content-Type"].startswith("text/html"):
        assert inline_code(response.content.decode()) == [], path


# ---------------------------------------------------------------------------------------------
# The source: every template
# ---------------------------------------------------------------------------------------------
def test_no_template_holds_inline_script_handlers_or_styles():
    offences = []
    for path in template_files():
        source = COMMENTS.sub("", path.read_text())
        for what, pattern in INLINE_IN_SOURCE.items():
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                offences.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offences == []


def test_the_checker_sees_what_the_policy_blocks():
    html = ('<script>x()</script><a href="javascript:x()">a</a><b onclick="x()"></b>'
            '<button hx-on:click="x()"></button><p style="color:red"></p><style>p{}</style>'
            '<div hx-vals=\'js:{a: 1}\'></div><script src="/static/a.js"></script>')
    assert len(inline_code(html)) == 7


# ---------------------------------------------------------------------------------------------
# The pages, as their users get them
# ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_platform_pages_carry_the_policy_and_no_inline_code(admin_client, shop):
    visitor = Client(HTTP_HOST=settings.BASE_DOMAIN)
    for path in ["/", "/pricing/", "/signup/", "/console/login/", "/admin/login/"]:
        response = visitor.get(path)
        assert_strict(response, path)
    # Signup leads to the new shop's own host: forms there may go to shop hosts.
    assert f"*.{settings.BASE_DOMAIN}:*" in directives(response)["form-action"]
    for path in ["/console/", f"/console/shops/{shop.pk}/", "/console/pool/", "/console/audit/"]:
        assert_strict(admin_client.get(path), path)
    # Django's admin, with django-tenants' app list rewritten without inline styles.
    superuser = User.objects.create_superuser("csp-root@platform.test", "a-long-test-password-42")
    admin = Client(HTTP_HOST=settings.BASE_DOMAIN)
    admin.force_login(superuser)
    for path in ["/admin/", "/admin/tenants/shop/", f"/admin/tenants/shop/{shop.pk}/change/",
                 "/admin/tenants/plan/add/"]:
        assert_strict(admin.get(path), path)


@pytest.mark.django_db
def test_an_unknown_host_and_a_static_file_carry_it_too(db):
    response = Client(HTTP_HOST=f"nobody-here.{settings.BASE_DOMAIN}").get("/")
    assert response.status_code == 404 and directives(response)["script-src"] == ["'self'"]
    assert inline_code(response.content.decode()) == []


@pytest.fixture
def documents(shop, db, settings, tmp_path):
    """An order with a dated milestone (the timeline chart), a sent quote and an issued invoice,
    the order's customer registered."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    legal = {"legal_name": "Alpha SAS", "siren": "732829320", "siret": "73282932000074",
             "vat_number": "FR44732829320", "address_line1": "1 rue de la Paix",
             "postal_code": "75002", "city": "Paris"}
    Shop.objects.filter(pk=shop.pk).update(**legal)
    saved = {key: getattr(shop, key) for key in legal}
    for key, value in legal.items():
        setattr(shop, key, value)
    try:
        with in_schema(shop):
            customer = registered("csp.customer@example.test")
            bike = goods("CSP-BIKE", price="100.00", stock="20")
            order = place_order((bike, 1), customer=customer)
            today = timezone.localdate()
            milestone_create(subject=order, by=None, data={
                "name": "Delivery", "planned_start": today,
                "planned_end": today + timedelta(days=10)})
            quote = quote_create(customer=customer, by=None, lines=[LineInput(
                name="Bike", quantity=Decimal("1"), unit_net=Decimal("100"),
                tax_rate=Decimal("20"), product=bike)])
            quote = quote_send(quote=quote, by=None, base_url=BASE_URL)
            invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None),
                                    by=staff("accountant"))
            yield {"customer": customer, "order": order, "quote": quote, "invoice": invoice}
    finally:
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)


def test_shop_pages_carry_the_policy_and_no_inline_code(shop, owner_client, documents):
    order, quote, invoice = documents["order"], documents["quote"], documents["invoice"]
    visitor = Client(HTTP_HOST=host_of(shop))
    with in_schema(shop):
        token = quote_link_token(quote)
        product_slug = order.lines.first().product.slug
    for path in ["/", f"/p/{product_slug}/", "/cart/", "/account/login/", "/account/signup/",
                 "/account/password/reset/", "/accounts/login/", "/accounts/password/reset/",
                 f"/q/{token}/", "/api/docs/", "/api/docs/?script="]:
        assert_strict(visitor.get(path), path)
    assert visitor.get("/api/docs/?script=")["Content-Type"].startswith(
        "application/javascript"), "Swagger UI's init script is a file of its own"
    assert "?script=" in visitor.get("/api/docs/").content.decode()

    for path in ["/dashboard/", "/dashboard/catalog/", "/dashboard/sales/orders/",
                 f"/dashboard/sales/orders/{order.pk}/", "/dashboard/sales/quotes/",
                 f"/dashboard/sales/quotes/{quote.pk}/", "/dashboard/sales/customers/",
                 "/dashboard/billing/invoices/", f"/dashboard/billing/invoices/{invoice.pk}/",
                 "/dashboard/billing/settings/", "/dashboard/catalog/csv/",
                 "/dashboard/activity/", "/dashboard/activity/inbox/",
                 "/dashboard/activity/my-work/", "/dashboard/activity/tickets/",
                 "/dashboard/staff/", "/dashboard/api-tokens/", "/dashboard/settings/"]:
        assert_strict(owner_client.get(path), path)
    assert 'class="chart-bar chart-bar-planned"' in owner_client.get(
        f"/dashboard/sales/orders/{order.pk}/").content.decode(), "the milestone chart is drawn"

    customer = login(Client(HTTP_HOST=host_of(shop)), shop, documents["customer"].user)
    for path in ["/account/", "/account/orders/", f"/account/orders/{order.number}/",
                 "/account/quotes/", f"/account/quotes/{quote.pk}/", "/account/invoices/",
                 f"/account/invoices/{invoice.pk}/", "/account/addresses/",
                 "/account/tickets/", "/account/tickets/new/"]:
        assert_strict(customer.get(path), path)


def test_card_payment_pages_allow_forms_to_lead_to_stripe_checkout(shop, documents,
                                                                   stripe_settings):
    Shop.objects.filter(pk=shop.pk).update(stripe_account_id=ACCOUNT, stripe_charges_enabled=True)
    invoice = documents["invoice"]
    accountant = login(Client(HTTP_HOST=host_of(shop)), shop, staff_in(shop, "accountant"))
    response = accountant.post(f"/dashboard/billing/invoices/{invoice.pk}/pay-link/", follow=True)
    assert_strict(response, "invoice page with a card payment link")
    html = response.content.decode()
    with in_schema(shop):
        payment = Payment.objects.get(invoice=invoice)
    # The copy button: shown by app.js only (it needs JavaScript), no inline handler.
    assert f'data-copy="#pay-link-{payment.pk}"' in html
    # A card payment answers a form with a redirect to Stripe's page: Chromium checks
    # form-action on that redirect too.
    assert directives(response)["form-action"] == ["'self'", stripe_settings.api_base]

    customer = login(Client(HTTP_HOST=host_of(shop)), shop, documents["customer"].user)
    for path in [f"/pay/return/{payment.pk}/", f"/pay/cancelled/{payment.pk}/"]:
        assert_strict(customer.get(path), path)


def test_without_card_payments_forms_stay_on_the_shop(shop, owner_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert directives(owner_client.get("/dashboard/"))["form-action"] == ["'self'"]


def staff_in(shop, role: str):
    with in_schema(shop):
        return staff(role)
