from django.apps import AppConfig

_VIEW = ["sales.view_customer", "sales.view_quote", "sales.view_order",
         "sales.view_shippingmethod"]
_SELL = ["sales.add_customer", "sales.change_customer", "sales.add_quote", "sales.change_quote",
         "sales.send_quote", "sales.cancel_quote", "sales.convert_quote", "sales.confirm_order"]
_SHIP = ["sales.process_order", "sales.ship_order", "sales.deliver_order"]


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    # Who may do what (tenants/accounts/roles.py): sales confirms, warehouse ships, manager
    # cancels; the owner may do everything.
    role_permissions = {
        "manager": _VIEW + _SELL + _SHIP + ["sales.cancel_order", "sales.add_shippingmethod",
                                            "sales.change_shippingmethod"],
        "sales": _VIEW + _SELL,
        "warehouse": ["sales.view_order", "sales.view_customer"] + _SHIP,
        "accountant": _VIEW,
    }
    usage_counters = {"orders": "sales.selectors.order_count",
                      "customers": "sales.selectors.customer_count"}
    dashboard_widgets = ["sales.views.dashboard.sales_widget"]
    dashboard_search = ["sales.views.dashboard.search.orders", "sales.views.dashboard.search.quotes",
                        "sales.views.dashboard.search.customers"]
    demo_seed = "sales.demo.seed"
    demo_logins = ["Shop customer login: client@demo.example / demo-password-2026  on "
                   "the storefront (/account/login/)"]

    def ready(self) -> None:
        # Imported here: events.py imports the models, which are not loaded at import time.
        # How quotes, orders and customers appear on timelines (streams never imports sales).
        from sales import events, tickets

        events.register()
        tickets.register()  # what customers raise tickets about (their orders, their lots)
