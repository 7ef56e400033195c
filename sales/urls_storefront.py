"""Storefront: cart and checkout (shop host, namespace `sales_store`)."""

from django.urls import path

from sales.views import storefront

app_name = "sales_store"
urlpatterns = [
    path("cart/", storefront.cart_page, name="cart"),
    path("cart/add/", storefront.cart_add_view, name="cart_add"),
    path("cart/lines/<int:line_id>/", storefront.cart_line_update, name="cart_line"),
    path("cart/lines/<int:line_id>/remove/", storefront.cart_line_remove,
         name="cart_line_remove"),
    path("cart/quote/", storefront.cart_quote_request, name="cart_quote"),
    path("checkout/", storefront.checkout_details, name="checkout"),
    path("checkout/review/", storefront.checkout_review, name="checkout_review"),
    path("checkout/place/", storefront.checkout_place, name="checkout_place"),
    path("checkout/done/<str:number>/", storefront.checkout_done, name="checkout_done"),
]
