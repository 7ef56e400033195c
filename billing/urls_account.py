"""The customer's invoices in their storefront account (under /account/invoices/)."""

from django.urls import path

from billing.views import account

app_name = "billing_account"
urlpatterns = [
    path("", account.invoice_list, name="list"),
    path("<int:pk>/", account.invoice_detail, name="detail"),
    path("<int:pk>/pdf/", account.invoice_pdf, name="pdf"),
]
