from django.urls import path

from catalog.views import storefront

app_name = "catalog"
urlpatterns = [
    path("", storefront.storefront_home, name="home"),
]
