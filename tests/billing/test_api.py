"""Billing REST API: invoices made from orders (whole or a deposit) or standalone, drafts edited
and deleted, issued with their number then frozen (409 with what is allowed), credit notes,
PDF and Factur-X; payments recorded by hand and refunded; each action by the right role only
(403, nothing changed); constant list cost; isolation between shops; the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Invoice, InvoiceStatus, Payment, Refund
from billing.services.invoices import invoice_create_for_order, invoice_issue
from billing.services.payments import payment_record
from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.models import Shop
from tests.conftest import PASSWORD, host_of, in_schema, login, owner_of
from tests.sales import factories

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
PAYMENTS = "/api/v1/payments/"
YEAR = timezone.localdate().year



def api_client(shop: Shop, user: User | None = None) -> Client:
    """A client on `shop`'s host carrying a staff token of `user` (the owner by default)."""
    user = user or owner_of(shop)
    with in_schema(shop):
        _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


def as_role(shop: Shop, role: str) -> Client:
    with in_schema(shop):
        user = factories.staff(role)
    return api_client(shop, user)


@pytest.fixture
def api(in_shop) -> Client:
    return api_client(in_shop)


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def an_order(sku: str = "BIKE", *, price: str = "100.00", quantity: int = 2, customer=None):
    """An order of `quantity` products (2 x 100.00 excl. VAT at 20 %, free shipping: 240.00)."""
    product = factories.goods(sku, price=price, stock="100")
    extra = {"customer": customer, "email": customer.email} if customer else {}
    return factories.place_order((product, quantity), **extra)


def an_invoice(sku: str = "BIKE", **kwargs) -> Invoice:
    order = an_order(sku, **kwargs)
    return invoice_issue(invoice=invoice_create_for_order(order=order, by=None), by=None)


def state(invoice: Invoice) -> tuple[str, Decimal, int]:
    fresh = Invoice.objects.get(pk=invoice.pk)
    return fresh.status, fresh.gross_total, fresh.lines.count()


# --- invoices: create, edit, issue ------------------------------------------------------------

def test_an_order_is_invoiced_as_a_draft_then_issued_with_its_number(api):
    order = an_order()

    created = post(api, INVOICES, {"order": order.pk})

    assert created.status_code == 201, created.json()
    draft = created.json()
    assert (draft["kind"], draft["status"], draft["number"]) == ("invoice", "draft", None)
    assert draft["order"] == {"id": order.pk, "number": order.number}
    assert draft["gross_total"] == "240.00" and draft["balance"] == "0.00"
    assert draft["vat_breakdown"] == [{"rate": "20.00", "base": "200.00", "vat": "40.00"}]
    assert [line["name"] for line in draft["lines"]] == ["Goods BIKE"]
    assert draft["allowed_actions"] == ["issue", "update", "delete"]

    issued = post(api, f"{INVOICES}{draft['id']}/issue/")

    assert issued.status_code == 200, issued.json()
    body = issued.json()
    assert (body["status"], body["number"]) == ("issued", f"F-{YEAR}-00001")
    assert body["balance"] == "240.00" and body["due_date"]
    assert body["seller"]["siren"] == "732829320" and body["buyer"]["name"]
    assert body["allowed_actions"] == ["record_payment", "credit_note"]
    assert [entry["verb"] for entry in body["history"]] == ["issue", "created"]


def test_a_deposit_then_never_more_than_the_order(api):
    order = an_order()

    deposit = post(api, INVOICES, {"order": order.pk, "percent": "30"})
    too_much = post(api, INVOICES, {"order": order.pk, "percent": "80"})

    assert deposit.status_code == 201
    assert (deposit.json()["net_total"], deposit.json()["gross_total"]) == ("60.00", "72.00")
    assert deposit.json()["order_percent"] == "30.00"
    assert too_much.status_code == 400
    assert list(too_much.json()["errors"]) == ["percent"]
    assert "at most 70 % is left" in too_much.json()["errors"]["percent"][0]
    assert Invoice.objects.count() == 1


def test_a_standalone_invoice_with_catalog_and_free_lines_has_exact_totals(api):
    customer = factories.customer()
    helmet = factories.goods("HELMET", price="33.33", rate="5.50")

    created = post(api, INVOICES, {"customer": customer.pk, "title": "Workshop", "lines": [
        {"product": helmet.pk, "quantity": "3"},
        {"name": "Labour", "quantity": "1.5", "unit_net": "60.00", "tax_rate": "20.00"},
        {"name": "Goodwill", "quantity": "-1", "unit_net": "10.00", "tax_rate": "20.00"}]})

    assert created.status_code == 201, created.json()
    body = created.json()
    # 3 x 33.33 = 99.99 at 5.5 % (5.50 VAT); 90.00 - 10.00 = 80.00 at 20 % (16.00 VAT)
    assert body["vat_breakdown"] == [{"rate": "5.50", "base": "99.99", "vat": "5.50"},
                                     {"rate": "20.00", "base": "80.00", "vat": "16.00"}]
    assert (body["net_total"], body["vat_total"], body["gross_total"]) == (
        "179.99", "21.50", "201.49")
    assert body["lines"][0]["sku"] == "HELMET" and body["title"] == "Workshop"


def test_refused_input_is_a_400_on_its_field_and_creates_nothing(api):
    customer, order = factories.customer(), an_order()

    free_line_without_price = post(api, INVOICES, {"customer": customer.pk, "lines": [
        {"name": "A", "quantity": "1", "unit_net": "1", "tax_rate": "20"},
        {"name": "B", "quantity": "1", "tax_rate": "20"}]})
    neither = post(api, INVOICES, {"title": "?"})
    both = post(api, INVOICES, {"order": order.pk, "customer": customer.pk})
    order_with_lines = post(api, INVOICES, {"order": order.pk, "lines": [
        {"name": "A", "quantity": "1", "unit_net": "1", "tax_rate": "20"}]})
    zero = post(api, INVOICES, {"customer": customer.pk, "lines": [
        {"name": "A", "quantity": "0", "unit_net": "1", "tax_rate": "20"}]})
    unknown = post(api, INVOICES, {"order": 999999})

    assert free_line_without_price.json() == {"errors": {
        "lines.1.unit_net": ["Required for a line without a product."]}}
    assert list(neither.json()["errors"]) == ["non_field_errors"]
    assert list(both.json()["errors"]) == ["non_field_errors"]
    assert list(order_with_lines.json()["errors"]) == ["lines"]
    assert list(zero.json()["errors"]) == ["lines.0.quantity"]
    assert list(unknown.json()["errors"]) == ["order"]
    assert not Invoice.objects.exists()


def test_a_draft_is_edited_and_deleted(api):
    order = an_order()
    draft = post(api, INVOICES, {"order": order.pk}).json()
    url = f"{INVOICES}{draft['id']}/"

    changed = patch(api, url, {"title": "Bikes", "notes": "Thank you", "add_lines": [
        {"name": "Assembly", "quantity": "1", "unit_net": "50.00", "tax_rate": "20.00"}],
        "remove_lines": [draft["lines"][0]["id"]]})
    not_a_line = patch(api, url, {"remove_lines": [999999]})

    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["title"], body["notes"]) == ("Bikes", "Thank you")
    assert [line["name"] for line in body["lines"]] == ["Assembly"]
    assert body["gross_total"] == "60.00"
    assert not_a_line.status_code == 400 and list(not_a_line.json()["errors"]) == ["remove_lines"]
    assert api.put(url, {}, content_type="application/json").status_code == 405

    deleted = api.delete(url)

    assert deleted.status_code == 204
    assert not Invoice.objects.exists()
    assert api.get(url).status_code == 404


def test_an_issued_invoice_is_neither_edited_nor_deleted_nor_issued_again(api):
    invoice = an_invoice()
    before = state(invoice)
    url = f"{INVOICES}{invoice.pk}/"

    edited = patch(api, url, {"title": "Changed"})
    deleted = api.delete(url)
    again = post(api, f"{url}issue/")

    for refused in (edited, deleted, again):
        assert refused.status_code == 409, refused.json()
        body = refused.json()
        assert body["state"] == "issued"
        assert body["allowed"] == ["record_payment", "credit_note"]
        assert "issued" in body["errors"]["status"][0]
    assert state(invoice) == before
    assert Invoice.objects.get(pk=invoice.pk).title != "Changed"


def test_issuing_needs_the_issue_role_and_a_refusal_changes_nothing(in_shop):
    draft = invoice_create_for_order(order=an_order(), by=None)
    seller = as_role(in_shop, "sales")
    accountant = as_role(in_shop, "accountant")

    refused = post(seller, f"{INVOICES}{draft.pk}/issue/")
    read = seller.get(f"{INVOICES}{draft.pk}/")
    edit = patch(seller, f"{INVOICES}{draft.pk}/", {"title": "x"})

    assert refused.status_code == 403
    assert refused.json() == {"errors": {"status": ["Your role does not allow “Issue”."]},
                              "state": "draft", "allowed": []}
    assert read.status_code == 200 and read.json()["allowed_actions"] == []
    assert edit.status_code == 403
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT
    assert post(accountant, f"{INVOICES}{draft.pk}/issue/").status_code == 200
    assert as_role(in_shop, "warehouse").get(INVOICES).status_code == 403


# --- credit notes ---------------------------------------------------------------------------------

def test_a_full_credit_note_cancels_an_unpaid_invoice(api):
    invoice = an_invoice()

    made = post(api, f"{INVOICES}{invoice.pk}/credit-note/", {"reason": "Order returned."})

    assert made.status_code == 201, made.json()
    note = made.json()
    assert (note["kind"], note["status"], note["number"]) == (
        "credit_note", "issued", f"A-{YEAR}-00001")
    assert note["credited_invoice"]["id"] == invoice.pk and note["reason"] == "Order returned."
    assert note["gross_total"] == "240.00" and note["allowed_actions"] == []
    credited = api.get(f"{INVOICES}{invoice.pk}/").json()
    assert credited["status"] == "cancelled" and credited["amount_credited"] == "240.00"
    assert [ref["number"] for ref in credited["credit_notes"]] == [note["number"]]
    notes = api.get(INVOICES, {"kind": "credit_note"}).json()
    assert [row["id"] for row in notes["results"]] == [note["id"]]


def test_a_partial_credit_note_then_never_more_than_what_is_left(api):
    invoice = an_invoice()
    url = f"{INVOICES}{invoice.pk}/credit-note/"
    one_bike = [{"name": "Goods BIKE", "quantity": "1", "unit_net": "100.00",
                 "tax_rate": "20.00"}]

    partial = post(api, url, {"reason": "One bike returned.", "lines": one_bike})
    too_much = post(api, url, {"reason": "Again", "lines": one_bike * 2})
    no_reason = post(api, url, {"lines": one_bike})

    assert partial.status_code == 201 and partial.json()["gross_total"] == "120.00"
    fresh = api.get(f"{INVOICES}{invoice.pk}/").json()
    assert (fresh["status"], fresh["balance"]) == ("issued", "120.00")
    assert too_much.status_code == 400 and "cannot exceed" in str(too_much.json())
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_a_draft_cannot_be_credited_409_and_a_sales_role_403(in_shop, api):
    draft = invoice_create_for_order(order=an_order(), by=None)
    issued = an_invoice("HELMET")

    on_draft = post(api, f"{INVOICES}{draft.pk}/credit-note/", {"reason": "x"})
    by_sales = post(as_role(in_shop, "sales"), f"{INVOICES}{issued.pk}/credit-note/",
                    {"reason": "x"})

    assert on_draft.status_code == 409
    assert on_draft.json()["allowed"] == ["issue", "update", "delete"]
    assert by_sales.status_code == 403 and by_sales.json()["state"] == "issued"
    assert not Invoice.objects.filter(kind="credit_note").exists()


# --- documents -------------------------------------------------------------------------------------

def test_an_issued_invoice_is_downloaded_as_pdf_and_as_factur_x_xml(api):
    invoice = an_invoice()
    draft = invoice_create_for_order(order=an_order("HELMET"), by=None)

    pdf = api.get(f"{INVOICES}{invoice.pk}/pdf/")
    same = api.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    xml = api.get(f"{INVOICES}{invoice.pk}/facturx/")
    preview = api.get(f"{INVOICES}{draft.pk}/pdf/")
    no_xml = api.get(f"{INVOICES}{draft.pk}/facturx/")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and same.content == pdf.content
    assert f"{invoice.number}.pdf" in pdf["Content-Disposition"]
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    assert b"CrossIndustryInvoice" in xml.content and invoice.number.encode() in xml.content
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert f"draft-invoice-{draft.pk}.pdf" in preview["Content-Disposition"]
    assert no_xml.status_code == 409 and no_xml.json()["state"] == "draft"


# --- lists -----------------------------------------------------------------------------------------

def test_invoice_list_filters(api):
    ada = factories.customer("grace@example.test", first_name="Grace", last_name="Hopper")
    paid = an_invoice("BIKE", customer=ada)
    payment_record(invoice=paid, method="cash", amount="240", by=None)
    open_ = an_invoice("HELMET")
    draft = invoice_create_for_order(order=an_order("LAMP"), by=None)

    def ids(**query) -> list[int]:
        response = api.get(INVOICES, query)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert ids() == sorted([paid.pk, open_.pk, draft.pk])
    assert ids(status="paid") == [paid.pk]
    assert ids(status="unpaid") == [open_.pk]
    assert ids(status="draft") == [draft.pk]
    assert ids(customer=ada.pk) == [paid.pk]
    assert ids(q="hopper") == [paid.pk]
    assert ids(q=open_.number) == [open_.pk]
    assert ids(kind="invoice") == sorted([paid.pk, open_.pk, draft.pk])
    month = timezone.localdate().strftime("%Y-%m")
    assert ids(period=month) == sorted([paid.pk, open_.pk]), "drafts have no issue date"
    assert ids(period=str(YEAR - 1)) == []
    assert api.get(INVOICES, {"period": "2026-13"}).status_code == 400
    assert api.get(INVOICES, {"status": "lost"}).status_code == 400
    newest = api.get(INVOICES, {"ordering": "-number"}).json()["results"]
    assert [row["number"] for row in newest if row["number"]] == [open_.number, paid.number]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _fill(start: int, count: int) -> None:
    for n in range(start, start + count):
        buyer = factories.customer(f"buyer{n}@example.test", last_name=f"Buyer {n}")
        invoice = an_invoice(f"P{n}", customer=buyer, quantity=1)
        payment_record(invoice=invoice, method="bank_transfer", amount="10", by=None)


@pytest.mark.parametrize("url", [INVOICES, PAYMENTS])
def test_lists_cost_the_same_queries_for_3_or_30_rows(api, url):
    _fill(0, 3)
    api.get(url)  # the token's first use is recorded once
    few = _queries(api, url)
    _fill(3, 27)

    many = _queries(api, url)

    assert few == many <= 8, (few, many)
    assert api.get(url).json()["count"] == 30


# --- payments --------------------------------------------------------------------------------------

def test_manual_payments_partial_then_over_payment_refused(api):
    invoice = an_invoice()

    first = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "bank_transfer",
                                             "amount": "100.00", "reference": "VIR 42"})
    too_much = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "cheque",
                                                "amount": "140.01"})
    rest = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "cheque",
                                            "amount": "140.00"})
    after = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "cash",
                                             "amount": "1.00"})

    assert first.status_code == 201, first.json()
    payment = first.json()
    assert (payment["status"], payment["amount"], payment["reference"]) == (
        "succeeded", "100.00", "VIR 42")
    assert payment["invoice"]["status"] == "partially_paid"
    assert payment["allowed_actions"] == ["refund"]
    assert too_much.status_code == 400 and list(too_much.json()["errors"]) == ["amount"]
    assert rest.status_code == 201 and rest.json()["invoice"]["status"] == "paid"
    assert after.status_code == 409
    # Paid: money goes back through a refund of a payment, not a credit note of the invoice.
    assert after.json()["state"] == "paid" and after.json()["allowed"] == []
    assert Payment.objects.count() == 2


def test_recording_refuses_card_payments_and_unknown_invoices(api):
    invoice = an_invoice()

    card = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "card",
                                            "amount": "10"})
    unknown = post(api, f"{PAYMENTS}record/", {"invoice": 999999, "method": "cash",
                                               "amount": "10"})
    future = post(api, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "cash",
                                              "amount": "10", "received_on": "2999-01-01"})

    assert list(card.json()["errors"]) == ["method"]
    assert list(unknown.json()["errors"]) == ["invoice"]
    assert list(future.json()["errors"]) == ["received_on"]
    assert not Payment.objects.exists()


def test_a_payment_is_refunded_with_its_credit_note(api):
    invoice = an_invoice()
    payment = payment_record(invoice=invoice, method="bank_transfer", amount="240", by=None)
    url = f"{PAYMENTS}{payment.pk}/refund/"

    refunded = post(api, url, {"amount": "40.00", "reason": "A scratch on the frame."})
    too_much = post(api, url, {"amount": "200.01", "reason": "x"})
    rest = post(api, url, {"amount": "200.00", "reason": "Returned."})
    nothing_left = post(api, url, {"amount": "1.00", "reason": "x"})

    assert refunded.status_code == 201, refunded.json()
    body = refunded.json()
    assert (body["amount_refunded"], body["refundable"]) == ("40.00", "200.00")
    [refund] = body["refunds"]
    assert refund["amount"] == "40.00" and refund["status"] == "succeeded"
    note = Invoice.objects.get(pk=refund["credit_note"])
    assert note.is_credit_note and note.gross_total == Decimal("40.00") and note.number
    assert too_much.status_code == 400 and list(too_much.json()["errors"]) == ["amount"]
    assert rest.status_code == 201 and rest.json()["allowed_actions"] == []
    assert nothing_left.status_code == 409 and nothing_left.json()["allowed"] == []
    assert Refund.objects.count() == 2


def test_payment_actions_need_their_roles(in_shop):
    invoice = an_invoice()
    payment = payment_record(invoice=invoice, method="cash", amount="40", by=None)
    seller = as_role(in_shop, "sales")

    record = post(seller, f"{PAYMENTS}record/", {"invoice": invoice.pk, "method": "cash",
                                                 "amount": "10"})
    refund = post(seller, f"{PAYMENTS}{payment.pk}/refund/", {"amount": "10", "reason": "x"})

    assert record.status_code == 403 and record.json()["state"] == "partially_paid"
    assert refund.status_code == 403 and refund.json()["allowed"] == []
    assert seller.get(f"{PAYMENTS}{payment.pk}/").json()["allowed_actions"] == []
    assert Payment.objects.count() == 1 and not Refund.objects.exists()
    assert as_role(in_shop, "warehouse").get(PAYMENTS).status_code == 403


def test_payment_list_filters_and_detail(api):
    ada = factories.customer("ada@example.test")
    first, second = an_invoice("BIKE", customer=ada), an_invoice("HELMET")
    cash = payment_record(invoice=first, method="cash", amount="40", by=None)
    cheque = payment_record(invoice=second, method="cheque", amount="50", by=None)

    def ids(**query) -> list[int]:
        return sorted(row["id"] for row in api.get(PAYMENTS, query).json()["results"])

    assert ids() == sorted([cash.pk, cheque.pk])
    assert ids(method="cash") == [cash.pk]
    assert ids(invoice=second.pk) == [cheque.pk]
    assert ids(customer=ada.pk) == [cash.pk]
    assert ids(order=first.order_id) == [cash.pk]
    assert ids(status="failed") == []
    detail = api.get(f"{PAYMENTS}{cash.pk}/").json()
    assert detail["invoice"] == {"id": first.pk, "number": first.number,
                                 "status": "partially_paid"}
    assert detail["order"]["number"] == first.order.number and detail["refunds"] == []
    assert post(api, PAYMENTS, {"invoice": first.pk}).status_code == 405


# --- isolation and access ---------------------------------------------------------------------------

def test_one_shops_billing_is_invisible_on_another_shop(in_shop, other_shop):
    invoice = an_invoice()
    payment = payment_record(invoice=invoice, method="cash", amount="10", by=None)
    beta = api_client(other_shop)

    for url in (f"{INVOICES}{invoice.pk}/", f"{INVOICES}{invoice.pk}/pdf/",
                f"{INVOICES}{invoice.pk}/facturx/", f"{PAYMENTS}{payment.pk}/"):
        assert beta.get(url).status_code == 404, url
    assert post(beta, f"{INVOICES}{invoice.pk}/credit-note/", {"reason": "x"}).status_code == 404
    assert post(beta, f"{PAYMENTS}{payment.pk}/refund/", {"amount": "1",
                                                          "reason": "x"}).status_code == 404
    for url in (INVOICES, PAYMENTS):
        assert beta.get(url).json()["count"] == 0
    connection.set_tenant(in_shop)
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == 0


def test_customers_and_anonymous_visitors_cannot_use_the_billing_api(in_shop):
    paul = factories.registered()
    invoice = an_invoice(customer=paul)
    customer = login(Client(HTTP_HOST=host_of(in_shop)), in_shop, paul.user)
    anonymous = Client(HTTP_HOST=host_of(in_shop))

    for url in (INVOICES, f"{INVOICES}{invoice.pk}/", PAYMENTS):
        assert customer.get(url).status_code == 403, url
        assert anonymous.get(url).status_code == 401, url
    nobody = User.objects.create_user("nobody@staff.test", PASSWORD, is_staff=True)
    assert api_client(in_shop, nobody).get(INVOICES).status_code == 403


# --- schema ---------------------------------------------------------------------------------------

def test_schema_documents_the_billing_endpoints(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/invoices/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/invoices/{id}/"])
    for action in ("issue", "credit-note"):
        operation = paths[f"/api/v1/invoices/{{id}}/{action}/"]["post"]
        assert {"403", "409"} <= set(operation["responses"]), action
        refused = operation["responses"]["409"]["content"]["application/json"]
        assert refused["schema"]["$ref"].endswith("/TransitionRefused") and refused["examples"]
    pdf = paths["/api/v1/invoices/{id}/pdf/"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf
    assert "application/xml" in paths["/api/v1/invoices/{id}/facturx/"]["get"]["responses"][
        "200"]["content"]
    assert "post" in paths["/api/v1/payments/record/"]
    assert "post" in paths["/api/v1/payments/{id}/refund/"]
    assert "post" not in paths["/api/v1/payments/"]
    enums = schema["components"]["schemas"]
    assert {"InvoiceStatusEnum", "InvoiceKindEnum", "PaymentStatusEnum"} <= set(enums)
