"""Invoices and credit notes through their services: made from orders (whole, deposits,
balance), issued with gap-free numbers, frozen in the service and in the database, corrected
only by credit notes; payments by hand, partial, never beyond what is owed; refunds with their
credit note."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.errors import BillingError
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Payment
from billing.selectors import invoice_actions
from billing.services.invoices import (
    credit_note_create,
    invoice_create,
    invoice_create_for_order,
    invoice_issue,
    invoice_update,
)
from billing.services.payments import payment_record, payment_refund
from billing.services.periodic import invoices_mark_overdue, invoices_send_reminders
from sales.errors import TransitionForbidden
from sales.services.orders import LineInput
from tests.sales.factories import customer, goods, place_order, staff

pytestmark = pytest.mark.usefixtures("in_shop")
YEAR = timezone.localdate().year


def an_order(*, price="100.00", quantity=2, rate="20.00"):
    return place_order((goods("BIKE", price=price, rate=rate, stock="50"), quantity))


def issued(invoice, by=None):
    return invoice_issue(invoice=invoice, by=by or staff("accountant"))


def test_an_order_is_invoiced_with_its_lines_and_shipping_and_numbered_when_issued():
    order = an_order()
    invoice = invoice_create_for_order(order=order, by=staff("accountant"))
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
    assert invoice.gross_total == order.gross_total, "same lines, same shipping, same totals"
    first, second = issued(invoice), issued(invoice_create_for_order(order=an_order_2(), by=None))
    assert (first.number, second.number) == (f"F-{YEAR}-00001", f"F-{YEAR}-00002")
    assert first.seller["siren"] == "732829320" and first.buyer["name"] == "Ada Lovelace"
    assert first.due_date == timezone.localdate() + timedelta(days=30)
    assert first.status == InvoiceStatus.ISSUED


def an_order_2():
    return place_order((goods("HELMET", price="40.00", stock="5"), 1))


def test_a_deposit_then_the_balance_never_bill_more_than_the_order():
    order = an_order()
    deposit = issued(invoice_create_for_order(order=order, by=None, percent=Decimal("30")))
    # 30 % of the goods (200.00 net at 20 %): 60.00 net, 72.00 incl. VAT; shipping is free
    assert (deposit.net_total, deposit.gross_total) == (Decimal("60.00"), Decimal("72.00"))
    with pytest.raises(BillingError, match="at most 70 % is left"):
        invoice_create_for_order(order=order, by=None, percent=Decimal("80"))
    balance = invoice_create_for_order(order=order, by=None, percent=Decimal("70"))
    assert balance.gross_total == order.gross_total - deposit.gross_total
    assert any("Less deposit" in line.name for line in balance.lines.all())


def test_an_issued_invoice_is_frozen_by_the_services_and_by_the_database():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))
    with pytest.raises(BillingError, match="credit note"):
        invoice_update(invoice=invoice, by=None, title="changed")
    for change in (lambda: Invoice.objects.filter(pk=invoice.pk).update(gross_total=1),
                   lambda: Invoice.objects.filter(pk=invoice.pk).update(number="F-HACK"),
                   lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
                   lambda: InvoiceLine.objects.filter(invoice=invoice).update(unit_net=1),
                   lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
                   lambda: InvoiceLine.objects.create(invoice=invoice, name="x", quantity=1,
                                                      unit_net=1, tax_rate=20)):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.number, fresh.gross_total) == (invoice.number, invoice.gross_total)


def test_issuing_needs_the_role_and_a_complete_legal_identity(in_shop):
    invoice = invoice_create_for_order(order=an_order(), by=None)
    with pytest.raises(TransitionForbidden):
        invoice_issue(invoice=invoice, by=staff("warehouse"))
    type(in_shop).objects.filter(pk=in_shop.pk).update(siren="")
    in_shop.siren = ""
    with pytest.raises(BillingError, match="SIREN"):
        invoice_issue(invoice=invoice, by=staff("owner"))
    assert Invoice.objects.get(pk=invoice.pk).number is None


def test_partial_payments_then_overpayment_refused():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))  # 240.00
    clerk = staff("accountant")
    payment_record(invoice=invoice, method="bank_transfer", amount="100", by=clerk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PARTIALLY_PAID, Decimal("140.00"))
    with pytest.raises(BillingError, match="more than what is still owed"):
        payment_record(invoice=invoice, method="cheque", amount="140.01", by=clerk)
    assert Payment.objects.filter(invoice=invoice).count() == 1
    payment_record(invoice=invoice, method="cheque", amount="140", by=clerk, reference="CHQ 12")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance, invoice.amount_paid) == (
        InvoiceStatus.PAID, Decimal("0.00"), Decimal("240.00"))
    with pytest.raises(BillingError, match="not waiting for a payment"):
        payment_record(invoice=invoice, method="cash", amount="1", by=clerk)


def test_the_database_refuses_an_invoice_paid_beyond_its_worth():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.gross_total + 1)


def test_a_full_credit_note_closes_an_unpaid_invoice_with_its_own_numbers():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))
    note = credit_note_create(invoice=invoice, by=None, reason="Wrong customer")
    note = issued(note)
    assert note.number == f"A-{YEAR}-00001" and note.gross_total == invoice.gross_total
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (InvoiceStatus.CANCELLED, Decimal("0.00"))
    with pytest.raises(BillingError, match="fully credited"):
        credit_note_create(invoice=invoice, by=None, reason="again")


def test_a_partial_credit_note_lowers_what_is_owed():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))  # 240.00
    note = credit_note_create(invoice=invoice, by=None, reason="Damaged", lines=[
        LineInput(name="Discount for a scratch", quantity=Decimal(1), unit_net=Decimal("25.00"),
                  tax_rate=Decimal("20.00"))])
    issued(note)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("210.00") and invoice.status == InvoiceStatus.ISSUED
    with pytest.raises(BillingError, match="cannot exceed"):
        credit_note_create(invoice=invoice, by=None, reason="too much", lines=[
            LineInput(name="x", quantity=Decimal(1), unit_net=Decimal("200.00"),
                      tax_rate=Decimal("20.00"))])


def test_what_is_paid_is_refunded_not_credited():
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))  # 240.00
    payment_record(invoice=invoice, method="cash", amount="200.00", by=None)
    with pytest.raises(BillingError, match="partly paid"):
        credit_note_create(invoice=invoice, by=None, reason="Returned")
    with pytest.raises(BillingError, match="cannot exceed"):
        credit_note_create(invoice=invoice, by=None, reason="Returned", lines=[
            LineInput(name="x", quantity=Decimal(1), unit_net=Decimal("50.00"),
                      tax_rate=Decimal("20.00"))])
    payment_record(invoice=invoice, method="cash", amount="40.00", by=None)
    with pytest.raises(BillingError, match="refund its payment"):
        credit_note_create(invoice=invoice, by=None, reason="Returned")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_credited) == (InvoiceStatus.PAID, Decimal("0.00"))
    assert "credit_note" not in invoice_actions(invoice, None)


def test_refunding_a_payment_by_hand_makes_an_exact_credit_note():
    invoice = issued(invoice_create_for_order(order=place_order(
        (goods("A", price="10.00", rate="20.00"), 1), (goods("B", price="33.33", rate="5.50"), 3)),
        by=None))
    clerk = staff("accountant")
    payment = payment_record(invoice=invoice, method="bank_transfer", amount=invoice.gross_total,
                             by=clerk)
    refund = payment_refund(payment=payment, amount="50.01", reason="Returned item", by=clerk)
    note = refund.credit_note
    assert note.status == InvoiceStatus.ISSUED and note.gross_total == Decimal("50.01")
    assert sorted(line.tax_rate for line in note.lines.all()) == [Decimal("5.50"), Decimal("20.00")]
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.amount_paid == invoice.gross_total - Decimal("50.01")
    assert invoice.status == InvoiceStatus.PAID and payment.refundable == invoice.amount_paid
    with pytest.raises(BillingError, match="At most"):
        payment_refund(payment=payment, amount=payment.refundable + 1, reason="x", by=clerk)


def test_overdue_invoices_are_marked_and_reminded_once_per_step(
        django_capture_on_commit_callbacks, mailoutbox):
    invoice = issued(invoice_create_for_order(order=an_order(), by=None))
    later = invoice.due_date + timedelta(days=8)
    assert invoices_mark_overdue(today=later) == 1
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OVERDUE
    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_send_reminders(today=later) == 1
        assert invoices_send_reminders(today=later) == 0, "one reminder per step"
    assert len(mailoutbox) == 1 and invoice.number in mailoutbox[0].body
    payment_record(invoice=invoice, method="bank_transfer", amount=invoice.gross_total, by=None)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


def test_a_standalone_invoice_by_staff():
    invoice = invoice_create(customer=customer(), by=staff("accountant"), title="Consulting",
                             lines=[LineInput(name="Workshop day", quantity=Decimal("1.5"),
                                              unit_net=Decimal("600"), tax_rate=Decimal("20"))])
    assert invoice.gross_total == Decimal("1080.00")
    invoice = invoice_update(invoice=invoice, by=None, add_lines=[LineInput(
        name="Travel", quantity=Decimal(1), unit_net=Decimal("80"), tax_rate=Decimal("20"))])
    assert invoice.gross_total == Decimal("1176.00")


def test_card_orders_left_unpaid_are_cancelled_and_their_stock_released():
    from billing.services.periodic import orders_cancel_unpaid
    from catalog.models import StockLevel
    from sales.models import Order, OrderStatus

    bike = goods("BIKE", stock="3")
    unpaid = place_order((bike, 2), payment_method="card")
    by_transfer = place_order((bike, 1))
    Order.objects.filter(pk__in=[unpaid.pk, by_transfer.pk]).update(
        placed_at=timezone.now() - timedelta(hours=49))
    assert orders_cancel_unpaid() == 1
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=by_transfer.pk).status == OrderStatus.PENDING, "transfers wait"
    assert StockLevel.objects.get(pk=bike.pk).reserved == 1


def test_an_issued_invoice_pdf_is_kept_privately_never_under_the_public_media(in_shop, settings,
                                                                             shop_client):
    from pathlib import Path

    from billing.documents import invoice_pdf_file

    invoice = issued(invoice_create_for_order(order=an_order(), by=None))
    content = invoice_pdf_file(invoice)
    invoice.refresh_from_db()
    path = Path(invoice.pdf.path)
    assert content.startswith(b"%PDF") and path.read_bytes() == content
    assert Path(settings.PRIVATE_MEDIA_ROOT).resolve() in path.parents
    assert Path(settings.MEDIA_ROOT).resolve() not in path.parents
    schema = in_shop.schema_name
    assert shop_client.get(f"/media/{schema}/{invoice.pdf.name}").status_code == 404
    with pytest.raises(ValueError, match="no URL"):
        invoice.pdf.url  # noqa: B018 - the property raises


def test_the_order_page_offers_to_invoice_only_what_is_left(owner_client):
    order = an_order()
    page = f"/dashboard/sales/orders/{order.pk}/"
    assert 'name="percent" id="id_invoice_percent" value="100"' in owner_client.get(page).content.decode()
    issued(invoice_create_for_order(order=order, by=None, percent=Decimal("30")))
    assert 'id="id_invoice_percent" value="70"' in owner_client.get(page).content.decode()
    issued(invoice_create_for_order(order=order, by=None, percent=Decimal("70")))
    html = owner_client.get(page).content.decode()
    assert "The whole order is invoiced." in html and 'id="id_invoice_percent"' not in html


def test_document_text_is_in_the_shops_language_whoever_makes_it(in_shop):
    from django.utils import translation

    type(in_shop).objects.filter(pk=in_shop.pk).update(locale="fr")
    in_shop.locale = "fr"
    try:
        with translation.override("en"):  # an English-speaking clerk, or a webhook
            order = an_order()
            deposit = invoice_create_for_order(order=order, by=None, percent=Decimal("30"))
            assert deposit.title == f"Facture d’acompte de 30 % — commande {order.number}"
            assert deposit.lines.first().name.startswith("Acompte")
            issued(deposit)
            assert "Paiement" in Invoice.objects.get(pk=deposit.pk).payment_terms
    finally:
        in_shop.locale = "en"
