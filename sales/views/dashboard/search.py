"""What the dashboard's global search finds in sales (declared on SalesConfig.dashboard_search,
see tenants/accounts/search.py): orders, quotes and customers, by the same words their lists
filter on; nothing the user's role may not open. One query each."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from sales.selectors import customers_for_dashboard, orders_for_dashboard, quotes_for_dashboard
from sales.views.dashboard.common import format_day, money
from tenants.accounts.search import SearchGroup, SearchHit, search_group


def orders(request: HttpRequest, q: str) -> SearchGroup | None:
    if not request.user.has_perm("sales.view_order"):
        return None
    return search_group(
        orders_for_dashboard(q=q),
        lambda order: SearchHit(
            label=order.number, url=reverse("sales_dashboard:order_detail", args=[order.pk]),
            detail=" · ".join((order.customer.display_name, money(order.gross_total,
                                                                   order.currency),
                               format_day(order.placed_at))),
            status=order.status, status_label=order.get_status_display()),
        title=_("Orders"), q=q, list_url="sales_dashboard:order_list", position=10)


def quotes(request: HttpRequest, q: str) -> SearchGroup | None:
    if not request.user.has_perm("sales.view_quote"):
        return None
    return search_group(
        quotes_for_dashboard(q=q),
        lambda quote: SearchHit(
            label=quote.reference, url=reverse("sales_dashboard:quote_detail", args=[quote.pk]),
            detail=" · ".join((quote.customer.display_name,
                               money(quote.gross_total, quote.currency))),
            status=quote.status, status_label=quote.get_status_display()),
        title=_("Quotes"), q=q, list_url="sales_dashboard:quote_list", position=20)


def customers(request: HttpRequest, q: str) -> SearchGroup | None:
    if not request.user.has_perm("sales.view_customer"):
        return None
    return search_group(
        customers_for_dashboard(q=q),
        lambda customer: SearchHit(
            label=customer.display_name,
            url=reverse("sales_dashboard:customer_detail", args=[customer.pk]),
            detail=customer.email),
        title=_("Customers"), q=q, list_url="sales_dashboard:customer_list",
        position=30)
