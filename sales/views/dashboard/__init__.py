"""The staff dashboard of the sales pipeline (namespace `sales_dashboard`, under
/dashboard/sales/), one module per page family."""

from sales.views.dashboard.customers import (
    address_delete_view,
    address_edit,
    address_new,
    customer_detail,
    customer_edit,
    customer_list,
    customer_new,
)
from sales.views.dashboard.home import sales_widget
from sales.views.dashboard.orders import order_detail, order_list, order_transition_view
from sales.views.dashboard.quotes import (
    quote_action,
    quote_detail,
    quote_line_add_view,
    quote_line_edit,
    quote_line_remove_view,
    quote_list,
    quote_new,
    quote_product_search,
)
from sales.views.dashboard.shipping import shipping_edit, shipping_list, shipping_new

__all__ = [
    "address_delete_view", "address_edit", "address_new", "customer_detail", "customer_edit",
    "customer_list", "customer_new", "order_detail", "order_list", "order_transition_view",
    "quote_action", "quote_detail", "quote_line_add_view", "quote_line_edit",
    "quote_line_remove_view", "quote_list", "quote_new", "quote_product_search", "sales_widget",
    "shipping_edit", "shipping_list", "shipping_new",
]
