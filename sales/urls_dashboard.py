"""Staff dashboard for sales: orders, quotes, customers, shipping methods (namespace
`sales_dashboard`, under /dashboard/sales/)."""

from django.urls import path

from sales.views import dashboard as views

app_name = "sales_dashboard"
urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/transition/<str:action>/", views.order_transition_view,
         name="order_transition"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_new, name="quote_new"),
    path("quotes/products/", views.quote_product_search, name="quote_product_search"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/lines/add/", views.quote_line_add_view, name="quote_line_add"),
    path("quotes/<int:pk>/lines/<int:line_pk>/", views.quote_line_edit, name="quote_line_edit"),
    path("quotes/<int:pk>/lines/<int:line_pk>/remove/", views.quote_line_remove_view,
         name="quote_line_remove"),
    path("quotes/<int:pk>/<str:action>/", views.quote_action, name="quote_action"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_new, name="customer_new"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/addresses/new/", views.address_new, name="address_new"),
    path("customers/<int:pk>/addresses/<int:address_pk>/", views.address_edit,
         name="address_edit"),
    path("customers/<int:pk>/addresses/<int:address_pk>/delete/", views.address_delete_view,
         name="address_delete"),
    path("shipping/", views.shipping_list, name="shipping_list"),
    path("shipping/new/", views.shipping_new, name="shipping_new"),
    path("shipping/<int:pk>/", views.shipping_edit, name="shipping_edit"),
]
