"""API: a product's images. List and read with catalog.view_baseproduct; upload, delete and
choose the main image with catalog.change_baseproduct. Refusals answer
`{"errors": {"image": ["…"]}}` with status 400."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.errors import CatalogError
from catalog.models import BaseProduct, ProductImage
from catalog.selectors import image_get, image_owner_get, images_of
from catalog.services.images import (
    ALT_MAX_LENGTH,
    image_delete,
    image_set_default,
    product_image_add,
)
from tenants.accounts.api_auth import IsShopStaff
from tenants.accounts.api_errors import ErrorsSerializer


class CanViewOrChangeProducts(permissions.BasePermission):
    message = gettext_lazy("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        perm = ("catalog.view_baseproduct" if request.method in permissions.SAFE_METHODS
                else "catalog.change_baseproduct")
        return request.user.has_perm(perm)


class ProductImageSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "image_url", "thumbnail_url", "width", "height", "alt", "position",
                  "is_default", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, image: ProductImage) -> str:
        return self._absolute(image.image.url)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image: ProductImage) -> str | None:
        return self._absolute(image.thumbnail.url) if image.thumbnail else None

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ProductImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP; at most 10 MB and 40 megapixels. "
                                            "Checked by content, not by name.")
    alt = serializers.CharField(max_length=ALT_MAX_LENGTH, required=False, allow_blank=True,
                                default="", help_text="What the picture shows, for screen readers.")


ERRORS = ErrorsSerializer  # the API's one 400 shape


def _product_or_404(product_pk: int) -> BaseProduct:
    product = image_owner_get(kind="product", pk=product_pk)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def _image_or_404(product_pk: int, pk: int) -> ProductImage:
    image = image_get(owner=_product_or_404(product_pk), pk=pk)
    if image is None:
        raise NotFound(_("No such image."))
    return image


def _refused(exc: CatalogError) -> Response:
    return Response({"errors": {exc.field or "image": [exc.message]}},
                    status=status.HTTP_400_BAD_REQUEST)


@extend_schema(tags=["product images"])
class ProductImageList(generics.ListAPIView):
    permission_classes = [IsShopStaff, CanViewOrChangeProducts]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ProductImageSerializer

    def get_queryset(self):
        return images_of(owner=_product_or_404(self.kwargs["product_pk"]))

    @extend_schema(summary="A product's images, main image first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Upload an image (multipart); the first one becomes the main image",
        request={"multipart/form-data": ProductImageUploadSerializer},
        responses={201: ProductImageSerializer, 400: ERRORS},
    )
    def post(self, request, product_pk: int):
        product = _product_or_404(product_pk)
        upload = ProductImageUploadSerializer(data=request.data)
        if not upload.is_valid():
            return Response({"errors": upload.errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            image = product_image_add(product=product, upload=upload.validated_data["image"],
                                      alt=upload.validated_data["alt"], by=request.user)
        except CatalogError as exc:
            return _refused(exc)
        return Response(ProductImageSerializer(image, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


@extend_schema(tags=["product images"])
class ProductImageDetail(APIView):
    permission_classes = [IsShopStaff, CanViewOrChangeProducts]
    serializer_class = ProductImageSerializer

    @extend_schema(summary="One image", responses=ProductImageSerializer)
    def get(self, request, product_pk: int, pk: int):
        image = _image_or_404(product_pk, pk)
        return Response(ProductImageSerializer(image, context={"request": request}).data)

    @extend_schema(summary="Delete an image; deleting the main image promotes the next one",
                   responses={204: None, 400: ERRORS})
    def delete(self, request, product_pk: int, pk: int):
        try:
            image_delete(image=_image_or_404(product_pk, pk))
        except CatalogError as exc:
            return _refused(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["product images"])
class ProductImageMakeDefault(APIView):
    permission_classes = [IsShopStaff, CanViewOrChangeProducts]

    @extend_schema(summary="Make this image the product's main image", request=None,
                   responses={200: ProductImageSerializer, 400: ERRORS})
    def post(self, request, product_pk: int, pk: int):
        try:
            image = image_set_default(image=_image_or_404(product_pk, pk))
        except CatalogError as exc:
            return _refused(exc)
        return Response(ProductImageSerializer(image, context={"request": request}).data)
