from django.contrib.auth import views as auth_views
from django.urls import path

from tenants.accounts.forms import EmailLoginForm
from tenants.accounts.throttling import ThrottledLoginView
from tenants.views import console

app_name = "console"
urlpatterns = [
    path("", console.shop_list, name="shop_list"),
    path("login/", ThrottledLoginView.as_view(
        template_name="tenants/console/login.html", authentication_form=EmailLoginForm,
        redirect_authenticated_user=True, next_page="console:shop_list"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("shops/new/", console.shop_create, name="shop_create"),
    path("shops/<int:pk>/", console.shop_detail, name="shop_detail"),
    path("shops/<int:pk>/plan/", console.shop_plan, name="shop_plan"),
    path("shops/<int:pk>/<str:action>/", console.shop_transition, name="shop_transition"),
    path("pool/", console.pool, name="pool"),
    path("audit/", console.audit, name="audit"),
]
