"""Documents: every issued invoice and credit note is a Factur-X PDF (PDF/A-3 with its CII XML
at the EN 16931 profile, valid against the XSD, adding up to the cent) carrying the French
mandatory mentions; the PDF is made once and kept; drafts are previews; quotes and order
confirmations print with their numbers; staff need the right role, and a shop sees only its
own documents.

Making a PDF costs a few tenths of a second: each test makes few and checks them at once."""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import schema_context
from lxml import etree
from pypdf import PdfReader

from billing.documents import (
    DocumentError,
    InvalidEInvoice,
    cii,
    invoice_pdf,
    invoice_pdf_file,
    invoice_preview_pdf,
    invoice_xml,
    order_confirmation_pdf,
    quote_pdf,
)
from billing.documents import invoices as documents
from billing.documents.facts import invoice_facts
from billing.documents.rendering import LocalOnlyFetcher, day, money
from billing.models import Invoice, Payment
from billing.services.invoices import (
    credit_note_create,
    invoice_create,
    invoice_create_for_order,
    invoice_issue,
)
from billing.storage import private_storage
from sales.models import Address
from sales.services.orders import LineInput
from sales.services.quotes import quote_create, quote_line_add
from tenants.models import Shop
from tenants.services import shop_create_pooled
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import customer, goods, place_order, staff


@pytest.fixture(autouse=True)
def _in_the_shop(request):
    """Every test runs in the test shop's schema (rolled back), except the one that commits."""
    if "committed" not in request.fixturenames:
        request.getfixturevalue("in_shop")

NS = cii.NS
DOCS = "/documents/"



# ---------------------------------------------------------------------------------------------
# Helpers: read a PDF back
# ---------------------------------------------------------------------------------------------
def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """The PDF's text, spaces normalised (no-break spaces, line ends)."""
    text = " ".join(page.extract_text() for page in pdf_reader(pdf).pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def embedded_xml(pdf: bytes) -> etree._Element:
    """The Factur-X XML attached to the PDF, after the library's own XSD check."""
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml", "the e-invoice is attached under its standard name"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    assert facturx.get_level(root) == "en16931"
    return root


def assert_pdfa3_with_embedded_fonts(pdf: bytes) -> None:
    reader = pdf_reader(pdf)
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "EN 16931" in xmp, "the Factur-X profile is declared in the metadata"
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for part in font.get("/DescendantFonts", [font]):
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), (
                    f"font {descriptor['/FontName']} is not embedded")


def value(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=NS)


SUMMATION = ("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
             "ram:SpecifiedTradeSettlementHeaderMonetarySummation/")


def assert_xml_matches(root: etree._Element, invoice: Invoice, *, prepaid: str = "0.00") -> None:
    """Type, number, totals and the VAT breakdown of the XML are the invoice's, to the cent."""
    assert value(root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter"
                       "/ram:ID") == "urn:cen.eu:en16931:2017"
    assert value(root, "rsm:ExchangedDocument/ram:ID") == invoice.number
    assert value(root, "rsm:ExchangedDocument/ram:TypeCode") == (
        "381" if invoice.is_credit_note else "380")
    assert value(root, SUMMATION + "ram:LineTotalAmount") == f"{invoice.net_total:.2f}"
    assert value(root, SUMMATION + "ram:TaxBasisTotalAmount") == f"{invoice.net_total:.2f}"
    tax = root.find(SUMMATION + "ram:TaxTotalAmount", NS)
    assert (tax.text, tax.get("currencyID")) == (f"{invoice.vat_total:.2f}", invoice.currency)
    assert value(root, SUMMATION + "ram:GrandTotalAmount") == f"{invoice.gross_total:.2f}"
    assert value(root, SUMMATION + "ram:TotalPrepaidAmount") == prepaid
    assert Decimal(value(root, SUMMATION + "ram:DuePayableAmount")) == (
        invoice.gross_total - Decimal(prepaid))
    line_totals = [Decimal(e.text) for e in root.iterfind(
        ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", NS)]
    assert sum(line_totals) == invoice.net_total
    expected = {}
    for line in invoice.lines.all():
        base, vat = expected.get(line.tax_rate, (Decimal("0"), Decimal("0")))
        expected[line.tax_rate] = (base + line.net, vat + line.vat)
    breakdown = {
        Decimal(tax.findtext("ram:RateApplicablePercent", namespaces=NS)): (
            Decimal(tax.findtext("ram:BasisAmount", namespaces=NS)),
            Decimal(tax.findtext("ram:CalculatedAmount", namespaces=NS)))
        for tax in root.iterfind("rsm:SupplyChainTradeTransaction/"
                                 "ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)}
    assert breakdown == expected


def company_buyer():
    buyer = customer("buyer@acme.test", kind="company", company_name="Acme Industries",
                     vat_number="FR40303265045", company_id="30326504500014")
    Address.objects.create(customer=buyer, full_name="Jeanne Martin", line1="8 quai des Chartrons",
                           postal_code="33000", city="Bordeaux", is_default_billing=True)
    return buyer


def issued(invoice):
    return invoice_issue(invoice=invoice, by=staff("accountant"))


def awkward_invoice(buyer):
    """Awkward quantities, a discount and several VAT rates."""
    return issued(invoice_create(customer=buyer, by=None, title="Workshop supplies", lines=[
        LineInput(name="Resin by weight", quantity=Decimal("0.333"), unit_net=Decimal("19.99"),
                  tax_rate=Decimal("20"), unit="kg", sku="RES-1"),
        LineInput(name="Manual", quantity=Decimal("3"), unit_net=Decimal("33.33"),
                  tax_rate=Decimal("5.5"), discount_percent=Decimal("12.5")),
        LineInput(name="Training", quantity=Decimal("1.5"), unit_net=Decimal("410.00"),
                  tax_rate=Decimal("10"), unit="hour"),
    ]))


# ---------------------------------------------------------------------------------------------
# Invoices and credit notes: Factur-X, mandatory mentions
# ---------------------------------------------------------------------------------------------
def test_an_invoice_to_a_company_is_factur_x_with_every_mandatory_mention(in_shop):
    invoice = awkward_invoice(company_buyer())
    assert invoice.net_total == Decimal("6.66") + Decimal("87.49") + Decimal("615.00")
    pdf = invoice_pdf(invoice)

    assert_pdfa3_with_embedded_fonts(pdf)
    root = embedded_xml(pdf)
    assert_xml_matches(root, invoice)
    seller = root.find(".//ram:SellerTradeParty", NS)
    assert seller.find("ram:SpecifiedLegalOrganization/ram:ID", NS).attrib == {"schemeID": "0002"}
    assert value(seller, "ram:SpecifiedLegalOrganization/ram:ID") == "732829320"
    assert value(seller, "ram:SpecifiedTaxRegistration/ram:ID") == "FR44732829320"
    buyer = root.find(".//ram:BuyerTradeParty", NS)
    assert value(buyer, "ram:SpecifiedLegalOrganization/ram:ID") == "303265045"
    assert value(buyer, "ram:SpecifiedTaxRegistration/ram:ID") == "FR40303265045"
    means = root.find(".//ram:SpecifiedTradeSettlementPaymentMeans", NS)
    assert value(means, "ram:TypeCode") == "58"
    assert value(means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == in_shop.iban
    assert value(root, ".//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/"
                       "udt:DateTimeString") == invoice.due_date.strftime("%Y%m%d")
    assert [e.text for e in root.iterfind(".//ram:IncludedNote/ram:SubjectCode", NS)] == [
        "PMD", "PMT", "AAB"]
    resin = root.find("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NS)
    assert resin.find(".//ram:BilledQuantity", NS).attrib == {"unitCode": "KGM"}
    assert value(resin, ".//ram:BilledQuantity") == "0.333"
    assert value(resin, ".//ram:LineTotalAmount") == "6.66"
    manual = root.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)[1]
    assert value(manual, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "29.16375"
    assert value(manual, ".//ram:GrossPriceProductTradePrice/ram:ChargeAmount") == "33.33"

    text = text_of(pdf)
    with translation.override(in_shop.locale):
        dates = [day(invoice.issue_date), day(invoice.service_date), day(invoice.due_date)]
        amounts = [money(invoice.net_total), money(invoice.vat_total), money(invoice.gross_total),
                   money(Decimal("0")), money(Decimal("40")), money(Decimal("6.66")),
                   money(Decimal("87.49")), money(Decimal("4.81")), money(Decimal("61.50"))]
    expected = [
        "Invoice", invoice.number, *dates, "Date of sale or service", "Due date",
        # The seller's legal identity
        "Alpha SAS", "SAS with a share capital of 10 000 €", "RCS Paris 732 829 320",
        "SIREN 732829320", "SIRET 73282932000074", "VAT number FR44732829320",
        "1 rue de la Paix", "75002 Paris",
        # The buyer
        "Acme Industries", "Jeanne Martin", "8 quai des Chartrons", "33000 Bordeaux",
        "VAT number FR40303265045", "SIREN / SIRET 30326504500014",
        # Lines, VAT per rate, totals, payment
        "Resin by weight", "0.333", "kg", "19.99 €", "12.5 %", "Training", "1.5", "hour",
        "20 %", "10 %", "5.5 %", *[a.replace("\xa0", " ") for a in amounts],
        "Already paid", "Balance due", "Payment within 30 days",
        "penalties at 12 % per year", "40.00 € for recovery costs", "L441-10",
        "No discount for early payment", f"IBAN {in_shop.iban}", f"BIC {in_shop.bic}",
    ]
    missing = [mention for mention in expected if mention not in text]
    assert not missing, f"missing from the PDF: {missing}"
    assert "293 B" not in text


def test_a_person_pays_no_recovery_fee_and_a_credit_note_names_its_invoice():
    invoice = issued(invoice_create_for_order(
        order=place_order((goods("BIKE", price="100.00", stock="5"), 2)), by=None))
    text = text_of(invoice_pdf(invoice))
    assert "Ada Lovelace" in text and "penalties at 12 % per year" in text
    assert "recovery costs" not in text and "L441-10" not in text, "the 40 € fee is for businesses"

    note = issued(credit_note_create(invoice=invoice, by=None, reason="Bike returned damaged"))
    pdf = invoice_pdf(note)
    root = embedded_xml(pdf)
    assert_xml_matches(root, note)
    reference = root.find(".//ram:InvoiceReferencedDocument", NS)
    assert value(reference, "ram:IssuerAssignedID") == invoice.number
    assert value(reference, "ram:FormattedIssueDateTime/qdt:DateTimeString") == (
        invoice.issue_date.strftime("%Y%m%d"))
    assert root.find(".//ram:SpecifiedTradePaymentTerms", NS) is None, "nothing to pay"
    text = text_of(pdf)
    with translation.override("en"):
        assert f"corrects invoice {invoice.number} of {day(invoice.issue_date)}" in text
    assert "Credit note" in text and note.number in text and "Bike returned damaged" in text


def test_a_deposit_then_a_balance_with_negative_deductions_are_valid_e_invoices():
    order = place_order((goods("BIKE", price="19.99", stock="50"), 3),
                        (goods("BOOK", price="12.50", rate="5.50"), 2))
    deposit = issued(invoice_create_for_order(order=order, by=None, percent=Decimal("30")))
    balance = issued(invoice_create_for_order(order=order, by=None, percent=Decimal("70")))
    assert deposit.gross_total + balance.gross_total == order.gross_total

    deposit_root = embedded_xml(invoice_pdf(deposit))
    assert_xml_matches(deposit_root, deposit)
    assert value(deposit_root, ".//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == (
        order.number)

    root = embedded_xml(invoice_pdf(balance))
    assert_xml_matches(root, balance)
    deductions = [item for item in root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS)
                  if value(item, ".//ram:BilledQuantity") == "-1"]
    assert len(deductions) == 2, "one deduction per VAT rate of the deposit"
    for item in deductions:
        assert Decimal(value(item, ".//ram:LineTotalAmount")) < 0
        assert Decimal(value(item, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount")) > 0, (
            "EN 16931 wants prices positive: the quantity carries the sign")


def test_when_every_line_is_at_zero_percent_vat_is_not_applicable(in_shop, monkeypatch):
    monkeypatch.setattr(in_shop, "locale", "fr")
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Cours de guitare", quantity=Decimal("4"), unit_net=Decimal("1234.50"),
                  tax_rate=Decimal("0"), unit="hour")]))
    pdf = invoice_pdf(invoice)
    root = embedded_xml(pdf)
    assert_xml_matches(root, invoice)
    tax = root.find(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
    assert value(tax, "ram:CategoryCode") == "E"
    assert value(tax, "ram:ExemptionReason") == "TVA non applicable, art. 293 B du CGI"
    assert value(tax, "ram:ExemptionReasonCode") == "VATEX-FR-FRANCHISE"
    text = text_of(pdf)
    assert "293 B" in text
    assert "4 938,00 €" in text, "amounts follow the shop's locale"
    with translation.override("fr"):
        assert day(invoice.issue_date) in text


def test_what_was_paid_when_the_invoice_was_issued_is_deducted_later_payments_are_not():
    invoice = issued(invoice_create_for_order(
        order=place_order((goods("BIKE", price="100.00", stock="5"), 1)), by=None))  # 120.00
    Payment.objects.create(invoice=invoice, order=invoice.order, customer=invoice.customer,
                           method="card", status="succeeded", amount=Decimal("50.00"),
                           succeeded_at=invoice.issued_at - timedelta(minutes=1))
    Payment.objects.create(invoice=invoice, order=invoice.order, customer=invoice.customer,
                           method="cheque", status="succeeded", amount=Decimal("20.00"),
                           succeeded_at=invoice.issued_at + timedelta(days=2))
    pdf = invoice_pdf(invoice)
    assert_xml_matches(embedded_xml(pdf), invoice, prepaid="50.00")
    text = text_of(pdf)
    assert "Already paid 50.00 €" in text and "Balance due 70.00 €" in text


# ---------------------------------------------------------------------------------------------
# Refusals: drafts, invalid e-invoices, the network
# ---------------------------------------------------------------------------------------------
def test_a_draft_has_a_watermarked_preview_and_no_e_invoice():
    draft = invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Draft work", quantity=Decimal("1"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))])
    preview = invoice_preview_pdf(draft)
    assert "DRAFT" in text_of(preview) and "Draft work" in text_of(preview)
    assert facturx.get_facturx_xml_from_pdf(preview, check_xsd=False) == (False, False)
    for make in (invoice_pdf, invoice_xml, invoice_pdf_file):
        with pytest.raises(DocumentError, match="draft"):
            make(draft)


def test_an_e_invoice_that_fails_its_checks_is_never_made_nor_stored(shop, monkeypatch):
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("2"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))]))
    root = cii.build(invoice_facts(invoice))
    cii.check(root)
    broken = root.find("rsm:ExchangedDocument", NS)
    broken.remove(broken.find("ram:TypeCode", NS))
    with pytest.raises(InvalidEInvoice, match="XSD"):
        cii.check(broken.getparent())

    original = cii.build

    def off_by_a_cent(facts, **kwargs):
        tree = original(facts, **kwargs)
        tree.find(".//ram:GrandTotalAmount", NS).text = "24.01"
        return tree

    monkeypatch.setattr(cii, "build", off_by_a_cent)
    with pytest.raises(InvalidEInvoice, match="BR-CO-15"):
        invoice_pdf_file(invoice)
    response = client_for(shop, "owner").get(f"{DOCS}invoices/{invoice.pk}.pdf")
    assert response.status_code == 503 and b"failed its checks" in response.content
    assert not Invoice.objects.get(pk=invoice.pk).pdf, "nothing stored"


def test_figures_that_disagree_with_the_lines_are_refused():
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("1"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))]))
    invoice.gross_total = Decimal("12.01")  # in memory only: the database refuses the change
    with pytest.raises(DocumentError, match="disagree"):
        invoice_facts(invoice)


def test_documents_never_fetch_from_the_network(tmp_path):
    fetcher = LocalOnlyFetcher((tmp_path,))
    for url in ("http://169.254.169.254/latest/meta-data", "https://example.com/logo.png",
                "ftp://example.com/x", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="never fetch|own files|disallowed"):
            fetcher.fetch(url)
    (tmp_path / "ok.css").write_text("p {}")
    response = fetcher.fetch((tmp_path / "ok.css").as_uri())
    assert response.read() == b"p {}"
    response.close()


# ---------------------------------------------------------------------------------------------
# The stored file
# ---------------------------------------------------------------------------------------------
def test_the_pdf_is_stored_once_in_the_shops_folder_and_served_again(in_shop, private_documents):
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("2"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))]))
    first = invoice_pdf_file(invoice)
    name = Invoice.objects.get(pk=invoice.pk).pdf.name
    assert re.fullmatch(rf"invoices/{invoice.issue_date.year}/{invoice.number}-[\w-]{{16}}\.pdf",
                        name), "unguessable, as a second lock"
    path = private_documents / in_shop.schema_name / name
    assert path.read_bytes() == first
    stamp = path.stat().st_mtime_ns

    again = invoice_pdf_file(Invoice.objects.get(pk=invoice.pk))
    assert again == first
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == name
    assert path.stat().st_mtime_ns == stamp, "not made again"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert private_storage.exists(name)


# ---------------------------------------------------------------------------------------------
# Downloads (staff)
# ---------------------------------------------------------------------------------------------
def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def test_staff_download_the_stored_pdf_and_its_xml(shop):
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("2"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))]))
    client = client_for(shop, "accountant")
    response = client.get(f"{DOCS}invoices/{invoice.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content == invoice_pdf_file(invoice), "the stored file"

    response = client.get(f"{DOCS}invoices/{invoice.pk}.xml")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.xml"'
    assert response.content == facturx.get_facturx_xml_from_pdf(invoice_pdf_file(invoice))[1]


def test_a_draft_downloads_as_a_preview_and_has_no_xml(shop):
    draft = invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("1"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))])
    client = client_for(shop, "owner")
    response = client.get(f"{DOCS}invoices/{draft.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="draft-invoice-{draft.pk}.pdf"'
    assert "DRAFT" in text_of(response.content)
    assert client.get(f"{DOCS}invoices/{draft.pk}.xml").status_code == 404
    assert not Invoice.objects.get(pk=draft.pk).pdf, "a preview is never stored"


def test_roles_without_the_permission_and_other_shops_ids_are_refused(shop, other_shop):
    invoice = issued(invoice_create(customer=customer(), by=None, lines=[
        LineInput(name="Widget", quantity=Decimal("1"), unit_net=Decimal("10"),
                  tax_rate=Decimal("20"))]))
    order = place_order((goods("BIKE"), 1))
    warehouse = client_for(shop, "warehouse")
    assert warehouse.get(f"{DOCS}invoices/{invoice.pk}.pdf").status_code == 403
    assert warehouse.get(f"{DOCS}invoices/{invoice.pk}.xml").status_code == 403
    anonymous = Client(HTTP_HOST=host_of(shop)).get(f"{DOCS}invoices/{invoice.pk}.pdf")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not Invoice.objects.get(pk=invoice.pk).pdf, "nothing was made for them"

    ours = set(Invoice.objects.values_list("pk", flat=True))
    with in_schema(other_shop):
        buyer = customer("x@beta.test")
        theirs = None
        while theirs is None or theirs.pk in ours:  # ids are per shop: pick one we lack
            theirs = invoice_create(customer=buyer, by=None, lines=[
                LineInput(name="Theirs", quantity=Decimal("1"), unit_net=Decimal("1"),
                          tax_rate=Decimal("20"))])
    owner = client_for(shop, "owner")
    assert owner.get(f"{DOCS}invoices/{theirs.pk}.pdf").status_code == 404
    assert owner.get(f"{DOCS}invoices/{theirs.pk}.xml").status_code == 404
    assert owner.get(f"{DOCS}orders/{order.pk + 10_000}.pdf").status_code == 404


# ---------------------------------------------------------------------------------------------
# Quotes and order confirmations
# ---------------------------------------------------------------------------------------------
def test_quote_and_order_confirmation_pdfs_print_with_their_numbers(shop, in_shop):
    buyer = company_buyer()
    quote = quote_create(customer=buyer, by=None, data={
        "valid_until": timezone.localdate() + timedelta(days=30),
        "terms": "Delivery within 3 weeks of acceptance."})
    quote_line_add(quote=quote, by=None, line=LineInput(
        name="Custom frame", quantity=Decimal("2"), unit_net=Decimal("450"),
        tax_rate=Decimal("20")))
    order = place_order((goods("BIKE", price="100.00"), 2))
    warehouse = client_for(shop, "warehouse")
    assert warehouse.get(f"{DOCS}quotes/{quote.pk}.pdf").status_code == 403

    seller = client_for(shop, "sales")
    response = seller.get(f"{DOCS}quotes/{quote.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{quote.reference}.pdf"'
    text = text_of(response.content)
    with translation.override(in_shop.locale):
        valid = day(quote.valid_until)
    for mention in ("Quote", quote.reference, "Custom frame", "900.00 €", "1,080.00 €",
                    f"valid until {valid}", "Delivery within 3 weeks", "Signature",
                    "Acme Industries", "SIREN 732829320", "DRAFT"):
        assert mention in text, mention

    response = warehouse.get(f"{DOCS}orders/{order.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{order.number}.pdf"'
    text = text_of(response.content)
    for mention in ("Order confirmation", order.number, "Goods BIKE", "Bank transfer",
                    "240.00 €", "DELIVERY ADDRESS", f"IBAN {in_shop.iban}", "Ada Lovelace"):
        assert mention in text, mention
    assert "DRAFT" not in text


def test_quote_and_order_pages_link_to_their_pdf(shop):
    quote = quote_create(customer=customer(), by=None,
                         data={"valid_until": timezone.localdate() + timedelta(days=30)})
    order = place_order((goods("BIKE"), 1))
    owner = client_for(shop, "owner")
    page = owner.get(f"/dashboard/sales/quotes/{quote.pk}/").content.decode()
    assert f'href="{DOCS}quotes/{quote.pk}.pdf"' in page
    page = owner.get(f"/dashboard/sales/orders/{order.pk}/").content.decode()
    assert f'href="{DOCS}orders/{order.pk}.pdf"' in page


def test_functions_answer_for_models_directly():
    """What the customer account and the API call: the same bytes as staff get."""
    order = place_order((goods("BIKE"), 1))
    assert order.number in text_of(order_confirmation_pdf(order))
    quote = quote_create(customer=customer(), by=None,
                         data={"valid_until": timezone.localdate() + timedelta(days=30)})
    assert quote.reference in text_of(quote_pdf(quote))


# ---------------------------------------------------------------------------------------------
# Two first downloads at once
# ---------------------------------------------------------------------------------------------
LEGAL = {"legal_name": "Race SAS", "siren": "732829320", "vat_number": "FR44732829320",
         "address_line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris"}


def test_two_simultaneous_first_downloads_store_one_file(committed, settings, tmp_path,
                                                           monkeypatch):
    shop = shop_create_pooled()
    Shop.objects.filter(pk=shop.pk).update(**LEGAL)
    with schema_context(shop.schema_name):
        invoice = invoice_issue(invoice=invoice_create(customer=customer(), by=None, lines=[
            LineInput(name="Widget", quantity=Decimal("1"), unit_net=Decimal("10"),
                      tax_rate=Decimal("20"))]), by=None, check_role=False)

    made = []
    original = documents.invoice_pdf

    def slow_invoice_pdf(invoice):
        made.append(invoice.pk)
        time.sleep(0.3)  # both requests are past the unlocked check before either stores
        return original(invoice)

    monkeypatch.setattr(documents, "invoice_pdf", slow_invoice_pdf)
    barrier = threading.Barrier(2)
    results: list[bytes] = []

    def download() -> None:
        try:
            barrier.wait()
            with schema_context(shop.schema_name):
                results.append(invoice_pdf_file(Invoice.objects.get(pk=invoice.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and results[0] == results[1]
    assert made == [invoice.pk], "made once: the second download waited and read the file"
    with schema_context(shop.schema_name):
        name = Invoice.objects.get(pk=invoice.pk).pdf.name
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / shop.schema_name / Path(name).parent
    assert [p.name for p in folder.iterdir()] == [Path(name).name]
