from django.urls import path

from tenants.accounts import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("search/", views.dashboard_search, name="search"),
    path("staff/", views.staff_page, name="staff"),
    path("staff/invite/", views.staff_invite_view, name="staff_invite"),
    path("staff/<int:pk>/<str:action>/", views.staff_action, name="staff_action"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    path("settings/", views.shop_settings, name="settings"),
]
