"""The staff dashboard of billing (namespace `billing_dashboard`, under /dashboard/billing/),
one module per page family."""

from billing.views.dashboard.drafts import (
    invoice_fields_update,
    invoice_line_add,
    invoice_line_preview,
    invoice_line_remove,
    invoice_new,
    invoice_new_for_order,
)
from billing.views.dashboard.home import billing_widget
from billing.views.dashboard.invoices import (
    credit_note_new,
    invoice_delete_view,
    invoice_detail,
    invoice_issue_view,
    invoice_list,
)
from billing.views.dashboard.payments import pay_link_view, payment_record_view, payment_refund_view
from billing.views.dashboard.settings import (
    settings_view,
    stripe_connect_view,
    stripe_disconnect_view,
    stripe_onboarding_refresh,
    stripe_onboarding_return,
    stripe_onboarding_view,
    stripe_refresh_view,
)

__all__ = [
    "billing_widget", "credit_note_new", "invoice_delete_view", "invoice_detail",
    "invoice_fields_update", "invoice_issue_view", "invoice_line_add", "invoice_line_preview",
    "invoice_line_remove", "invoice_list", "invoice_new", "invoice_new_for_order",
    "pay_link_view", "payment_record_view", "payment_refund_view", "settings_view",
    "stripe_connect_view", "stripe_disconnect_view", "stripe_onboarding_refresh",
    "stripe_onboarding_return", "stripe_onboarding_view", "stripe_refresh_view",
]
