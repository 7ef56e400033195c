"""Staff run billing from the dashboard: a list of invoices and credit notes that filters,
sorts, pages and totals at a constant query cost; a document page showing exactly the buttons
the role may use (issue, record a payment, credit, refund, card payment link); drafts edited in
place with live totals; billing settings and the shop's Stripe account; the home cards."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from billing.models import (
    BillingSettings,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    Refund,
)
from billing.services.invoices import (
    billing_settings_update,
    credit_note_create,
    invoice_create,
    invoice_create_for_order,
    invoice_issue,
)
from billing.services.payments import card_checkout_start, card_payment_succeeded, payment_record
from billing.services.periodic import invoices_mark_overdue
from billing.views.dashboard import billing_widget
from billing.views.dashboard.home import sparkline
from sales.services.orders import LineInput
from tenants.models import Shop
from tests.conftest import host_of, login
from tests.sales.factories import customer, goods, place_order, staff

pytestmark = pytest.mark.usefixtures("in_shop")

INVOICES = "/dashboard/billing/invoices/"
SETTINGS = "/dashboard/billing/settings/"
YEAR = timezone.localdate().year
HX = {"HTTP_HX_REQUEST": "true"}


def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def an_invoice(*, price="100.00", quantity=2, issue=True) -> Invoice:
    """An invoice for an order of `quantity` bikes (240.00 incl. VAT by default)."""
    order = place_order((goods(f"B{Invoice.objects.count()}", price=price, stock="50"), quantity))
    invoice = invoice_create_for_order(order=order, by=None)
    return invoice_issue(invoice=invoice, by=staff("accountant")) if issue else invoice


def a_draft(**extra) -> Invoice:
    return invoice_create(customer=customer(**extra), by=None, title="Consulting", lines=[
        LineInput(name="Workshop day", quantity=Decimal("1.5"), unit_net=Decimal("600"),
                  tax_rate=Decimal("20"))])


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def actions_on(html: str, invoice: Invoice) -> set[str]:
    """The forms and links a page offers for this invoice."""
    found = set(re.findall(rf'/dashboard/billing/invoices/{invoice.pk}/([\w-]+)/', html))
    found.discard("lines")
    return found


def rate(value: str):
    from catalog.models import TaxRate

    return TaxRate.objects.get(rate=Decimal(value))


# ---------------------------------------------------------------------------------------------
# Who may open what, and which buttons they get
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["owner", "manager", "accountant", "sales"])
def test_roles_with_invoices_open_the_list_and_the_page(shop, role):
    invoice = an_invoice()
    client = client_for(shop, role)
    assert client.get(INVOICES).status_code == 200
    assert client.get(f"{INVOICES}{invoice.pk}/").status_code == 200
    assert 'href="/dashboard/billing/invoices/"' in client.get(INVOICES).content.decode()


def test_warehouse_may_not_open_invoices_nor_see_the_menu_entry(shop):
    invoice = an_invoice()
    client = client_for(shop, "warehouse")
    assert client.get(INVOICES).status_code == 403
    assert client.get(f"{INVOICES}{invoice.pk}/").status_code == 403
    assert client.post(f"{INVOICES}{invoice.pk}/payments/", {}).status_code == 403
    html = client.get("/dashboard/sales/orders/").content.decode()
    assert 'href="/dashboard/billing/invoices/"' not in html


def test_the_accountant_gets_the_buttons_and_sales_only_reads(shop):
    draft, issued = an_invoice(issue=False), an_invoice()
    accountant, sales = client_for(shop, "accountant"), client_for(shop, "sales")
    assert actions_on(accountant.get(f"{INVOICES}{draft.pk}/").content.decode(),
                      draft) == {"issue", "delete", "edit"}
    assert actions_on(accountant.get(f"{INVOICES}{issued.pk}/").content.decode(),
                      issued) == {"payments", "credit-note"}
    for invoice in (draft, issued):
        page = sales.get(f"{INVOICES}{invoice.pk}/")
        assert actions_on(page.content.decode(), invoice) == set()
        assert not page.context["any_button"]
    assert "Your role does not allow editing invoices." in sales.get(
        f"{INVOICES}{draft.pk}/").content.decode()


def test_sales_cannot_issue_by_posting_and_nothing_changes(shop):
    draft = an_invoice(issue=False)
    response = client_for(shop, "sales").post(f"{INVOICES}{draft.pk}/issue/")
    assert response.status_code == 403
    assert fresh(draft).status == InvoiceStatus.DRAFT and fresh(draft).number is None


# ---------------------------------------------------------------------------------------------
# Issue, pay, credit, refund
# ---------------------------------------------------------------------------------------------
def test_issuing_through_the_page_numbers_and_freezes_the_draft(shop):
    draft = an_invoice(issue=False)
    client = client_for(shop, "accountant")
    response = client.post(f"{INVOICES}{draft.pk}/issue/", **HX)
    assert response.status_code == 200 and response["HX-Redirect"] == f"{INVOICES}{draft.pk}/"
    invoice = fresh(draft)
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number.startswith(f"F-{YEAR}-")
    page = client.get(f"{INVOICES}{draft.pk}/").content.decode()
    assert "Issued invoices are never edited: make a credit note" in page
    assert f"Invoice {invoice.number}" in page
    assert client.post(f"{INVOICES}{draft.pk}/lines/add/", {
        "line-name": "More", "line-quantity": "1", "line-unit_net": "10",
        "line-tax_rate": rate("20.00").pk}).status_code == 422
    assert fresh(draft).gross_total == invoice.gross_total


def test_issuing_with_an_incomplete_legal_identity_says_what_is_missing(shop, in_shop):
    draft = an_invoice(issue=False)
    Shop.objects.filter(pk=shop.pk).update(siren="")
    response = client_for(shop, "accountant").post(f"{INVOICES}{draft.pk}/issue/", **HX)
    assert response.status_code == 422
    assert "SIREN" in response.content.decode()
    assert fresh(draft).status == InvoiceStatus.DRAFT


def test_recording_a_partial_payment_then_an_overpayment_is_refused_next_to_the_amount(shop):
    invoice = an_invoice()  # 240.00
    client = client_for(shop, "accountant")
    page = client.get(f"{INVOICES}{invoice.pk}/")
    assert page.context["payment_form"]["amount"].value() == Decimal("240.00"), "the balance"
    response = client.post(f"{INVOICES}{invoice.pk}/payments/", {
        "payment-method": "bank_transfer", "payment-amount": "100",
        "payment-received_on": timezone.localdate().isoformat(),
        "payment-reference": "VIR 42"})
    assert response.status_code == 302
    invoice = fresh(invoice)
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PARTIALLY_PAID, Decimal("140.00"))
    response = client.post(f"{INVOICES}{invoice.pk}/payments/", {
        "payment-method": "cheque", "payment-amount": "140.01",
        "payment-received_on": timezone.localdate().isoformat()}, **HX)
    assert response.status_code == 422
    form = response.context["payment_form"]
    assert "more than what is still owed" in form.errors["amount"][0]
    html = response.content.decode()
    assert "more than what is still owed" in html and 'value="140.01"' in html, "input kept"
    assert Payment.objects.filter(invoice=invoice).count() == 1, "nothing recorded"
    assert fresh(invoice).amount_paid == Decimal("100.00")
    payments = client.get(f"{INVOICES}{invoice.pk}/").content.decode()
    assert "VIR 42" in payments and "Bank transfer" in payments


def test_a_full_credit_note_from_the_page_then_issued_cancels_the_invoice(shop):
    invoice = an_invoice()
    client = client_for(shop, "accountant")
    url = f"{INVOICES}{invoice.pk}/credit-note/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"scope": "full", "reason": ""})
    assert refused.status_code == 422
    assert "Say why the invoice is corrected" in refused.content.decode()
    assert not Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()
    response = client.post(url, {"scope": "full", "reason": "Wrong customer"})
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE, credited_invoice=invoice)
    assert response.status_code == 302 and response["Location"] == f"{INVOICES}{note.pk}/"
    assert note.status == InvoiceStatus.DRAFT and note.gross_total == invoice.gross_total
    client.post(f"{INVOICES}{note.pk}/issue/")
    assert fresh(note).number == f"A-{YEAR}-00001"
    assert fresh(invoice).status == InvoiceStatus.CANCELLED
    page = client.get(f"{INVOICES}{invoice.pk}/").content.decode()
    assert f"A-{YEAR}-00001" in page and "credit-note/" not in page, "nothing left to credit"


def test_a_partial_credit_note_credits_the_chosen_quantities(shop):
    order = place_order((goods("BIKE", price="100.00", stock="9"), 3),
                        (goods("BELL", price="10.00", stock="9"), 2))
    invoice = invoice_issue(invoice=invoice_create_for_order(order=order, by=None),
                            by=staff("accountant"))
    bike = invoice.lines.get(name__contains="BIKE")
    client = client_for(shop, "accountant")
    url = f"{INVOICES}{invoice.pk}/credit-note/"
    nothing = client.post(url, {"scope": "lines", "reason": "Returned"})
    assert nothing.status_code == 422
    too_many = client.post(url, {"scope": "lines", "reason": "Returned", f"line_{bike.pk}": "4"})
    assert too_many.status_code == 422
    client.post(url, {"scope": "lines", "reason": "One bike returned", f"line_{bike.pk}": "1"})
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    assert note.gross_total == Decimal("120.00") and note.reason == "One bike returned"
    client.post(f"{INVOICES}{note.pk}/issue/")
    invoice = fresh(invoice)
    assert invoice.amount_credited == Decimal("120.00")
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.balance == invoice.gross_total - Decimal("120.00")


def test_refunding_a_manual_payment_makes_a_credit_note(shop):
    invoice = an_invoice()
    payment = payment_record(invoice=invoice, method="cheque", amount="240",
                             by=staff("accountant"))
    client = client_for(shop, "accountant")
    page = client.get(f"{INVOICES}{invoice.pk}/").content.decode()
    refund_url = f"{INVOICES}{invoice.pk}/payments/{payment.pk}/refund/"
    assert refund_url in page
    no_reason = client.post(refund_url, {f"refund-{payment.pk}-amount": "40"}, **HX)
    assert no_reason.status_code == 422 and "Say why the money is refunded" in \
        no_reason.content.decode()
    response = client.post(refund_url, {f"refund-{payment.pk}-amount": "40",
                                        f"refund-{payment.pk}-reason": "Scratched frame"})
    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == Decimal("40.00") and refund.credit_note.status == InvoiceStatus.ISSUED
    assert refund.credit_note.gross_total == Decimal("40.00")
    assert fresh(invoice).amount_paid == Decimal("200.00")
    page = client.get(f"{INVOICES}{invoice.pk}/").content.decode()
    assert "Scratched frame" in page and refund.credit_note.number in page


def test_sales_may_not_refund(shop):
    invoice = an_invoice()
    payment = payment_record(invoice=invoice, method="cash", amount="10", by=None)
    response = client_for(shop, "sales").post(
        f"{INVOICES}{invoice.pk}/payments/{payment.pk}/refund/",
        {f"refund-{payment.pk}-amount": "10", f"refund-{payment.pk}-reason": "x"})
    assert response.status_code == 403 and not Refund.objects.exists()


def test_deleting_a_draft_needs_a_confirmation(shop):
    draft = a_draft()
    client = client_for(shop, "accountant")
    assert client.post(f"{INVOICES}{draft.pk}/delete/", {}).status_code == 422
    assert Invoice.objects.filter(pk=draft.pk).exists()
    response = client.post(f"{INVOICES}{draft.pk}/delete/", {"delete-confirm": "on"})
    assert response.status_code == 302 and not Invoice.objects.filter(pk=draft.pk).exists()


# ---------------------------------------------------------------------------------------------
# Drafts: from an order, for a customer, edited in place
# ---------------------------------------------------------------------------------------------
def test_the_order_page_invoices_a_deposit_then_refuses_more_than_the_order(shop):
    order = place_order((goods("BIKE", price="100.00", stock="9"), 2))
    client = client_for(shop, "accountant")
    page = client.get(f"/dashboard/sales/orders/{order.pk}/").content.decode()
    url = f"{INVOICES}from-order/{order.pk}/"
    assert f'action="{url}"' in page and "Invoice this order" in page
    response = client.post(url, {"percent": "30"})
    deposit = Invoice.objects.get(order=order)
    assert response["Location"] == f"{INVOICES}{deposit.pk}/"
    assert deposit.net_total == Decimal("60.00") and deposit.order_percent == Decimal("30")
    refused = client.post(url, {"percent": "80"}, follow=True)
    assert "at most 70 % is left" in refused.content.decode()
    assert Invoice.objects.filter(order=order).count() == 1
    sales_page = client_for(shop, "sales").get(f"/dashboard/sales/orders/{order.pk}/")
    assert url not in sales_page.content.decode(), "sales may not invoice"


def test_a_standalone_invoice_picks_its_customer_and_first_line(shop):
    who = customer(email="lovelace@example.test", last_name="Lovelace")
    client = client_for(shop, "accountant")
    found = client.get(f"{INVOICES}new/", {"q": "lovelace"}, HTTP_HX_REQUEST="true",
                       HTTP_HX_TARGET="customer-results")
    assert f"?customer={who.pk}" in found.content.decode()
    refused = client.post(f"{INVOICES}new/", {"customer": who.pk, "name": "",
                                              "quantity": "1", "unit_net": "10",
                                              "tax_rate": rate("20.00").pk})
    assert refused.status_code == 422 and not Invoice.objects.exists()
    response = client.post(f"{INVOICES}new/", {
        "customer": who.pk, "title": "Audit", "name": "Security audit", "quantity": "2",
        "unit_net": "450", "tax_rate": rate("20.00").pk, "notes": "Thanks"})
    invoice = Invoice.objects.get(customer=who)
    assert response["Location"] == f"{INVOICES}{invoice.pk}/"
    assert (invoice.status, invoice.gross_total, invoice.title) == (
        InvoiceStatus.DRAFT, Decimal("1080.00"), "Audit")


def test_a_draft_is_edited_in_place_with_live_totals(shop):
    draft = a_draft()  # 900.00 excl. VAT, 1080.00 incl.
    client = client_for(shop, "accountant")
    base = f"{INVOICES}{draft.pk}/"
    preview = client.get(f"{base}lines/preview/", {
        "line-name": "Travel", "line-quantity": "2", "line-unit_net": "50",
        "line-tax_rate": rate("20.00").pk}, **HX).content.decode()
    assert "100.00" in preview and "1,200.00" in preview, "line and new total, not saved"
    assert fresh(draft).lines.count() == 1
    added = client.post(f"{base}lines/add/", {
        "line-name": "Travel", "line-quantity": "2", "line-unit_net": "50",
        "line-tax_rate": rate("20.00").pk}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="invoice-lines")
    html = added.content.decode()
    assert added.status_code == 200 and 'id="invoice-lines"' in html
    assert "1,200.00" in html and 'id="invoice-amounts" hx-swap-oob="true"' in html
    assert fresh(draft).gross_total == Decimal("1200.00")
    bad = client.post(f"{base}lines/add/", {"line-name": "", "line-quantity": "0",
                                            "line-unit_net": "x",
                                            "line-tax_rate": rate("20.00").pk}, **HX)
    assert bad.status_code == 422 and fresh(draft).lines.count() == 2
    travel = fresh(draft).lines.get(name="Travel")
    client.post(f"{base}lines/{travel.pk}/remove/", **HX)
    assert fresh(draft).gross_total == Decimal("1080.00")
    last = fresh(draft).lines.get()
    refused = client.post(f"{base}lines/{last.pk}/remove/", **HX)
    assert refused.status_code == 422 and "at least one line" in refused.content.decode()
    assert fresh(draft).lines.count() == 1
    saved = client.post(f"{base}edit/", {"title": "Workshop", "notes": "Paid by transfer",
                                         "service_date": "2026-01-15"}, **HX)
    assert saved.status_code == 200
    invoice = fresh(draft)
    assert (invoice.title, invoice.notes, invoice.service_date) == (
        "Workshop", "Paid by transfer", date(2026, 1, 15))


# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
def bulk_invoices(n: int, *, start: int = 0, status=InvoiceStatus.ISSUED) -> list[Invoice]:
    """Many issued invoices quickly (ORM, no service): enough to show a page's cost."""
    who = customer(f"bulk{start}@example.test", last_name=f"Bulk{start}")
    today = timezone.localdate()
    return Invoice.objects.bulk_create([
        Invoice(number=f"F-BULK-{start + i:05d}", status=status, customer=who,
                gross_total=Decimal(100 + i), net_total=Decimal(100 + i), issue_date=today,
                due_date=today + timedelta(days=30)) for i in range(n)])


def test_list_query_count_is_the_same_for_10_and_300_invoices(
        shop, django_assert_max_num_queries):
    client = client_for(shop, "accountant")
    bulk_invoices(10)
    client.get(INVOICES)  # warm-up: per-process caches
    with django_assert_max_num_queries(8) as small:  # the inbox badge counts in its own request
        client.get(INVOICES)
    bulk_invoices(290, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(INVOICES, {"page": 3, "sort": "-total"})
    assert len(response.context["rows"]) == 25 and response.context["page"].count == 300
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(INVOICES, {"q": "bulk", "status": "unpaid", "kind": "invoice"},
                   HTTP_HX_REQUEST="true", HTTP_HX_TARGET="invoice-table")


def test_list_filters_and_totals_of_the_filtered_set(shop):
    billing_settings_update(by=None, payment_terms_days=0)
    overdue = an_invoice()
    invoices_mark_overdue(today=overdue.due_date + timedelta(days=1))
    billing_settings_update(by=None, payment_terms_days=30)
    paid, partial = an_invoice(), an_invoice()
    payment_record(invoice=paid, method="cash", amount="240", by=None)
    payment_record(invoice=partial, method="cash", amount="40", by=None)
    draft = an_invoice(issue=False)
    note = invoice_issue(invoice=credit_note_create(invoice=partial, by=None, reason="Gesture",
                                                    lines=[LineInput(
                                                        name="Gesture", quantity=Decimal(1),
                                                        unit_net=Decimal("50"),
                                                        tax_rate=Decimal("20"))]),
                         by=staff("accountant"))
    client = client_for(shop, "accountant")

    def shown(**query) -> set[int]:
        rows = client.get(INVOICES, query).context["rows"]
        return {int(row["url"].rstrip("/").rsplit("/", 1)[1]) for row in rows}

    assert shown() == {paid.pk, partial.pk, overdue.pk, draft.pk, note.pk}
    assert shown(status="unpaid") == {partial.pk, overdue.pk}
    assert shown(status="overdue") == {overdue.pk}
    assert shown(status="paid") == {paid.pk}
    assert shown(status="draft") == {draft.pk}
    assert shown(kind="credit_note") == {note.pk}
    assert shown(q=paid.number) == {paid.pk}
    assert shown(customer=paid.customer_id) == {paid.pk}
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert shown(date_from=tomorrow.isoformat()) == set()
    response = client.get(INVOICES, {"status": "unpaid"})
    # partial: 240 - 40 paid - 60 credited = 140; overdue: 240
    assert response.context["sums"] == {"gross": "480.00\xa0€", "paid": "40.00\xa0€",
                                        "outstanding": "380.00\xa0€"}
    everything = client.get(INVOICES).context["sums"]
    assert everything["gross"] == "720.00\xa0€", "drafts and credit notes are not invoiced"
    html = client.get(INVOICES).content.decode()
    for status in ("badge-overdue", "badge-paid", "badge-partially_paid", "badge-draft"):
        assert status in html


def test_list_sorts_by_due_date_and_keeps_filters_in_links(shop):
    billing_settings_update(by=None, payment_terms_days=60)
    first = an_invoice()
    billing_settings_update(by=None, payment_terms_days=10)
    second = an_invoice()
    client = client_for(shop, "accountant")
    rows = client.get(INVOICES, {"sort": "due", "status": "unpaid"}).context["rows"]
    assert [row["reference"] for row in rows] == [second.number, first.number]
    headers = client.get(INVOICES, {"status": "unpaid"}).context["headers"]
    assert all("status=unpaid" in h["url"] for h in headers if h["url"])


def test_an_empty_list_says_what_it_is_for(shop):
    html = client_for(shop, "accountant").get(INVOICES).content.decode()
    assert "No invoices yet" in html and f'href="{INVOICES}new/"' in html


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
def settings_data(**changes) -> dict:
    data = {"invoice_prefix": "F", "credit_note_prefix": "A", "payment_terms_days": "30",
            "late_penalty_rate": "12", "reminder_days": "7,15,30",
            "unpaid_checkout_hours": "48", "invoice_paid_orders": "on"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_need_the_permission(shop):
    assert client_for(shop, "accountant").get(SETTINGS).status_code == 403
    assert client_for(shop, "manager").get(SETTINGS).status_code == 200


def test_settings_are_validated_and_a_new_prefix_applies_to_the_next_number(shop):
    an_invoice()
    client = client_for(shop, "manager")
    for bad, field in ((settings_data(payment_terms_days="90"), "payment_terms_days"),
                       (settings_data(reminder_days="7, soon"), "reminder_days"),
                       (settings_data(credit_note_prefix="F"), "credit_note_prefix"),
                       (settings_data(invoice_prefix="F-2026"), "invoice_prefix"),
                       (settings_data(late_penalty_rate="-1"), "late_penalty_rate")):
        response = client.post(SETTINGS, bad)
        assert response.status_code == 422, field
        assert field in response.context["form"].errors, field
    assert BillingSettings.objects.get().payment_terms_days == 30
    response = client.post(SETTINGS, settings_data(invoice_prefix="fac", payment_terms_days="45",
                                                   reminder_days="30, 7,7",
                                                   invoice_paid_orders=None), follow=True)
    saved = BillingSettings.objects.get()
    assert (saved.invoice_prefix, saved.payment_terms_days, saved.reminder_days,
            saved.invoice_paid_orders) == ("FAC", 45, "7,30", False)
    assert f"the next invoice will be FAC-{YEAR}-00002" in response.content.decode()
    assert invoice_issue(invoice=an_invoice(issue=False), by=None,
                         check_role=False).number == f"FAC-{YEAR}-00002"


# ---------------------------------------------------------------------------------------------
# Stripe account
# ---------------------------------------------------------------------------------------------
def stripe_of(shop) -> tuple:
    row = Shop.objects.get(pk=shop.pk)
    return row.stripe_account_id, row.stripe_charges_enabled


def test_without_platform_keys_the_page_says_card_payments_stay_off(shop, settings):
    settings.STRIPE_SECRET_KEY = ""
    html = client_for(shop, "manager").get(SETTINGS).content.decode()
    assert "Card payments need the platform's Stripe keys" in html
    assert "Start Stripe onboarding" not in html


def test_connecting_an_account_checks_its_format_and_disconnecting_forgets_it(
        shop, other_shop, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = client_for(shop, "manager")
    bad = client.post(f"{SETTINGS}stripe/connect/", {"account_id": "sk_live_123"}, **HX)
    assert bad.status_code == 422 and "This is not a Stripe account id" in bad.content.decode()
    assert stripe_of(shop) == (None, False)
    Shop.objects.filter(pk=other_shop.pk).update(stripe_account_id="acct_TakenByBeta01")
    taken = client.post(f"{SETTINGS}stripe/connect/", {"account_id": "acct_TakenByBeta01"})
    assert taken.status_code == 422 and "already connected to another shop" in \
        taken.content.decode()
    ok = client.post(f"{SETTINGS}stripe/connect/", {"account_id": " acct_1A2b3C4d5E6f7G8h "},
                     **HX)
    assert ok.status_code == 200 and "acct_1A2b3C4d5E6f7G8h" in ok.content.decode()
    assert stripe_of(shop) == ("acct_1A2b3C4d5E6f7G8h", False)
    client.post(f"{SETTINGS}stripe/disconnect/")
    assert stripe_of(shop) == (None, False)
    assert client_for(shop, "accountant").post(
        f"{SETTINGS}stripe/connect/", {"account_id": "acct_1A2b3C4d5E6f7G8h"}).status_code == 403


def test_connect_reads_the_status_and_refresh_stores_it(shop, stripe_settings):
    client = client_for(shop, "manager")
    response = client.post(f"{SETTINGS}stripe/connect/", {"account_id": "acct_LocalShop0001"},
                           **HX)
    assert response.status_code == 200 and response.context["status"].charges_enabled
    assert stripe_of(shop) == ("acct_LocalShop0001", True)
    Shop.objects.filter(pk=shop.pk).update(stripe_charges_enabled=False)
    refreshed = client.post(f"{SETTINGS}stripe/refresh/", **HX)
    assert refreshed.status_code == 200 and "Details submitted" in refreshed.content.decode()
    assert stripe_of(shop) == ("acct_LocalShop0001", True)
    assert Shop.objects.get(pk=shop.pk).stripe_checked_at is not None
    page = client.get(SETTINGS).content.decode()
    assert "Accepted" in page


def test_onboarding_creates_an_express_account_and_the_return_enables_cards(
        shop, stripe_settings):
    client = client_for(shop, "owner")
    assert "Start Stripe onboarding" in client.get(SETTINGS).content.decode()
    response = client.post(f"{SETTINGS}stripe/onboarding/")
    assert response.status_code == 302
    account, enabled = stripe_of(shop)
    assert account.startswith("acct_") and not enabled, "made, not yet onboarded"
    back = stripe_settings.onboard(response["Location"])
    assert back.endswith("/dashboard/billing/settings/stripe/onboarding/return/")
    client.get("/dashboard/billing/settings/stripe/onboarding/return/")
    assert stripe_of(shop) == (account, True)
    again = client.post(f"{SETTINGS}stripe/onboarding/")
    assert again.status_code == 302 and stripe_of(shop)[0] == account, "one account per shop"


def test_a_card_payment_link_for_the_customer(shop, stripe_settings):
    invoice = an_invoice()
    client = client_for(shop, "accountant")
    assert "pay-link/" not in client.get(f"{INVOICES}{invoice.pk}/").content.decode(), \
        "no link while the shop has no Stripe account"
    Shop.objects.filter(pk=shop.pk).update(stripe_account_id="acct_LocalShop0002",
                                           stripe_charges_enabled=True)
    response = client.post(f"{INVOICES}{invoice.pk}/pay-link/", follow=True)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.amount == Decimal("240.00") and payment.checkout_url
    html = response.content.decode()
    assert payment.checkout_url in html
    assert f"{INVOICES}{invoice.pk}/pay-link/" not in html, "one open link at a time"
    assert stripe_settings.session(payment.checkout_session_id)["amount_total"] == 24000


def test_refunding_a_card_payment_goes_through_stripe_and_makes_a_credit_note(
        shop, stripe_settings):
    Shop.objects.filter(pk=shop.pk).update(stripe_account_id="acct_LocalShop0003",
                                           stripe_charges_enabled=True)
    connection.tenant = Shop.objects.get(pk=shop.pk)  # a copy: the session's shop stays as is
    invoice = an_invoice()
    payment = card_checkout_start(invoice=invoice, base_url="http://alpha.localhost",
                                  success_path="/", cancel_path="/")
    assert stripe_settings.pay(payment.checkout_session_id).paid
    intent = stripe_settings.session(payment.checkout_session_id)["payment_intent"]
    card_payment_succeeded(session_id=payment.checkout_session_id, payment_intent=intent)
    assert fresh(invoice).status == InvoiceStatus.PAID
    client = client_for(shop, "accountant")
    response = client.post(f"{INVOICES}{invoice.pk}/payments/{payment.pk}/refund/", {
        f"refund-{payment.pk}-amount": "60", f"refund-{payment.pk}-reason": "Late delivery"})
    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.stripe_refund_id.startswith("re_") and refund.status == "succeeded"
    assert refund.credit_note.gross_total == Decimal("60.00")
    assert [e["data"]["object"]["amount_refunded"]
            for e in stripe_settings.events("charge.refunded")] == [6000]
    assert fresh(invoice).amount_paid == Decimal("180.00")


# ---------------------------------------------------------------------------------------------
# Dashboard home
# ---------------------------------------------------------------------------------------------
def widget_for(shop, role: str) -> str | None:
    request = RequestFactory().get("/dashboard/", HTTP_HOST=host_of(shop))
    request.user = staff(role)
    return billing_widget(request)


def test_home_cards_count_revenue_outstanding_and_overdue(shop):
    billing_settings_update(by=None, payment_terms_days=0)
    late = an_invoice(price="50.00")
    invoices_mark_overdue(today=late.due_date + timedelta(days=1))
    billing_settings_update(by=None, payment_terms_days=30)
    paid, open_ = an_invoice(), an_invoice()
    payment_record(invoice=paid, method="cash", amount="240", by=None)
    invoice_issue(invoice=credit_note_create(invoice=open_, by=None, reason="Gesture", lines=[
        LineInput(name="Gesture", quantity=Decimal(1), unit_net=Decimal("50"),
                  tax_rate=Decimal("20"))]), by=None, check_role=False)
    an_invoice(issue=False)  # a draft is no revenue
    html = widget_for(shop, "accountant")
    # revenue excl. VAT: 200 + 200 + 100 - 50; outstanding: (240 - 60) + 120; overdue: 120
    assert "450.00" in html and "300.00" in html and "120.00" in html
    assert "excl. VAT" in html and "<svg" in html and "<polyline" in html
    today = timezone.localdate()
    assert f"?date_from={today.replace(day=1).isoformat()}&amp;date_to={today.isoformat()}" in html
    assert f"{INVOICES}?status=unpaid" in html and f"{INVOICES}?status=overdue" in html
    assert widget_for(shop, "warehouse") is None


def test_the_home_page_shows_the_billing_cards_by_role(shop):
    an_invoice()
    assert 'id="billing-revenue"' in client_for(shop, "owner").get("/dashboard/").content.decode()
    assert 'id="billing-revenue"' not in client_for(shop, "warehouse").get(
        "/dashboard/").content.decode()


def test_the_sparkline_puts_the_lowest_month_at_the_bottom():
    line = sparkline([Decimal(0), Decimal(50), Decimal(100), Decimal(-20), Decimal(0),
                      Decimal(10)])
    points = [tuple(map(float, p.split(","))) for p in line["points"].split()]
    assert len(points) == 6 and points[0][0] < points[-1][0]
    assert min(y for _x, y in points) == points[2][1], "the best month is highest"
    assert max(y for _x, y in points) == points[3][1], "a month of credit notes is lowest"
