"""PDF documents (WeasyPrint; Factur-X for invoices and credit notes) for staff (under
/documents/). Customers' own invoices are downloaded from their account pages."""

from django.urls import path

from billing.views import documents

app_name = "billing_documents"
urlpatterns = [
    path("invoices/<int:pk>.pdf", documents.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<int:pk>.xml", documents.invoice_xml_view, name="invoice_xml"),
    path("quotes/<int:pk>.pdf", documents.quote_pdf_view, name="quote_pdf"),
    path("orders/<int:pk>.pdf", documents.order_pdf_view, name="order_pdf"),
]
