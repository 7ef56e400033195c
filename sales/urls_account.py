"""Customer accounts on the storefront: sign-up, sign-in, orders, quotes, addresses
(namespace `sales_account`, under /account/)."""

from django.urls import path

from sales.views import account

app_name = "sales_account"
urlpatterns = [
    path("", account.home, name="home"),
    path("signup/", account.signup, name="signup"),
    path("login/", account.CustomerLoginView.as_view(), name="login"),
    path("logout/", account.sign_out, name="logout"),
    path("password/reset/", account.password_reset, name="password_reset"),
    path("password/reset/sent/", account.password_reset_done, name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", account.password_reset_confirm,
         name="password_reset_confirm"),
    path("orders/", account.orders, name="orders"),
    path("orders/<str:number>/", account.order_detail, name="order_detail"),
    path("quotes/", account.quotes, name="quotes"),
    path("quotes/<int:pk>/", account.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/accept/", account.quote_accept_view, name="quote_accept"),
    path("quotes/<int:pk>/decline/", account.quote_decline_view, name="quote_decline"),
    path("addresses/", account.addresses, name="addresses"),
    path("addresses/new/", account.address_form, name="address_new"),
    path("addresses/<int:pk>/", account.address_form, name="address_edit"),
    path("addresses/<int:pk>/delete/", account.address_delete_view, name="address_delete"),
]
