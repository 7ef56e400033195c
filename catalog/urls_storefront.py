from django.urls import path

from catalog.views import storefront

app_name = "catalog"
urlpatterns = [
    path("", storefront.storefront_home, name="home"),
    path("c/<path:path>/", storefront.category_detail, name="category"),
    path("p/<slug:slug>/", storefront.product_detail, name="product"),
    path("projects/<slug:slug>/", storefront.project_detail, name="project"),
]
