"""Documents of a shop as PDFs (WeasyPrint, offline): invoices and credit notes as Factur-X
(PDF/A-3 with their CII XML at the EN 16931 profile), quotes and order confirmations.

What other code calls:
- `invoice_pdf_file(invoice)`: the stored PDF of an issued invoice or credit note (made and
  stored at the first call, the same bytes afterwards): every download goes through it.
- `invoice_xml_file(invoice)`: the CII XML inside that PDF.
- `invoice_preview_pdf(invoice)`: a draft's preview (watermarked, no e-invoice).
- `quote_pdf(quote)`, `order_confirmation_pdf(order)`: plain PDFs, made on each call.
- `invoice_pdf(invoice)`, `invoice_xml(invoice)`: made fresh, not stored (tests, benchmarks).
Refusals raise DocumentError (a BillingError: `.message`); an e-invoice that fails its checks
raises InvalidEInvoice (a bug: never served).
"""

from billing.documents.cii import InvalidEInvoice
from billing.documents.facts import DocumentError
from billing.documents.invoices import (
    invoice_pdf,
    invoice_pdf_file,
    invoice_preview_pdf,
    invoice_xml,
    invoice_xml_file,
)
from billing.documents.sales import order_confirmation_pdf, quote_pdf

__all__ = ["DocumentError", "InvalidEInvoice", "invoice_pdf", "invoice_pdf_file",
           "invoice_preview_pdf", "invoice_xml", "invoice_xml_file", "order_confirmation_pdf",
           "quote_pdf"]
