"""/api/v1/products/{product_pk}/images/...: a product's images."""

from django.urls import path

from catalog.api_images import ProductImageDetail, ProductImageList, ProductImageMakeDefault

urlpatterns = [
    path("products/<int:product_pk>/images/", ProductImageList.as_view(), name="product-images"),
    path("products/<int:product_pk>/images/<int:pk>/", ProductImageDetail.as_view(),
         name="product-image"),
    path("products/<int:product_pk>/images/<int:pk>/make-default/",
         ProductImageMakeDefault.as_view(), name="product-image-make-default"),
]
