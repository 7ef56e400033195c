"""Invoices and credit notes as documents: the Factur-X PDF (PDF/A-3 with the CII XML inside,
EN 16931 profile), made once from the frozen document and kept; a draft's preview; the XML.

The stored PDF is made at the first download and served from storage afterwards. Making it
takes the invoice row's lock, so two first downloads at the same moment make one file: the
second waits, then finds the first one's.
"""

from __future__ import annotations

import secrets

import facturx
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from billing.documents import cii
from billing.documents.context import (
    TotalRow,
    buyer_party,
    line_rows,
    seller_party,
    totals_rows,
    vat_rows,
)
from billing.documents.facts import DocumentError, InvoiceFacts, invoice_facts
from billing.documents.rendering import day, money, number, render_pdf
from billing.models import Invoice
from billing.services.invoices import billing_settings
from billing.storage import private_storage
from tenants.models import Shop

PDF_A = "pdf/a-3b"


def current_shop() -> Shop:
    shop = connection.tenant
    if not isinstance(shop, Shop):
        shop = Shop.objects.get(schema_name=connection.schema_name)
    return shop


def _require_issued(invoice: Invoice) -> None:
    if invoice.is_draft:
        raise DocumentError(_("%(document)s is a draft: it gets its PDF and e-invoice when it "
                              "is issued.") % {"document": invoice.reference})


# ---------------------------------------------------------------------------------------------
# Mentions the law asks for (Code de commerce L441-9, L441-10; CGI art. 242 nonies A, 293 B)
# ---------------------------------------------------------------------------------------------
def payment_mentions(facts: InvoiceFacts) -> list[tuple[str, str]]:
    """(CII note subject code, text) for an invoice: penalties (PMD), the 40 € recovery fee for
    business buyers (PMT), no discount for early payment (AAB). A credit note asks no payment."""
    invoice = facts.invoice
    if invoice.is_credit_note:
        return []
    # A draft takes its rate when it is issued: its preview shows today's setting.
    rate = billing_settings().late_penalty_rate if invoice.is_draft else invoice.late_penalty_rate
    mentions = [("PMD", _("Late payment: penalties at %(rate)s %% per year, due from the day "
                          "after the due date without a reminder being needed.")
                 % {"rate": number(rate)})]
    if facts.buyer.get("is_business"):
        mentions.append(("PMT", _("A fixed indemnity of %(amount)s for recovery costs is due "
                                  "for any late payment (Code de commerce, art. L441-10).")
                         % {"amount": money(40, "EUR")}))
    mentions.append(("AAB", _("No discount for early payment.")))
    return mentions


def franchise_mention() -> str:
    return _("VAT not applicable, article 293 B of the French tax code (CGI).")


# ---------------------------------------------------------------------------------------------
# The e-invoice XML
# ---------------------------------------------------------------------------------------------
def _xml(facts: InvoiceFacts) -> bytes:
    root = cii.build(facts, notes=payment_mentions(facts))
    cii.check(root)
    return cii.to_bytes(root)


def invoice_xml(invoice: Invoice) -> bytes:
    """The CII XML (EN 16931) of an issued invoice or credit note, checked; made fresh. The
    stored PDF carries the same (`invoice_xml_file` reads it from there)."""
    _require_issued(invoice)
    with translation.override(current_shop().locale):
        return _xml(invoice_facts(invoice))


# ---------------------------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------------------------
def _context(facts: InvoiceFacts, *, draft: bool) -> dict:
    invoice = facts.invoice
    currency = invoice.currency
    credit = invoice.is_credit_note
    kind = _("Credit note") if credit else _("Invoice")
    details = [(_("Date"), day(invoice.issue_date))] if invoice.issue_date else []
    if invoice.service_date:
        details.append((_("Date of sale or service"), day(invoice.service_date)))
    if invoice.order_id:
        details.append((_("Order"), invoice.order.number))
    if not credit and invoice.due_date:
        details.append((_("Due date"), day(invoice.due_date)))
    corrects = None
    if credit and invoice.credited_invoice_id:
        credited = invoice.credited_invoice
        corrects = (_("This credit note corrects invoice %(number)s of %(date)s.")
                    % {"number": credited.reference, "date": day(credited.issue_date)})
        details.append((_("Corrected invoice"), credited.reference))
    totals = totals_rows(facts.net_total, facts.vat_total, facts.gross_total, currency)
    if not credit:
        totals += [TotalRow(_("Already paid"), money(facts.prepaid, currency)),
                   TotalRow(_("Balance due"), money(facts.due, currency), strong=True)]
    seller = facts.seller
    bank = None
    if not credit and seller.get("iban"):
        bank = {"iban": seller["iban"], "bic": seller.get("bic", "")}
    return {
        "kind": kind,
        "reference": invoice.number or "",
        "title": invoice.title,
        "watermark": _("Draft") if draft else "",
        "seller": seller_party(seller),
        "buyer": buyer_party(facts.buyer),
        "details": details,
        "lines": line_rows((item.line for item in facts.lines), currency),
        "show_discount": any(item.has_discount for item in facts.lines),
        "vat_rows": vat_rows(((row.rate, row.base, row.vat) for row in facts.vat_rows),
                             currency),
        "totals": totals,
        "corrects": corrects,
        "reason": invoice.reason if credit else "",
        "payment_terms": "" if credit else invoice.payment_terms,
        "mentions": [text for _code, text in payment_mentions(facts)],
        "franchise": franchise_mention() if facts.franchise else "",
        "bank": bank,
        "notes": invoice.notes,
        "pdf_title": f"{kind} {invoice.number}" if invoice.number else invoice.reference,
        "author": seller.get("legal_name") or seller.get("name") or "",
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    """The Factur-X PDF of an issued invoice or credit note: PDF/A-3 with its CII XML attached
    (factur-x.xml, EN 16931), in the shop's language. Raises cii.InvalidEInvoice rather than
    return a document whose XML fails the XSD or does not add up."""
    _require_issued(invoice)
    shop = current_shop()
    with translation.override(shop.locale):
        facts = invoice_facts(invoice)
        xml = _xml(facts)
        context = _context(facts, draft=False)
        pdf = render_pdf("billing/pdf/invoice.html", context, pdf_variant=PDF_A, lang=shop.locale)
        subject = (_("%(kind)s %(number)s of %(date)s")
                   % {"kind": context["kind"], "number": invoice.number,
                      "date": day(invoice.issue_date)})
    # check_xsd: the factur-x library validates again as it embeds (belt and braces: it is the
    # reference implementation, and costs a few milliseconds).
    return facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, lang=shop.locale,
        pdf_metadata={"author": context["author"], "title": context["pdf_title"],
                      "subject": subject, "keywords": "Factur-X, EN 16931"})


def invoice_preview_pdf(invoice: Invoice) -> bytes:
    """Any invoice as a plain PDF; a draft carries a large "Draft" watermark and no e-invoice
    (it has no number yet and may still change)."""
    shop = current_shop()
    with translation.override(shop.locale):
        facts = invoice_facts(invoice)
        return render_pdf("billing/pdf/invoice.html", _context(facts, draft=invoice.is_draft),
                          lang=shop.locale)


# ---------------------------------------------------------------------------------------------
# The stored file
# ---------------------------------------------------------------------------------------------
def _stored(name: str) -> bytes | None:
    if not name or not private_storage.exists(name):
        return None
    with private_storage.open(name, "rb") as handle:
        return handle.read()


def invoice_pdf_name(invoice: Invoice) -> str:
    """invoices/2026/F-2026-00001-<random>.pdf, in the shop's private folder (billing.storage:
    outside the media files served by path; the random part is a second lock)."""
    return (f"invoices/{invoice.issue_date.year}/{invoice.number}-"
            f"{secrets.token_urlsafe(12)}.pdf")


def invoice_pdf_file(invoice: Invoice) -> bytes:
    """The issued document's stored PDF, made and stored the first time it is asked for. Call
    it for every download (staff, customer account, API): everyone gets the same file."""
    _require_issued(invoice)
    current = Invoice.objects.filter(pk=invoice.pk).values_list("pdf", flat=True).first()
    content = _stored(current)
    if content is not None:
        return content
    with transaction.atomic():
        # The row lock makes concurrent first downloads queue: one makes the file, the
        # others find it when they get the lock.
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        content = _stored(locked.pdf.name)
        if content is not None:
            return content
        content = invoice_pdf(locked)
        name = private_storage.save(invoice_pdf_name(locked), ContentFile(content))
        Invoice.objects.filter(pk=locked.pk).update(pdf=name)
    invoice.pdf.name = name
    return content


def invoice_xml_file(invoice: Invoice) -> bytes:
    """The CII XML inside the stored PDF: the e-invoice the customer has, byte for byte."""
    _filename, xml = facturx.get_facturx_xml_from_pdf(invoice_pdf_file(invoice), check_xsd=False)
    if not xml:
        raise cii.InvalidEInvoice(f"The stored PDF of {invoice.reference} carries no XML.")
    return xml
