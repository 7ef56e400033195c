"""Two shops, and someone trying to cross from one to the other: every attempt is refused.

- sessions: a cookie of shop A replayed on shop B's host or on the platform is anonymous;
- hosts: an unknown subdomain serves no shop; the Host header alone picks the shop
  (X-Forwarded-Host is ignored), and emails and redirects use the real host;
- API tokens of shop A are unknown on shop B (401);
- ids: every page of the shop's URLconf that takes an id, a number, a slug or a signed link,
  filled with shop A's real values and asked on shop B by B's own owner or customer, answers
  404 (the list of pages comes from the URLconf: a new page must say how to fill it);
- caches and per-process memos: the same key or the same model in two shops never shares a
  value (storefront pages, rate-limit counters, content type ids);
- files: uploaded media and private documents are kept per shop.

Per-feature tests keep the isolation of what they build (lists of one shop never showing the
other's rows: tests/catalog, tests/sales, tests/billing, tests/streams; the signup hand-off:
tests/tenants/test_signup.py); this suite holds what is common to every page.
"""

from __future__ import annotations

import runpy
import secrets
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.cache import cache, caches
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tenants.cache import make_key
from PIL import Image
from rest_framework.views import APIView

from billing.models import Invoice
from billing.services.invoices import invoice_create_for_order, invoice_issue
from billing.services.payments import payment_record
from billing.storage import private_storage
from catalog import selectors as catalog_selectors
from catalog.cache import VERSION_KEY, connect_signals
from catalog.models import BaseProduct, Product, Project
from catalog.services.categories import category_save, product_type_save, spec_definition_add
from catalog.services.csv_io import import_job_create
from catalog.services.images import product_image_add
from sales.links import quote_link_token
from sales.models import Customer, Order, Quote, ShippingMethod
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.customers import address_save
from sales.services.quotes import quote_create, quote_line_input, quote_send
from streams import subjects
from streams.models import Event, Notification
from streams.services.milestones import milestone_create
from streams.services.social import comment_create, follow_set
from streams.services.work import task_create, ticket_raise
from streams.subjects import content_type_id
from tenants.accounts.services import api_token_create
from tenants.services import shop_archive
from tests.conftest import PASSWORD, host_of, in_schema, login, owner_of
from tests.sales.factories import ADDRESS, BASE_URL, goods, place_order, registered, staff

pytestmark = pytest.mark.django_db

LEGAL = {"legal_name": "Alpha SAS", "siren": "732829320", "siret": "73282932000074",
         "vat_number": "FR44732829320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris"}


def _client(shop, user=None, **headers) -> Client:
    client = Client(HTTP_HOST=host_of(shop), **headers)
    return login(client, shop, user) if user is not None else client


def _cookie_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# ---------------------------------------------------------------------------------------------
# Sessions: a cookie belongs to the host that set it
# ---------------------------------------------------------------------------------------------
def test_staff_of_one_shop_cannot_log_in_on_another(shop, other_shop):
    owner_a = owner_of(shop)
    on_b = _client(other_shop)

    response = on_b.post("/accounts/login/", {"username": owner_a.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Wrong email or password" in response.content.decode()
    assert on_b.get("/dashboard/").status_code == 302


def test_staff_logs_in_on_their_own_shop(shop):
    client = _client(shop)
    response = client.post("/accounts/login/", {"username": owner_of(shop).email,
                                                "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_a_staff_cookie_replayed_on_another_shop_is_anonymous(shop, other_shop):
    client_a = _client(shop, owner_of(shop))
    assert client_a.get("/dashboard/").status_code == 200
    assert client_a.get("/api/v1/me/").status_code == 200

    replay = _client(other_shop)
    replay.cookies[settings.SESSION_COOKIE_NAME] = _cookie_of(client_a)

    response = replay.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert replay.get("/api/v1/me/").status_code in (401, 403)


def test_a_customer_cookie_replayed_on_another_shop_is_anonymous(shop, other_shop):
    with in_schema(shop):
        paul = registered("paul@example.test")
    client_a = _client(shop, paul.user)
    assert client_a.get("/account/orders/").status_code == 200

    replay = _client(other_shop)
    replay.cookies[settings.SESSION_COOKIE_NAME] = _cookie_of(client_a)
    response = replay.get("/account/orders/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_a_shop_cookie_replayed_on_the_platform_is_anonymous(shop):
    client_a = _client(shop, owner_of(shop))

    platform = Client(HTTP_HOST=settings.BASE_DOMAIN)
    platform.cookies[settings.SESSION_COOKIE_NAME] = _cookie_of(client_a)

    assert platform.get("/console/")["Location"].startswith("/console/login/")


def test_the_session_cookie_is_host_only(shop):
    client = _client(shop)
    client.post("/accounts/login/", {"username": owner_of(shop).email, "password": PASSWORD})
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    assert morsel["domain"] == "", "no Domain attribute: the browser keeps it to this host"
    assert morsel["httponly"]


# ---------------------------------------------------------------------------------------------
# Hosts: the Host header, and only it, picks the shop
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["nowhere.localhost", "alpha.localhost.evil.test",
                                  "localhost.evil", "evil.test"])
def test_an_unknown_host_never_serves_a_shop(host, shop):
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code in (400, 404)
    assert b"Alpha Shop" not in response.content


def test_another_shops_host_with_this_shops_cookie_and_path_shows_nothing(shop, other_shop):
    with in_schema(shop):
        order = place_order((goods("ALPHA-1"), 1))
    client_a = _client(shop, owner_of(shop))
    page = f"/dashboard/sales/orders/{order.pk}/"
    assert client_a.get(page).status_code == 200

    spoofed = Client(HTTP_HOST=host_of(other_shop))
    spoofed.cookies[settings.SESSION_COOKIE_NAME] = _cookie_of(client_a)
    response = spoofed.get(page)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert order.number not in response.content.decode()


def test_x_forwarded_host_never_picks_the_shop(shop, other_shop):
    """Behind a proxy that passes X-Forwarded-Host through, a visitor could otherwise choose
    the shop (and the host of every absolute URL) with a header."""
    client_b = _client(other_shop, owner_of(other_shop),
                       HTTP_X_FORWARDED_HOST=host_of(shop))
    on_platform = Client(HTTP_HOST=settings.BASE_DOMAIN, HTTP_X_FORWARDED_HOST=host_of(shop))

    assert client_b.get("/api/v1/me/").json()["user"]["email"] == owner_of(other_shop).email
    assert client_b.get("/healthz").json()["schema"] == other_shop.schema_name
    assert on_platform.get("/healthz").json()["schema"] == "public"


def test_x_forwarded_host_is_off_in_production(monkeypatch):
    """Production settings (DEBUG off, read from the environment as in a deploy)."""
    for key, value in {"DEBUG": "0", "BASE_DOMAIN": "shops.example",
                       "SECRET_KEY": "x7!prod-like-secret-key-with-enough-entropy-0123456789",
                       "EMAIL_URL": "smtp://mail.example:587",
                       # The test database's server: no embedded one started for this.
                       "DATABASE_URL": settings.DATABASE_URL}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    production = runpy.run_path(str(settings.BASE_DIR / "config" / "settings.py"))

    assert production["DEBUG"] is False
    assert not production.get("USE_X_FORWARDED_HOST", False)
    assert not production.get("USE_X_FORWARDED_PORT", False)
    assert production["ALLOWED_HOSTS"] == ["shops.example", ".shops.example"]
    assert not settings.USE_X_FORWARDED_HOST  # and in the settings these tests run with


@pytest.mark.parametrize("path", ["/accounts/password/reset/", "/account/password/reset/"])
def test_reset_emails_link_to_the_real_host_whatever_the_headers_say(path, shop):
    """Password reset emails carry the host they were asked on: a forged X-Forwarded-Host
    must not send a victim's reset link to someone else's server."""
    with in_schema(shop):
        paul = registered("paul@example.test")
    email = owner_of(shop).email if path.startswith("/accounts/") else paul.email
    client = _client(shop, HTTP_X_FORWARDED_HOST="evil.test")

    response = client.post(path, {"email": email})

    assert response.status_code == 302
    assert not response["Location"].startswith(("http://evil", "//"))
    body = mail.outbox[-1].body
    assert f"http://{host_of(shop)}/" in body and "evil.test" not in body


def test_quote_emails_link_to_the_shops_own_address(shop, django_capture_on_commit_callbacks):
    with in_schema(shop):
        quote = quote_create(customer=registered("marie@example.test"), by=None,
                             lines=[quote_line_input(name="Design", unit_net="100",
                                                     tax_rate=Decimal("20"))])
    client = _client(shop, owner_of(shop), HTTP_X_FORWARDED_HOST="evil.test")

    with django_capture_on_commit_callbacks(execute=True):  # emails go out on commit
        response = client.post(f"/dashboard/sales/quotes/{quote.pk}/send/")

    assert response.status_code == 302
    body = mail.outbox[-1].body
    assert f"http://{host_of(shop)}/q/" in body and "evil.test" not in body


def test_redirects_never_leave_for_a_forwarded_host(shop):
    client = _client(shop, HTTP_X_FORWARDED_HOST="evil.test")
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

    signed_in = client.post("/accounts/login/?next=https://evil.test/",
                            {"username": owner_of(shop).email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert "evil.test" not in signed_in["Location"]


def test_an_archived_shops_host_serves_no_data(shop, platform_admin):
    shop_archive(shop=shop, by=platform_admin, reason="test")  # rolled back after the test
    client = _client(shop, owner_of(shop))

    for path in ("/", "/dashboard/", "/accounts/login/"):
        response = client.get(path)
        assert response.status_code == 503
        assert "This shop is closed" in response.content.decode()
    api = client.get("/api/v1/me/")
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "shop_unavailable"


def test_each_host_answers_from_its_own_schema(shop, other_shop, platform_client):
    assert platform_client.get("/healthz").json()["schema"] == "public"
    for each in (shop, other_shop):
        assert _client(each).get("/healthz").json()["schema"] == each.schema_name


# ---------------------------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------------------------
def test_an_api_token_of_one_shop_is_unknown_on_another(shop, other_shop):
    with in_schema(shop):
        _token, key = api_token_create(user=owner_of(shop), name="sync")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    on_b = _client(other_shop, **auth)

    assert _client(shop, **auth).get("/api/v1/me/").status_code == 200
    assert on_b.get("/api/v1/me/").status_code == 401
    assert on_b.get("/api/v1/orders/").status_code == 401
    created = on_b.post("/api/v1/customers/", {"email": "x@example.test", "first_name": "X",
                                               "last_name": "Y"}, content_type="application/json")
    assert created.status_code == 401
    with in_schema(other_shop):
        assert not Customer.objects.filter(email="x@example.test").exists()


# ---------------------------------------------------------------------------------------------
# Ids, numbers, slugs and links of one shop, asked on the other: every page says 404
# ---------------------------------------------------------------------------------------------
# How to fill each page's parameters with shop A's values: "attr" is A's object (its pk),
# "attr.field" one of its fields, "=text" a literal (an action's name, a kind).
ROUTES: dict[str, dict[str, str]] = {
    # Storefront
    "catalog:category": {"path": "category.path"},
    "catalog:product": {"slug": "product.slug"},
    "catalog:project": {"slug": "project.slug"},
    "sales_store:cart_line": {"line_id": "cart_line"},
    "sales_store:cart_line_remove": {"line_id": "cart_line"},
    "sales_store:checkout_done": {"number": "order.number"},
    "billing_account:detail": {"pk": "invoice"},
    "billing_account:pdf": {"pk": "invoice"},
    "streams_account:detail": {"pk": "ticket"},
    "streams_account:reply": {"pk": "ticket"},
    "sales_account:order_detail": {"number": "order.number"},
    "sales_account:quote_detail": {"pk": "quote"},
    "sales_account:quote_accept": {"pk": "quote"},
    "sales_account:quote_decline": {"pk": "quote"},
    "sales_account:address_edit": {"pk": "address"},
    "sales_account:address_delete": {"pk": "address"},
    "billing_pay:order": {"number": "order.number"},
    "billing_pay:order_transfer": {"number": "order.number"},
    "billing_pay:invoice": {"pk": "invoice"},
    "billing_pay:return": {"payment_id": "payment"},
    "billing_pay:cancelled": {"payment_id": "payment"},
    "billing_documents:invoice_pdf": {"pk": "invoice"},
    "billing_documents:invoice_xml": {"pk": "invoice"},
    "billing_documents:quote_pdf": {"pk": "quote"},
    "billing_documents:order_pdf": {"pk": "order"},
    "sales_public:quote": {"token": "quote_link"},
    "sales_public:quote_accept": {"token": "quote_link"},
    "sales_public:quote_decline": {"token": "quote_link"},
    "sales_public:quote_thanks": {"token": "quote_link"},
    "tenant_media": {"path": "media_path"},
    # Dashboard
    "dashboard:staff_action": {"pk": "member", "action": "=deactivate"},
    "dashboard:api_token_revoke": {"pk": "token"},
    "catalog_dashboard:product_detail": {"pk": "product"},
    "catalog_dashboard:product_duplicate": {"pk": "product"},
    "catalog_dashboard:stock_change": {"pk": "product", "action": "=receive"},
    "catalog_dashboard:product_status": {"pk": "product", "action": "=archive"},
    "catalog_dashboard:category_edit": {"pk": "category"},
    "catalog_dashboard:category_delete": {"pk": "category"},
    "catalog_dashboard:product_type": {"pk": "product_type"},
    "catalog_dashboard:spec_delete": {"pk": "product_type", "spec_pk": "spec"},
    "catalog_dashboard:project": {"pk": "project"},
    "catalog_images:panel": {"kind": "=product", "pk": "product"},
    "catalog_images:upload": {"kind": "=product", "pk": "product"},
    "catalog_images:default": {"kind": "=product", "pk": "product", "image_pk": "image"},
    "catalog_images:move": {"kind": "=product", "pk": "product", "image_pk": "image"},
    "catalog_images:delete": {"kind": "=product", "pk": "product", "image_pk": "image"},
    "catalog_csv:job": {"pk": "import_job"},
    "sales_dashboard:order_detail": {"pk": "order"},
    "sales_dashboard:order_transition": {"pk": "order", "action": "=confirm"},
    "sales_dashboard:quote_detail": {"pk": "quote"},
    "sales_dashboard:quote_line_add": {"pk": "quote"},
    "sales_dashboard:quote_line_edit": {"pk": "quote", "line_pk": "quote_line"},
    "sales_dashboard:quote_line_remove": {"pk": "quote", "line_pk": "quote_line"},
    "sales_dashboard:quote_action": {"pk": "quote", "action": "=cancel"},
    "sales_dashboard:customer_detail": {"pk": "customer"},
    "sales_dashboard:customer_edit": {"pk": "customer"},
    "sales_dashboard:address_new": {"pk": "customer"},
    "sales_dashboard:address_edit": {"pk": "customer", "address_pk": "address"},
    "sales_dashboard:address_delete": {"pk": "customer", "address_pk": "address"},
    "sales_dashboard:shipping_edit": {"pk": "shipping"},
    "billing_dashboard:invoice_new_for_order": {"order_pk": "order"},
    "billing_dashboard:invoice_detail": {"pk": "invoice"},
    "billing_dashboard:invoice_edit": {"pk": "invoice"},
    "billing_dashboard:invoice_line_add": {"pk": "invoice"},
    "billing_dashboard:invoice_line_preview": {"pk": "invoice"},
    "billing_dashboard:invoice_line_remove": {"pk": "invoice", "line_pk": "invoice_line"},
    "billing_dashboard:invoice_issue": {"pk": "invoice"},
    "billing_dashboard:invoice_delete": {"pk": "invoice"},
    "billing_dashboard:credit_note_new": {"pk": "invoice"},
    "billing_dashboard:payment_record": {"pk": "invoice"},
    "billing_dashboard:payment_refund": {"pk": "invoice", "payment_pk": "payment"},
    "billing_dashboard:pay_link": {"pk": "invoice"},
    "streams:timeline": {"ct": "order_type", "pk": "order"},
    "streams:notification_open": {"pk": "notification"},
    "streams:follow": {"ct": "order_type", "pk": "order"},
    "streams:comments": {"ct": "order_type", "pk": "order"},
    "streams:comment_edit": {"pk": "comment"},
    "streams:comment_delete": {"pk": "comment"},
    "streams:milestone_new": {"subject_type": "project_type", "subject_id": "project"},
    "streams:milestone_detail": {"pk": "milestone"},
    "streams:milestone_dependencies": {"pk": "milestone"},
    "streams:milestone_delete": {"pk": "milestone"},
    "streams:milestone_transition": {"pk": "milestone", "action": "=start"},
    "streams:task_detail": {"pk": "task"},
    "streams:task_status": {"pk": "task"},
    "streams:task_assign": {"pk": "task"},
    "streams:task_delete": {"pk": "task"},
    **{f"streams:ticket_{name}": {"pk": "ticket"}
       for name in ("detail", "reply", "note", "assign", "priority", "close", "reopen")},
    # API
    "api:staff-detail": {"pk": "member"},
    **{f"api:product-{name}": {"pk": "product"} for name in (
        "detail", "archive", "duplicate", "movements", "restore", "stock-adjustment",
        "stock-receipt")},
    "api:category-detail": {"pk": "category"},
    "api:product-type-detail": {"pk": "product_type"},
    "api:product-type-spec-add": {"pk": "product_type"},
    "api:product-type-spec-delete": {"pk": "product_type", "code": "spec.code"},
    "api:project-detail": {"pk": "project"},
    "api:product-images": {"product_pk": "product"},
    "api:product-image": {"product_pk": "product", "pk": "image"},
    "api:product-image-make-default": {"product_pk": "product", "pk": "image"},
    "api:customer-detail": {"pk": "customer"},
    "api:customer-addresses": {"pk": "customer"},
    "api:customer-address-update": {"pk": "customer", "address_id": "address"},
    **{f"api:quote-{name}": {"pk": "quote"} for name in (
        "detail", "accept", "cancel", "convert", "decline", "line-add", "revise", "send")},
    "api:quote-line-update": {"pk": "quote", "line_id": "quote_line"},
    **{f"api:order-{name}": {"pk": "order"} for name in (
        "detail", "cancel", "confirm", "deliver", "ship", "start-processing")},
    **{f"api:invoice-{name}": {"pk": "invoice"} for name in (
        "detail", "credit-note", "facturx", "issue", "pdf")},
    "api:payment-detail": {"pk": "payment"},
    "api:payment-refund": {"pk": "payment"},
    "api:event-detail": {"pk": "event"},
    "api:follow-detail": {"pk": "follow"},
    "api:notification-read": {"pk": "notification"},
    "api:comment-detail": {"pk": "comment"},
    **{f"api:milestone-{name}": {"pk": "milestone"} for name in (
        "detail", "cancel", "complete", "delay", "dependencies", "start")},
    **{f"api:task-{name}": {"pk": "task"} for name in ("detail", "assign", "set-status")},
    **{f"api:ticket-{name}": {"pk": "ticket"} for name in (
        "detail", "assign", "close", "note", "reopen", "reply", "set-priority")},
}
# Pages whose parameters name nothing of a shop, or that are proven elsewhere.
NOT_IDS = {
    "catalog_csv:export": "the kind of product to export, not something of a shop",
    "accounts:handoff": "tests/tenants/test_signup.py: a hand-off works on its own shop only",
    "accounts:password_reset_confirm": "test_password_reset_links_... below",
    "sales_account:password_reset_confirm": "test_password_reset_links_... below",
}
# What a form or an API call sends: valid enough that the answer is about the object asked
# for (an action that checks its input first would otherwise answer 400 or 422 for a missing
# field, whatever the id).
ANY_BODY = {"reason": "Testing", "name": "Marie Curie", "accept_terms": True, "body": "Hello",
            "status": "done", "assignee": None, "priority": "high", "tracking": "",
            "amount": "1.00", "quantity": "1", "message": "Testing", "level": "all",
            "depends_on": [], "title": "Anything", "lines": [], "counted": "1"}
ANY_FORM = {key: "on" if value is True else value for key, value in ANY_BODY.items()
            if value is not None and not isinstance(value, list)}
# Storefront forms about the visitor's own cart: a line that is not in it (a stale form, or
# another shop's id) sends them back to their cart, which shows only their own lines.
BACK_TO_OWN_CART = {"sales_store:cart_line", "sales_store:cart_line_remove"}


def _tenant_routes() -> Iterator[tuple[str, list[str]]]:
    """(name, parameter names) of every page of a shop's host that takes parameters."""
    def walk(patterns, namespace: str, params: list[str]):
        for entry in patterns:
            names = list(entry.pattern.converters) if hasattr(entry.pattern, "converters") \
                and entry.pattern.converters else list(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, (namespace, entry.namespace)))
                yield from walk(entry.url_patterns, inner, params + names)
            elif isinstance(entry, URLPattern) and entry.name and (params + names):
                yield ":".join(filter(None, (namespace, entry.name))), params + names
    yield from walk(get_resolver("config.urls_tenant").url_patterns, "", [])


def _value(alpha: SimpleNamespace, spec: str) -> Any:
    if spec.startswith("="):
        return spec[1:]
    name, _dot, field = spec.partition(".")
    value = getattr(alpha, name)
    return getattr(value, field) if field else getattr(value, "pk", value)


def _past_the_other_shops_ids(shop, other) -> None:
    """Move every id sequence of `shop` past what `other` has used, so the ids made next in
    `shop` exist nowhere in `other` (ids are per schema: an id both shops have would rightly
    open the other shop's own object). Sequences are not transactional: they just jump."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname, sequencename, COALESCE(last_value, 0) "
                       "FROM pg_sequences WHERE schemaname IN (%s, %s)",
                       [shop.schema_name, other.schema_name])
        rows = cursor.fetchall()
        theirs = {name: last for schema, name, last in rows if schema == other.schema_name}
        jumps = [(f'"{shop.schema_name}"."{name}"', theirs[name]) for schema, name, last in rows
                 if schema == shop.schema_name and theirs.get(name, 0) >= last]
        for sequence, last in jumps:
            cursor.execute("SELECT setval(%s, %s)", [sequence, last + 1])


def _picture() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def alpha(shop, other_shop, settings, tmp_path) -> Iterator[SimpleNamespace]:
    """One of everything in shop A, with ids shop B has never used."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _forget_media_root()
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    type(shop).objects.filter(pk=shop.pk).update(**LEGAL)  # rolled back with the test
    saved = {key: getattr(shop, key) for key in LEGAL}
    _past_the_other_shops_ids(shop, other_shop)
    a = SimpleNamespace()
    try:
        for key, value in LEGAL.items():
            setattr(shop, key, value)
        with in_schema(shop):
            connection.tenant = shop
            owner = owner_of(shop)
            a.member = staff("sales")
            a.token, _key = api_token_create(user=owner, name="sync")
            a.category = category_save(name=f"Alpha bikes {secrets.token_hex(2)}")
            a.product_type = product_type_save(name="Alpha frames")
            a.spec = spec_definition_add(product_type=a.product_type, label="Frame size",
                                         kind="text")
            a.project = Project.objects.create(name="Alpha gardens",
                                               slug=f"alpha-{secrets.token_hex(3)}")
            a.product = goods(f"ALPHA-{secrets.token_hex(3)}")
            a.image = product_image_add(product=a.product, upload=_picture())
            a.media_path = a.image.image.url.removeprefix(settings.MEDIA_URL)
            a.import_job = import_job_create(
                kind="goods", by=None, file=SimpleUploadedFile(
                    "goods.csv", b"sku,name,net_price\nA-1,Bell,5.00\n", content_type="text/csv"))
            buyer = registered(f"alpha-{secrets.token_hex(3)}@example.test")
            a.customer = buyer
            a.address = address_save(customer=buyer, data=dict(ADDRESS))
            a.cart_line = cart_add(cart=cart_get_or_create(session={}, customer=buyer),
                                   product=a.product, quantity=1)
            quote = quote_create(customer=buyer, by=None,
                                 lines=[quote_line_input(product=a.product, quantity="1")])
            a.quote = quote_send(quote=quote, by=None, base_url=BASE_URL)
            a.quote_line = a.quote.lines.get()
            a.quote_link = quote_link_token(a.quote)
            a.order = place_order((a.product, 1), customer=buyer, email=buyer.email)
            a.shipping = ShippingMethod.objects.create(
                name="Alpha courier", price_net=Decimal("5"),
                tax_rate=ShippingMethod.objects.first().tax_rate)
            a.order_type = content_type_id(Order)
            a.project_type = content_type_id(Project)
            a.invoice = invoice_issue(invoice=invoice_create_for_order(order=a.order, by=None),
                                      by=None)
            a.invoice_line = a.invoice.lines.first()
            a.payment = payment_record(invoice=a.invoice, method="bank_transfer",
                                       amount=Decimal("10.00"), by=None)
            a.milestone = milestone_create(subject=a.project, by=None, data={"name": "Walls"})
            a.task = task_create(subject=a.project, title="Pour the slab", by=None)
            a.ticket = ticket_raise(user=buyer.user, subject=a.order, title="When?",
                                    body="When will it arrive?")
            a.follow = follow_set(user=a.member, subject_type_id=a.order_type,
                                  subject_id=a.order.pk, level="all")
            a.comment = comment_create(by=owner, subject_type_id=a.order_type,
                                       subject_id=a.order.pk, body="Ship it on Monday")
            a.notification = Notification.objects.filter(recipient=a.member).latest("pk")
            a.event = Event.objects.latest("pk")
        yield a
    finally:
        _forget_media_root()
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)


def _forget_media_root() -> None:
    # django-tenants' storage keeps the first MEDIA_ROOT it saw (it ignores setting changes).
    storages["default"].__dict__.pop("relative_media_root", None)


def _a_fingerprint(shop) -> tuple:
    with in_schema(shop):
        return tuple(model.objects.count() for model in (
            BaseProduct, Quote, Order, Invoice, Event, Notification)), tuple(
            Order.objects.values_list("status", flat=True))


def _ask(client: Client, url: str, *, api: bool) -> list[tuple[str, int, str]]:
    """(method, status, where a redirect led) for every method the page takes: a page is
    read, or posted to when it only takes posts; an API address is tried with every method.
    A redirect is followed once: what counts is where the visitor ends up."""
    if api:
        answers = [(method.upper(), getattr(client, method)(
            url, ANY_BODY, content_type="application/json") if method != "get"
            else client.get(url)) for method in ("get", "post", "patch", "delete")]
        answers = [(method, r) for method, r in answers if r.status_code != 405] or answers[:1]
    else:
        response = client.get(url)
        answers = [("GET", response)] if response.status_code != 405 else [
            ("POST", client.post(url, ANY_FORM))]
    results = []
    for method, response in answers:
        location = response.get("Location", "") if response.status_code in (301, 302) else ""
        code = client.get(location).status_code if location else response.status_code
        results.append((method, code, location))
    return results


def test_every_page_answers_404_for_another_shops_ids(alpha, shop, other_shop, monkeypatch):
    # The sweep asks a few hundred API pages in a row: the rate limits are not what it tests.
    monkeypatch.setattr(APIView, "get_throttles", lambda self: [])
    routes = dict(_tenant_routes())
    unfilled = sorted(set(routes) - set(ROUTES) - set(NOT_IDS))
    assert not unfilled, f"pages with parameters nobody fills here: {unfilled}"
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"pages that no longer exist: {stale}"

    with in_schema(other_shop):
        bob = registered(f"bob-{secrets.token_hex(3)}@example.test")
        _token, key = api_token_create(user=owner_of(other_shop), name="sweep")
        assert not Order.objects.filter(number=alpha.order.number).exists()
    b_owner = _client(other_shop, owner_of(other_shop))
    b_customer = _client(other_shop, bob.user)
    b_api = _client(other_shop, HTTP_AUTHORIZATION=f"Token {key}")
    before = _a_fingerprint(shop)

    wrong = []
    for name, params in sorted(routes.items()):
        if name in NOT_IDS:
            continue
        spec = ROUTES[name]
        assert set(spec) == set(params), f"{name} takes {params}, not {sorted(spec)}"
        url = reverse(name, kwargs={key: _value(alpha, value) for key, value in spec.items()})
        api = url.startswith("/api/")
        if api:
            who, client = "owner (token)", b_api
        elif url.startswith(("/dashboard/", "/documents/")):
            who, client = "owner", b_owner
        else:
            who, client = "customer", b_customer
        for method, code, location in _ask(client, url, api=api):
            if name in BACK_TO_OWN_CART and location == reverse("sales_store:cart"):
                continue
            if code != 404:
                led = f" (after a redirect to {location})" if location else ""
                wrong.append(f"{method} {url} as B's {who}: {code}{led}")

    assert not wrong, "pages of shop B answering something else than 404 for shop A's " \
                      "ids:\n" + "\n".join(wrong)
    assert _a_fingerprint(shop) == before, "shop B's requests changed shop A"


def test_password_reset_links_of_one_shop_are_invalid_on_another(shop, other_shop):
    """Reset links name a user id and a token made from the user's password hash: the same id
    in another shop is another person, whose hash does not match."""
    with in_schema(shop):
        paul = registered("paul@example.test")
    with in_schema(other_shop):
        registered("paul@example.test")  # the same person, registered in both shops
    links = []
    for path, email in (("/accounts/password/reset/", owner_of(shop).email),
                        ("/account/password/reset/", paul.email)):
        _client(shop).post(path, {"email": email})
        links.append(next(line for line in mail.outbox[-1].body.split()
                          if "/password/reset/" in line))

    for link in links:
        path = link.split(host_of(shop), 1)[1]
        response = _client(other_shop).get(path, follow=True)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="new_password1"' not in html, path
        assert _client(shop).get(path, follow=True).content.decode().count(
            'name="new_password1"') == 1, "the link works on its own shop"


def test_a_quote_link_of_one_shop_opens_and_accepts_nothing_on_another(shop, other_shop):
    with in_schema(shop):
        quote = quote_send(quote=quote_create(
            customer=registered("marie@example.test"), by=None,
            lines=[quote_line_input(name="Design", unit_net="100", tax_rate=Decimal("20"))]),
            by=None, base_url=BASE_URL)
        token = quote_link_token(quote)
    on_b = _client(other_shop)

    assert _client(shop).get(f"/q/{token}/").status_code == 200
    assert on_b.get(f"/q/{token}/").status_code == 404
    answer = on_b.post(f"/q/{token}/accept/", {"name": "Marie Curie", "accept_terms": "on"})
    assert answer.status_code == 404
    with in_schema(shop):
        assert Quote.objects.get(pk=quote.pk).status == "sent"


# ---------------------------------------------------------------------------------------------
# Caches and per-process memos
# ---------------------------------------------------------------------------------------------
def test_every_cache_keeps_each_shops_values_apart(shop, other_shop):
    """Rate-limit counters, the catalog version, storefront pages: whatever a shop stores
    under a key, the other shop's same key is another entry."""
    key = f"isolation:{secrets.token_hex(4)}"
    for alias, config in settings.CACHES.items():
        assert config.get("KEY_FUNCTION") == "django_tenants.cache.make_key", alias
        store = caches[alias]
        with in_schema(shop):
            store.set(key, 0)
            store.incr(key, 5)  # a counter, as rate limits keep them
        with in_schema(other_shop):
            assert store.get(key) is None, alias
            store.set(key, 1)
        with in_schema(shop):
            assert store.get(key) == 5, alias
        with in_schema(other_shop):
            assert store.get(key) == 1, alias
            store.delete(key)
        with in_schema(shop):
            store.delete(key)
    with in_schema(shop):
        alpha_key = make_key("throttle_staff_1", "", 1)
    with in_schema(other_shop):
        assert make_key("throttle_staff_1", "", 1) != alpha_key


def test_two_shops_never_share_a_cached_storefront_page(shop, other_shop, settings):
    connect_signals()  # as CatalogConfig.ready() does; idempotent
    settings.STOREFRONT_CACHE_SECONDS = 300
    cache.clear()
    with in_schema(shop):
        goods("ALPHA-BIKE", name="Alpha bike")
    with in_schema(other_shop):
        goods("BETA-BIKE", name="Beta bike")
    # The same catalog version in both shops: only the schema in the key tells them apart.
    for each in (shop, other_shop):
        with in_schema(each):
            cache.set(VERSION_KEY, 7, timeout=None)

    try:
        alpha_page = _client(shop).get("/").content.decode()
        beta_page = _client(other_shop).get("/").content.decode()
        alpha_again = _client(shop).get("/").content.decode()
    finally:
        cache.clear()

    assert "Alpha bike" in alpha_page and "Beta bike" not in alpha_page
    assert "Beta bike" in beta_page and "Alpha bike" not in beta_page
    assert "Alpha bike" in alpha_again and "Beta bike" not in alpha_again


@pytest.fixture
def renumbered(shop, other_shop, monkeypatch) -> Iterator[dict[type, tuple[int, int]]]:
    """Models whose content types have other ids in shop B than in shop A (as for a shop
    created after an app was added), for the length of a test: model -> (A's id, B's id).
    The memos start empty, so shop A fills them first."""
    monkeypatch.setattr(catalog_selectors, "_KINDS_BY_SCHEMA", {})
    monkeypatch.setattr(subjects, "_CT_BY_SCHEMA", {})
    monkeypatch.setattr(subjects, "_MODEL_BY_SCHEMA", {})
    models = (Product, Order)  # a product kind (catalog's memo), a tracked subject (streams')
    ids = {}
    sid = transaction.savepoint()
    try:
        for model in models:
            with in_schema(shop):
                alpha_id = ContentType.objects.get_for_model(model).pk
            with in_schema(other_shop), connection.cursor() as cursor:
                # Foreign keys to content types are checked at commit (deferred); this is
                # rolled back long before.
                cursor.execute("UPDATE django_content_type SET id = id + 100000 WHERE "
                               "app_label = %s AND model = %s RETURNING id",
                               [model._meta.app_label, model._meta.model_name])
                ids[model] = (alpha_id, cursor.fetchone()[0])
        ContentType.objects.clear_cache()
        yield ids
    finally:
        transaction.savepoint_rollback(sid)
        ContentType.objects.clear_cache()


def test_content_type_memos_are_per_shop(renumbered, shop, other_shop):
    (product_a, product_b), (order_a, order_b) = renumbered[Product], renumbered[Order]
    with in_schema(shop):
        alpha_kinds = catalog_selectors.kind_by_ctype()
        assert content_type_id(Order) == order_a
    with in_schema(other_shop):
        beta_kinds = catalog_selectors.kind_by_ctype()
        assert content_type_id(Order) == order_b
        assert subjects.label_for_type(order_b) == "sales.order"
        assert subjects.label_for_type(order_a) != "sales.order"

    assert alpha_kinds[product_a] == beta_kinds[product_b] == "goods"
    assert product_a not in beta_kinds
    with in_schema(shop):  # and A still reads its own
        assert content_type_id(Order) == order_a
        assert catalog_selectors.kind_by_ctype()[product_a] == "goods"


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def test_private_documents_are_kept_per_shop(shop, other_shop, settings, tmp_path):
    """Both shops number their first invoice of the year alike, so their stored PDFs share a
    name: each shop's folder keeps them apart."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    name = "invoices/2026/F-2026-00001.pdf"
    with in_schema(shop):
        stored = private_storage.save(name, ContentFile(b"%PDF- Alpha's invoice"))
        assert private_storage.path(stored).startswith(str(tmp_path / "private" /
                                                           shop.schema_name))
    with in_schema(other_shop):
        assert not private_storage.exists(stored)
        private_storage.save(name, ContentFile(b"%PDF- Beta's invoice"))
        with private_storage.open(name) as beta_file:
            assert beta_file.read() == b"%PDF- Beta's invoice"
    with in_schema(shop), private_storage.open(stored) as alpha_file:
        assert alpha_file.read() == b"%PDF- Alpha's invoice"


def test_media_of_one_shop_are_not_served_on_another(alpha, shop, other_shop):
    url = settings.MEDIA_URL + alpha.media_path

    assert _client(shop).get(url).status_code == 200
    assert _client(other_shop).get(url).status_code == 404
    assert url.startswith(f"{settings.MEDIA_URL}{shop.schema_name}/")

