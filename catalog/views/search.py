"""What the dashboard's global search finds in the catalog (declared on
CatalogConfig.dashboard_search, see tenants/accounts/search.py): products by name or SKU, as
the product list filters them. One query."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.selectors import products_for_dashboard
from tenants.accounts.search import SearchGroup, SearchHit, search_group


def products(request: HttpRequest, q: str) -> SearchGroup | None:
    if not request.user.has_perm("catalog.view_baseproduct"):
        return None
    rows = products_for_dashboard(q=q).prefetch_related(None)  # no images here
    return search_group(
        rows,
        lambda product: SearchHit(
            label=product.name,
            url=reverse("catalog_dashboard:product_detail", args=[product.pk]),
            detail=product.sku, status=product.status,
            status_label=product.get_status_display()),
        title=_("Products"),
        q=q, list_url="catalog_dashboard:product_list",
        position=50)
