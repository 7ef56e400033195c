"""Staff dashboard for billing: invoices, credit notes, payments, billing settings and the
shop's Stripe account (namespace `billing_dashboard`, under /dashboard/billing/)."""

from django.urls import path

from billing.views import dashboard as views

app_name = "billing_dashboard"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_new, name="invoice_new"),
    path("invoices/from-order/<int:order_pk>/", views.invoice_new_for_order,
         name="invoice_new_for_order"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_fields_update, name="invoice_edit"),
    path("invoices/<int:pk>/lines/add/", views.invoice_line_add, name="invoice_line_add"),
    path("invoices/<int:pk>/lines/preview/", views.invoice_line_preview,
         name="invoice_line_preview"),
    path("invoices/<int:pk>/lines/<int:line_pk>/remove/", views.invoice_line_remove,
         name="invoice_line_remove"),
    path("invoices/<int:pk>/issue/", views.invoice_issue_view, name="invoice_issue"),
    path("invoices/<int:pk>/delete/", views.invoice_delete_view, name="invoice_delete"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_new, name="credit_note_new"),
    path("invoices/<int:pk>/payments/", views.payment_record_view, name="payment_record"),
    path("invoices/<int:pk>/payments/<int:payment_pk>/refund/", views.payment_refund_view,
         name="payment_refund"),
    path("invoices/<int:pk>/pay-link/", views.pay_link_view, name="pay_link"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/stripe/connect/", views.stripe_connect_view, name="stripe_connect"),
    path("settings/stripe/refresh/", views.stripe_refresh_view, name="stripe_refresh"),
    path("settings/stripe/disconnect/", views.stripe_disconnect_view, name="stripe_disconnect"),
    path("settings/stripe/onboarding/", views.stripe_onboarding_view, name="stripe_onboarding"),
    path("settings/stripe/onboarding/refresh/", views.stripe_onboarding_refresh,
         name="stripe_onboarding_refresh"),
    path("settings/stripe/onboarding/return/", views.stripe_onboarding_return,
         name="stripe_onboarding_return"),
]
