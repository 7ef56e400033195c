"""Card payments for customers: start Stripe Checkout for an order or an invoice, and the
return page that waits for the webhook (under /pay/)."""

from django.urls import path

from billing.views import pay

app_name = "billing_pay"
urlpatterns = [
    path("order/<str:number>/", pay.pay_order, name="order"),
    path("order/<str:number>/transfer/", pay.pay_order_by_transfer, name="order_transfer"),
    path("invoice/<int:pk>/", pay.pay_invoice, name="invoice"),
    path("return/<int:payment_id>/", pay.pay_return, name="return"),
    path("cancelled/<int:payment_id>/", pay.pay_cancelled, name="cancelled"),
]
