from django.apps import AppConfig

_VIEW = ["catalog.view_baseproduct", "catalog.view_category", "catalog.view_producttype",
         "catalog.view_project", "catalog.view_stocklevel", "catalog.view_stockmovement"]
_EDIT = ["catalog.add_baseproduct", "catalog.change_baseproduct", "catalog.add_category",
         "catalog.change_category", "catalog.delete_category", "catalog.add_producttype",
         "catalog.change_producttype", "catalog.delete_producttype", "catalog.add_project",
         "catalog.change_project", "catalog.import_products"]


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog and inventory"

    # What each staff role may do here (tenants/accounts/roles.py); the owner may do all.
    role_permissions = {
        "manager": _VIEW + _EDIT + ["catalog.adjust_stock"],
        "sales": _VIEW,
        "warehouse": _VIEW + ["catalog.adjust_stock"],
        "accountant": _VIEW,
    }
    # Counted in the platform console (tenants.selectors.shop_usage), in the shop's schema.
    usage_counters = {"products": "catalog.selectors.product_count"}
    # Contributions to the dashboard home (tenants.accounts.views.dashboard_home).
    dashboard_widgets = ["catalog.views.dashboard.low_stock_widget"]
    dashboard_search = ["catalog.views.search.products"]
    onboarding_steps = "catalog.views.dashboard.onboarding_steps"
    # Demo data for `manage.py seed_demo`, run in the demo shop's schema.
    demo_seed = "catalog.demo.seed"

    def ready(self) -> None:
        # Imported here: the cache module imports models, which are not loaded at import time.
        from catalog import events
        from catalog.cache import connect_signals

        connect_signals()
        events.register()  # how products and programmes appear on timelines
