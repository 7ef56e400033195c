from django.apps import AppConfig

_VIEW = ["billing.view_invoice", "billing.view_payment", "billing.view_refund"]
_BOOKS = ["billing.add_invoice", "billing.change_invoice", "billing.delete_invoice",
          "billing.issue_invoice", "billing.record_payment", "billing.refund_payment"]


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and payments"

    # Who may do what (tenants/accounts/roles.py); the owner may do everything.
    role_permissions = {
        "manager": _VIEW + _BOOKS + ["billing.manage_billing_settings"],
        "accountant": _VIEW + _BOOKS,
        "sales": _VIEW,
    }
    usage_counters = {"invoices": "billing.selectors.invoice_count"}
    dashboard_widgets = ["billing.views.dashboard.billing_widget"]
    dashboard_search = ["billing.views.dashboard.search.invoices"]

    def ready(self) -> None:
        # Connected here, not at import: receivers need the models loaded. Billing listens to
        # sales' transitions (sales never imports billing: dependency order).
        from billing import events
        from billing.receivers import connect

        connect()
        events.register()  # how invoices and credit notes appear on timelines
