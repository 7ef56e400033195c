"""The customer's invoices in their storefront account: their issued invoices and credit notes
(never drafts, never anyone else's, whatever id is guessed), one document with its lines, VAT
per rate and payments, its PDF, and "Pay now" when the shop accepts cards."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing.documents import InvalidEInvoice
from billing.models import Invoice
from billing.services.invoices import credit_note_create, invoice_create_for_order, invoice_issue
from billing.services.payments import payment_record
from sales.services.orders import LineInput
from tenants.models import Shop
from tests.conftest import host_of, login
from tests.sales.factories import goods, place_order, registered, staff

pytestmark = pytest.mark.django_db
LIST = "/account/invoices/"



@pytest.fixture
def paul(in_shop):
    return registered()


@pytest.fixture
def client(shop, paul) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, paul.user)


def an_invoice(customer, *, price: str = "100.00", issue: bool = True) -> Invoice:
    """An invoice for one product bought by `customer` (120.00 incl. VAT by default)."""
    product = goods(f"B{Invoice.objects.count()}-{customer.pk}", price=price, stock="50")
    order = place_order((product, 1), customer=customer, email=customer.email)
    invoice = invoice_create_for_order(order=order, by=None)
    return invoice_issue(invoice=invoice, by=None) if issue else invoice


def html(response) -> str:
    return response.content.decode()


def test_the_account_navigation_leads_to_the_invoices(client):
    page = html(client.get("/account/"))

    assert f'href="{LIST}"' in page and ">Invoices<" in page


def test_the_list_shows_the_customers_issued_invoices_and_credit_notes_only(client, paul):
    invoice = an_invoice(paul)
    payment_record(invoice=invoice, method="bank_transfer", amount="20", by=None)
    note = invoice_issue(invoice=credit_note_create(invoice=invoice, by=None, reason="Scratch",
                                                    lines=[LineInput(
                                                        name="Gesture", quantity=Decimal(1),
                                                        unit_net=Decimal("10"),
                                                        tax_rate=Decimal("20"))]), by=None)
    draft = an_invoice(paul, issue=False)
    someone_elses = an_invoice(registered("eve@example.test"))

    page = client.get(LIST)

    body = html(page)
    assert page.status_code == 200
    assert invoice.number in body and note.number in body
    assert f'href="{LIST}{invoice.pk}/"' in body and f'href="{LIST}{note.pk}/"' in body
    assert someone_elses.number not in body
    assert f'href="{LIST}{draft.pk}/"' not in body, "a draft is not the customer's yet"
    assert "Credit note" in body and "Partially paid" in body
    assert "88.00" in body, "what is left: 120.00 - 20.00 paid - 12.00 credited"


def test_the_list_says_what_it_is_for_when_empty(client):
    page = html(client.get(LIST))

    assert "Your invoices and credit notes will appear here" in page


def test_the_list_runs_the_same_queries_for_2_or_12_invoices(client, paul):
    for _n in range(2):
        an_invoice(paul)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for _n in range(10):
        an_invoice(paul)

    with CaptureQueriesContext(connection) as many:
        page = client.get(LIST)

    assert html(page).count(f'href="{LIST}') >= 12
    assert len(few) == len(many), (len(few), len(many))


def test_the_detail_shows_lines_vat_per_rate_payments_and_what_is_left(client, paul):
    invoice = an_invoice(paul)
    payment_record(invoice=invoice, method="cheque", amount="50", by=None, reference="CHQ 42")

    page = client.get(f"{LIST}{invoice.pk}/")

    body = html(page)
    assert page.status_code == 200
    assert invoice.number in body and "Partially paid" in body
    line = invoice.lines.first()
    assert line.name in body
    assert "VAT 20 % on 100.00" in body
    assert "Cheque" in body and "50.00" in body
    assert "70.00" in body, "left to pay"
    assert f'href="{LIST}{invoice.pk}/pdf/"' in body
    assert f'href="/account/orders/{invoice.order.number}/"' in body
    assert "Pay by bank transfer" in body and "FR7630006000011234567890189" in body
    assert "/pay/invoice/" not in body, "no card button while the shop does not accept cards"


def test_pay_now_is_offered_for_what_is_left_when_the_shop_accepts_cards(client, paul, settings,
                                                                          in_shop):
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    Shop.objects.filter(pk=in_shop.pk).update(stripe_account_id="acct_1AlphaTestShop",
                                              stripe_charges_enabled=True)
    unpaid, paid = an_invoice(paul), an_invoice(paul)
    payment_record(invoice=paid, method="cash", amount="120", by=None)

    unpaid_page = html(client.get(f"{LIST}{unpaid.pk}/"))
    paid_page = html(client.get(f"{LIST}{paid.pk}/"))

    assert f'href="/pay/invoice/{unpaid.pk}/"' in unpaid_page and "Pay now" in unpaid_page
    assert "/pay/invoice/" not in paid_page and "Pay by bank transfer" not in paid_page


def test_a_credit_note_names_the_invoice_it_corrects_and_back(client, paul):
    invoice = an_invoice(paul)
    note = invoice_issue(invoice=credit_note_create(invoice=invoice, by=None,
                                                    reason="Order returned"), by=None)

    note_page = html(client.get(f"{LIST}{note.pk}/"))
    invoice_page = html(client.get(f"{LIST}{invoice.pk}/"))

    assert "Credit note " + note.number in note_page and "Order returned" in note_page
    assert f'href="{LIST}{invoice.pk}/"' in note_page
    assert f'href="{LIST}{note.pk}/"' in invoice_page and "Cancelled" in invoice_page


def test_the_pdf_is_the_issued_document(client, paul):
    invoice = an_invoice(paul)

    response = client.get(f"{LIST}{invoice.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]


def test_a_pdf_that_cannot_be_made_is_a_clear_503(client, paul, monkeypatch):
    invoice = an_invoice(paul)

    def broken(_invoice):
        raise InvalidEInvoice("sums differ")

    monkeypatch.setattr("billing.views.account.invoice_pdf_file", broken)
    response = client.get(f"{LIST}{invoice.pk}/pdf/")

    assert response.status_code == 503 and response["Retry-After"]
    assert "The PDF is not available yet" in html(response)
    assert f'href="{LIST}{invoice.pk}/"' in html(response)


def test_another_customers_invoice_or_a_draft_is_not_found_whatever_id_is_guessed(client, paul):
    mine = an_invoice(paul)
    draft = an_invoice(paul, issue=False)
    eve = registered("eve@example.test")
    theirs = an_invoice(eve)
    ids = Invoice.objects.values_list("pk", flat=True)

    for pk in (theirs.pk, draft.pk, max(ids) + 1, 0):
        for url in (f"{LIST}{pk}/", f"{LIST}{pk}/pdf/"):
            assert client.get(url).status_code == 404, url
    assert client.get(f"{LIST}{mine.pk}/").status_code == 200
    assert theirs.number not in html(client.get(LIST))


def test_the_invoices_are_for_signed_in_customers(shop, in_shop):
    anonymous = Client(HTTP_HOST=host_of(shop))
    member = login(Client(HTTP_HOST=host_of(shop)), shop, staff("accountant"))

    response = anonymous.get(LIST)

    assert response.status_code == 302 and "/account/login/" in response["Location"]
    assert member.get(LIST).status_code == 403
