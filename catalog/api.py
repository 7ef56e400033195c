"""Catalog REST API: products of every kind, stock, categories, product types, projects, tax rates.

Serializers only check shapes (types, required fields, existing ids); every write goes through
the catalog services, whose CatalogError becomes a 400 with the same body as a serializer error:
`{"errors": {"<field or non_field_errors>": ["message"]}}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from catalog import selectors
from catalog.errors import CatalogError
from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    Product,
    ProductStatus,
    ProductType,
    Project,
    RealEstateLot,
    ServiceProduct,
    SpecDefinition,
    StockLevel,
    StockMovement,
    TaxRate,
    Vehicle,
)
from catalog.services.categories import (
    category_delete,
    category_save,
    product_type_save,
    spec_definition_add,
    spec_definition_delete,
)
from catalog.services.products import (
    product_create,
    product_duplicate,
    product_restore,
    product_update,
    products_archive,
)
from catalog.services.projects import project_delete, project_save
from catalog.services.stock import stock_adjust, stock_receive
from tenants.accounts.api_auth import IsShopStaff
from tenants.accounts.api_errors import ErrorsSerializer, api_exception_handler

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY

VIEW_PRODUCTS = "catalog.view_baseproduct"
ADD_PRODUCTS = "catalog.add_baseproduct"
CHANGE_PRODUCTS = "catalog.change_baseproduct"
ADJUST_STOCK = "catalog.adjust_stock"


# --- errors and permissions ----------------------------------------------------------------------

def error_response(error: CatalogError) -> Response:
    """A refused catalog operation as a 400, shaped like a serializer's validation errors."""
    return Response({"errors": {error.field or NON_FIELD: [error.message]}},
                    status=status.HTTP_400_BAD_REQUEST)


def catalog_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """CatalogError -> 400, then the API's handler (every 400 as `{"errors": ...}`, so
    clients read one shape whether the serializer or the service refused)."""
    if isinstance(exc, CatalogError):
        set_rollback()
        return error_response(exc)
    return api_exception_handler(exc, context)


class CatalogErrorsMixin:
    def get_exception_handler(self):
        return catalog_exception_handler


class RolePermissions(permissions.BasePermission):
    """The model permissions the staff member's role must grant: per action when the view
    names it in `permissions_by_action`, otherwise per HTTP method (`permissions_by_method`).
    A method the view handles but nobody mapped is refused: a new endpoint is closed until
    someone says who may use it."""

    message = gettext_lazy("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        by_action = getattr(view, "permissions_by_action", {})
        action_name = getattr(view, "action", None)
        if action_name in by_action:
            perms = by_action[action_name]
        else:
            perms = getattr(view, "permissions_by_method", {}).get(request.method)
        if perms is None:
            # No handler for this method either: let the view answer 405, not a misleading 403.
            return getattr(view, request.method.lower(), None) is None
        return request.user.has_perms(perms)


def _read_only(perms: list[str]) -> dict[str, list[str]]:
    return {"GET": perms, "HEAD": perms, "OPTIONS": perms}


# One error shape across the API, one schema component (tenants.accounts.api_errors).
ErrorSerializer = ErrorsSerializer


ERROR_400 = OpenApiResponse(ErrorSerializer, description="Refused: see `errors`.")


# --- products --------------------------------------------------------------------------------

class StockSerializer(serializers.ModelSerializer):
    available = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)

    class Meta:
        model = StockLevel
        fields = ["on_hand", "reserved", "available"]
        read_only_fields = fields


COMMON_FIELDS = ["id", "kind", "sku", "name", "slug", "description", "net_price", "gross_price",
                 "tax_rate", "unit", "category", "product_type", "specs", "status", "created_at",
                 "updated_at"]


def _kind_field(model: type[BaseProduct]) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[(model.KIND, model.KIND_LABEL)],
                                   help_text=gettext_lazy("The kind of product; never changes."))


class BaseProductSerializer(serializers.ModelSerializer):
    gross_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, source="get_price", read_only=True,
        help_text=gettext_lazy("Unit price including VAT."))
    specs = serializers.DictField(
        required=False,
        help_text=gettext_lazy("Specification values by code, as defined by the product type."))

    class Meta:
        model = BaseProduct
        fields = COMMON_FIELDS
        read_only_fields = ["id", "slug", "status", "created_at", "updated_at"]
        # Uniqueness (SKU, VIN, lot number) is the service's call: one message, whatever the
        # entry point (form, API, CSV import).
        validators: list = []
        extra_kwargs = {
            "sku": {"validators": []},
            "tax_rate": {"required": False,
                         "help_text": gettext_lazy("Defaults to the shop's default VAT rate.")},
            "description": {"help_text": gettext_lazy(
                "Basic HTML (paragraphs, lists, bold, links); anything else is removed.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and "kind" in self.fields:
            self.fields["kind"].required = False  # an update keeps the product's kind


class GoodsSerializer(BaseProductSerializer):
    kind = _kind_field(Product)
    stock = StockSerializer(read_only=True, allow_null=True)
    initial_stock = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, write_only=True, required=False,
        help_text=gettext_lazy("On create only: quantity received into stock."))

    class Meta(BaseProductSerializer.Meta):
        model = Product
        fields = COMMON_FIELDS + ["weight_kg", "length_cm", "width_cm", "height_cm",
                                  "low_stock_threshold", "stock", "initial_stock"]


class ServiceSerializer(BaseProductSerializer):
    kind = _kind_field(ServiceProduct)

    class Meta(BaseProductSerializer.Meta):
        model = ServiceProduct
        fields = COMMON_FIELDS + ["duration_minutes"]


class LotSerializer(BaseProductSerializer):
    kind = _kind_field(RealEstateLot)

    class Meta(BaseProductSerializer.Meta):
        model = RealEstateLot
        fields = COMMON_FIELDS + ["project", "lot_number", "surface_m2", "rooms", "floor",
                                  "orientation", "parking_spaces", "availability",
                                  "option_expires_at"]
        read_only_fields = BaseProductSerializer.Meta.read_only_fields + [
            "availability", "option_expires_at"]


class VehicleSerializer(BaseProductSerializer):
    kind = _kind_field(Vehicle)

    class Meta(BaseProductSerializer.Meta):
        model = Vehicle
        fields = COMMON_FIELDS + ["make", "model", "year", "mileage_km", "vin"]
        extra_kwargs = {**BaseProductSerializer.Meta.extra_kwargs, "vin": {"validators": []}}


SERIALIZER_BY_KIND: dict[str, type[BaseProductSerializer]] = {
    Product.KIND: GoodsSerializer,
    ServiceProduct.KIND: ServiceSerializer,
    RealEstateLot.KIND: LotSerializer,
    Vehicle.KIND: VehicleSerializer,
}
if set(SERIALIZER_BY_KIND) != set(PRODUCT_KINDS):
    raise ImproperlyConfigured("Every product kind needs an API serializer in catalog/api.py.")


class ProductSerializer(serializers.Serializer):
    """Output of a product of any kind: the real subclass instance picks its kind's
    serializer (one serializer per kind per list, not one per row)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_kind: dict[str, BaseProductSerializer] = {}

    def to_representation(self, instance: BaseProduct) -> dict[str, Any]:
        serializer = self._by_kind.get(instance.kind)
        if serializer is None:
            serializer = self._by_kind[instance.kind] = SERIALIZER_BY_KIND[instance.kind](
                context=self.context)
        return serializer.to_representation(instance)


def _product_schema(*, many: bool = False) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(component_name="Product", serializers=SERIALIZER_BY_KIND,
                                      resource_type_field_name="kind", many=many)


PRODUCT_SCHEMA = _product_schema()

GOODS_EXAMPLE = OpenApiExample(
    "Create goods", request_only=True,
    value={"kind": "goods", "sku": "BIKE-ROAD-54", "name": "Road bike 54 cm",
           "description": "<p>Aluminium frame, <strong>22 gears</strong>.</p>",
           "net_price": "749.00", "unit": "unit", "weight_kg": "9.200",
           "low_stock_threshold": "2", "initial_stock": "10"})
GOODS_RESPONSE_EXAMPLE = OpenApiExample(
    "Goods created", response_only=True, status_codes=["201"],
    value={"id": 42, "kind": "goods", "sku": "BIKE-ROAD-54", "name": "Road bike 54 cm",
           "slug": "road-bike-54-cm",
           "description": "<p>Aluminium frame, <strong>22 gears</strong>.</p>",
           "net_price": "749.00", "gross_price": "898.80", "tax_rate": 1, "unit": "unit",
           "category": None, "product_type": None, "specs": {}, "status": "active",
           "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z",
           "weight_kg": "9.200", "length_cm": None, "width_cm": None, "height_cm": None,
           "low_stock_threshold": "2.000",
           "stock": {"on_hand": "10.000", "reserved": "0.000", "available": "10.000"}})
LOT_EXAMPLE = OpenApiExample(
    "Create a real-estate lot", request_only=True,
    value={"kind": "lot", "sku": "JARDINS-A01", "name": "Les Jardins — lot A01 (T3)",
           "net_price": "245000.00", "tax_rate": 2, "unit": "unit", "project": 3,
           "lot_number": "A01", "surface_m2": "64.50", "rooms": 3, "floor": 1,
           "orientation": "S", "parking_spaces": 1})
LOT_RESPONSE_EXAMPLE = OpenApiExample(
    "Lot created", response_only=True, status_codes=["201"],
    value={"id": 43, "kind": "lot", "sku": "JARDINS-A01", "name": "Les Jardins — lot A01 (T3)",
           "slug": "les-jardins-lot-a01-t3", "description": "", "net_price": "245000.00",
           "gross_price": "294000.00", "tax_rate": 2, "unit": "unit", "category": None,
           "product_type": None, "specs": {}, "status": "active",
           "created_at": "2026-03-02T09:20:00Z", "updated_at": "2026-03-02T09:20:00Z",
           "project": 3, "lot_number": "A01", "surface_m2": "64.50", "rooms": 3, "floor": 1,
           "orientation": "S", "parking_spaces": 1, "availability": "available",
           "option_expires_at": None})
ERROR_EXAMPLE = OpenApiExample(
    "Duplicate SKU", response_only=True, status_codes=["400"],
    value={"errors": {"sku": ["This SKU is already used by another product."]}})

ORDERINGS = ["name", "-name", "net_price", "-net_price", "created_at", "-created_at"]


class ProductListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(kind, model.KIND_LABEL) for kind, model in PRODUCT_KINDS.items()],
        required=False)
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)
    category = serializers.IntegerField(
        required=False, help_text=gettext_lazy("A category id; its sub-categories are included."))
    q = serializers.CharField(required=False, allow_blank=True,
                              help_text=gettext_lazy("Part of the name or the SKU."))
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default="name")

    def validate_category(self, value: int) -> Category:
        category = selectors.categories_tree().filter(pk=value).first()
        if category is None:
            raise serializers.ValidationError(_("No category with this id."))
        return category


class MovementUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class StockMovementSerializer(serializers.ModelSerializer):
    by = MovementUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StockMovement
        fields = ["id", "kind", "on_hand_delta", "reserved_delta", "reason", "reference", "by",
                  "created_at"]
        read_only_fields = fields


class StockAdjustmentSerializer(serializers.Serializer):
    counted = serializers.DecimalField(max_digits=14, decimal_places=3,
                                       help_text=gettext_lazy("The quantity counted on hand."))
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text=gettext_lazy("Required: why the stock changes."))


class StockReceiptSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    reference = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=64,
                                      help_text=gettext_lazy("e.g. the supplier's delivery note"))


class StockLevelSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    available = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)

    class Meta:
        model = StockLevel
        fields = ["product", "on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


def _body(request) -> dict[str, Any]:
    if not isinstance(request.data, dict):  # QueryDict (forms) is a dict too
        raise CatalogError(_("Send one product as a JSON object."))
    return request.data


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List products", parameters=[ProductListQuerySerializer],
                       responses=_product_schema(many=True)),
    retrieve=extend_schema(summary="A product", parameters=[ID_PARAMETER],
                           responses=PRODUCT_SCHEMA),
    create=extend_schema(
        summary="Create a product of any kind",
        description="`kind` chooses the fields. Goods may give `initial_stock`.",
        request=PRODUCT_SCHEMA, responses={201: PRODUCT_SCHEMA, 400: ERROR_400},
        examples=[GOODS_EXAMPLE, GOODS_RESPONSE_EXAMPLE, LOT_EXAMPLE, LOT_RESPONSE_EXAMPLE,
                  ERROR_EXAMPLE]),
    update=extend_schema(summary="Replace a product's fields (its kind cannot change)",
                         parameters=[ID_PARAMETER], request=PRODUCT_SCHEMA,
                         responses={200: PRODUCT_SCHEMA, 400: ERROR_400}),
    partial_update=extend_schema(summary="Change some of a product's fields",
                                 parameters=[ID_PARAMETER], request=PRODUCT_SCHEMA,
                                 responses={200: PRODUCT_SCHEMA, 400: ERROR_400}),
)
@extend_schema(tags=["products"])
class ProductViewSet(CatalogErrorsMixin, viewsets.GenericViewSet):
    permission_classes = [IsShopStaff, RolePermissions]
    permissions_by_method = {**_read_only([VIEW_PRODUCTS]), "POST": [ADD_PRODUCTS],
                             "PUT": [CHANGE_PRODUCTS], "PATCH": [CHANGE_PRODUCTS]}
    permissions_by_action = {
        "archive": [CHANGE_PRODUCTS],
        "restore": [CHANGE_PRODUCTS],
        "duplicate": [ADD_PRODUCTS],
        "movements": [VIEW_PRODUCTS, "catalog.view_stockmovement"],
        "stock_adjustment": [ADJUST_STOCK],
        "stock_receipt": [ADJUST_STOCK],
    }
    serializer_class = ProductSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # Only for DRF's generic machinery (browsable API, schema); `list` filters its own.
        return selectors.products_for_dashboard()

    def get_object(self) -> BaseProduct:
        product = selectors.product_get(pk=int(self.kwargs["pk"]))
        if product is None:
            raise Http404
        return product

    def _output(self, product: BaseProduct, code: int = status.HTTP_200_OK) -> Response:
        # Re-read: services return the row they wrote, not what the detail shows (stock level,
        # tax rate), and list-style updates (archive) return nothing.
        product = selectors.product_get(pk=product.pk)
        return Response(ProductSerializer(product, context=self.get_serializer_context()).data,
                        status=code)

    def list(self, request):
        query = ProductListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = selectors.products_with_subclass_rows(selectors.products_for_dashboard(
            q=params.get("q", ""), kind=params.get("kind", ""), category=params.get("category"),
            status=params.get("status", ""), sort=params["ordering"]))
        page = [selectors.product_subclass_row(row) for row in self.paginate_queryset(rows)]
        return self.get_paginated_response(
            ProductSerializer(page, many=True, context=self.get_serializer_context()).data)

    def retrieve(self, request, pk=None):
        return Response(ProductSerializer(self.get_object(),
                                          context=self.get_serializer_context()).data)

    def create(self, request):
        kind = _body(request).get("kind")
        serializer_class = SERIALIZER_BY_KIND.get(kind) if isinstance(kind, str) else None
        if serializer_class is None:
            raise CatalogError(_("Choose the kind of product: %(kinds)s.")
                               % {"kinds": ", ".join(PRODUCT_KINDS)}, field="kind")
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("kind")
        initial_stock = data.pop("initial_stock", None)
        product = product_create(kind=kind, data=data, by=request.user,
                                 initial_stock=initial_stock)
        return self._output(product, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        product = self.get_object()
        kind = _body(request).get("kind")
        if kind is not None and kind != product.kind:
            raise CatalogError(_("A product's kind cannot change: create a new product instead."),
                               field="kind")
        if "initial_stock" in request.data:
            raise CatalogError(_("Initial stock is set on creation only: record a stock receipt "
                                 "or an adjustment instead."), field="initial_stock")
        serializer = SERIALIZER_BY_KIND[product.kind](
            product, data=request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("kind", None)
        product = product_update(product=product, data=data, by=request.user)
        return self._output(product)

    @extend_schema(summary="Archive a product (hidden from the shop, kept for history)",
                   parameters=[ID_PARAMETER], request=None, responses=PRODUCT_SCHEMA)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        product = self.get_object()
        products_archive(product_ids=[product.pk], by=request.user)
        return self._output(product)

    @extend_schema(summary="Restore an archived product",
                   description="Refused when the plan's product limit is reached, or for a "
                               "duplicated vehicle still carrying its placeholder VIN.",
                   parameters=[ID_PARAMETER], request=None,
                   responses={200: PRODUCT_SCHEMA, 400: ERROR_400})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        product = product_restore(product=self.get_object(), by=request.user)
        return self._output(product)

    @extend_schema(summary="Duplicate a product",
                   description="A copy with a new SKU and slug and no stock. A copied lot or "
                               "vehicle is archived until its unique fields are changed.",
                   parameters=[ID_PARAMETER], request=None,
                   responses={201: PRODUCT_SCHEMA, 400: ERROR_400})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        copy = product_duplicate(product=self.get_object(), by=request.user)
        return self._output(copy, status.HTTP_201_CREATED)

    @extend_schema(summary="Stock movements of a product, newest first", tags=["stock"],
                   parameters=[ID_PARAMETER], responses=StockMovementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def movements(self, request, pk=None):
        movements = selectors.stock_movements_for(product=self.get_object(), limit=None)
        page = self.paginate_queryset(movements)
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)

    @extend_schema(summary="Set on hand to a counted quantity (inventory)", tags=["stock"],
                   parameters=[ID_PARAMETER], request=StockAdjustmentSerializer,
                   responses={200: StockLevelSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Inventory count", request_only=True,
                                            value={"counted": "12", "reason": "Inventory count"})])
    @action(detail=True, methods=["post"], url_path="stock-adjustment")
    def stock_adjustment(self, request, pk=None):
        product = self.get_object()
        serializer = StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        level = stock_adjust(product=product, by=request.user, **serializer.validated_data)
        return Response(StockLevelSerializer(level).data)

    @extend_schema(summary="Receive stock (a delivery)", tags=["stock"],
                   parameters=[ID_PARAMETER], request=StockReceiptSerializer,
                   responses={200: StockLevelSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Delivery", request_only=True,
                                            value={"quantity": "24", "reason": "Supplier delivery",
                                                   "reference": "BL-2026-118"})])
    @action(detail=True, methods=["post"], url_path="stock-receipt")
    def stock_receipt(self, request, pk=None):
        product = self.get_object()
        serializer = StockReceiptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        level = stock_receive(product=product, by=request.user, **serializer.validated_data)
        return Response(StockLevelSerializer(level).data)


# --- categories and product types (written through catalog.services.categories) ----------------

class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=selectors.categories_tree(), allow_null=True, required=False,
        help_text=gettext_lazy("The parent category's id; empty for a top-level category."))

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path", "depth", "parent", "position"]
        read_only_fields = ["id", "path", "depth"]
        validators: list = []  # a slug taken under the same parent is the service's call
        extra_kwargs = {"slug": {"required": False, "allow_blank": True,
                                 "help_text": gettext_lazy("Made from the name when empty.")}}


class SpecDefinitionSerializer(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text=gettext_lazy("The options of a `choice` field."))

    class Meta:
        model = SpecDefinition
        fields = ["code", "label", "kind", "unit", "choices", "required", "position"]
        read_only_fields = ["position"]
        validators: list = []
        extra_kwargs = {"code": {"required": False, "allow_blank": True,
                                 "help_text": gettext_lazy("Made from the label when empty.")}}


class ProductTypeSerializer(serializers.ModelSerializer):
    specs = SpecDefinitionSerializer(many=True, read_only=True)

    class Meta:
        model = ProductType
        fields = ["id", "name", "specs"]
        read_only_fields = ["id", "specs"]
        extra_kwargs = {"name": {"validators": []}}


class _CatalogViewSet(CatalogErrorsMixin, viewsets.GenericViewSet):
    permission_classes = [IsShopStaff, RolePermissions]
    lookup_value_regex = r"\d+"


def _crud_permissions(model: str) -> dict[str, list[str]]:
    return {**_read_only([f"catalog.view_{model}"]), "POST": [f"catalog.add_{model}"],
            "PUT": [f"catalog.change_{model}"], "PATCH": [f"catalog.change_{model}"],
            "DELETE": [f"catalog.delete_{model}"]}


@extend_schema_view(
    create=extend_schema(responses={201: CategorySerializer, 400: ERROR_400}),
    update=extend_schema(responses={200: CategorySerializer, 400: ERROR_400}),
    partial_update=extend_schema(responses={200: CategorySerializer, 400: ERROR_400}),
    destroy=extend_schema(summary="Delete a category (its products lose their category)",
                          responses={204: None, 400: ERROR_400}),
)
@extend_schema(tags=["categories"])
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _CatalogViewSet):
    serializer_class = CategorySerializer
    permissions_by_method = _crud_permissions("category")

    def get_queryset(self):
        return selectors.categories_tree()

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = category_save(**serializer.validated_data)
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        category = self.get_object()
        serializer = self.get_serializer(category, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        # The service saves the whole node: what the request leaves out stays as it was.
        data = {"name": category.name, "slug": category.slug, "parent": category.parent,
                "position": category.position, **serializer.validated_data}
        category = category_save(category=category, **data)
        return Response(self.get_serializer(category).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        category_delete(category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema_view(
    create=extend_schema(responses={201: ProductTypeSerializer, 400: ERROR_400}),
    update=extend_schema(responses={200: ProductTypeSerializer, 400: ERROR_400}),
    partial_update=extend_schema(responses={200: ProductTypeSerializer, 400: ERROR_400}),
)
@extend_schema(tags=["product types"])
class ProductTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _CatalogViewSet):
    serializer_class = ProductTypeSerializer
    permissions_by_method = _crud_permissions("producttype")
    # Specification fields are part of their type: changing them is changing the type.
    permissions_by_action = {"spec_add": ["catalog.change_producttype"],
                             "spec_delete": ["catalog.change_producttype"]}

    def get_queryset(self):
        return selectors.product_types_with_specs()

    def _output(self, product_type: ProductType, code: int = status.HTTP_200_OK) -> Response:
        product_type = self.get_queryset().get(pk=product_type.pk)  # with its specs
        return Response(self.get_serializer(product_type).data, status=code)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product_type = product_type_save(name=serializer.validated_data["name"])
        return self._output(product_type, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        product_type = self.get_object()
        serializer = self.get_serializer(product_type, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.get("name", product_type.name)
        return self._output(product_type_save(name=name, product_type=product_type))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(summary="Add a specification field to a product type",
                   request=SpecDefinitionSerializer,
                   responses={201: SpecDefinitionSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Frame size", request_only=True, value={
                       "label": "Frame size", "kind": "choice", "choices": ["S", "M", "L"],
                       "required": True})])
    @action(detail=True, methods=["post"], url_path="specs")
    def spec_add(self, request, pk=None):
        product_type = self.get_object()
        serializer = SpecDefinitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        definition = spec_definition_add(product_type=product_type, **serializer.validated_data)
        return Response(SpecDefinitionSerializer(definition).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a specification field (and its values from the products)",
                   parameters=[CODE_PARAMETER], request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"specs/(?P<code>[-\w]+)")
    def spec_delete(self, request, pk=None, code=None):
        definition = next((d for d in self.get_object().specs.all() if d.code == code), None)
        if definition is None:
            raise Http404
        spec_definition_delete(definition=definition)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- programmes (written through catalog.services.projects) and tax rates (read-only) -----------

# Its own schema component: products and programmes both have a `status` with different
# choices, and drf-spectacular warns about the enum name collision (failing `check --deploy`)
# unless each set is named (here, or in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
@extend_schema_field({"type": "string", "enum": Project.Status.values},
                     component_name="ProjectStatus")
class ProjectStatusField(serializers.ChoiceField):
    pass


class ProjectSerializer(serializers.ModelSerializer):
    status = ProjectStatusField(
        choices=Project.Status.choices, required=False,
        help_text=gettext_lazy("planning (the default), under_construction or completed."))

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "status", "address", "city", "delivery_date",
                  "description", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]
        extra_kwargs = {
            "description": {"help_text": gettext_lazy(
                "Basic HTML (paragraphs, lists, bold, links); anything else is removed.")},
        }


class TaxRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaxRate
        fields = ["id", "name", "rate", "is_default"]
        read_only_fields = fields


PROJECT_EXAMPLE = OpenApiExample(
    "Create a programme", request_only=True,
    value={"name": "Les Jardins de la Saône", "status": "under_construction",
           "address": "12 quai Rambaud", "city": "Lyon", "delivery_date": "2027-06-30",
           "description": "<p>48 flats from studio to 5 rooms, <strong>RE2020</strong>.</p>"})
PROJECT_RESPONSE_EXAMPLE = OpenApiExample(
    "Programme created", response_only=True, status_codes=["201"],
    value={"id": 3, "name": "Les Jardins de la Saône", "slug": "les-jardins-de-la-saone",
           "status": "under_construction", "address": "12 quai Rambaud", "city": "Lyon",
           "delivery_date": "2027-06-30",
           "description": "<p>48 flats from studio to 5 rooms, <strong>RE2020</strong>.</p>",
           "created_at": "2026-03-02T09:10:00Z"})
PROJECT_UPDATE_EXAMPLE = OpenApiExample(
    "Works have started", request_only=True,
    value={"status": "under_construction", "delivery_date": "2027-09-30"})
PROJECT_ERROR_EXAMPLE = OpenApiExample(
    "No name", response_only=True, status_codes=["400"],
    value={"errors": {"name": ["This field may not be blank."]}})
PROJECT_HAS_LOTS_EXAMPLE = OpenApiExample(
    "Programme with lots", response_only=True, status_codes=["400"],
    value={"errors": {NON_FIELD: [
        "This programme has 12 lots: move or delete them before deleting the programme."]}})


@extend_schema_view(
    create=extend_schema(summary="Create a programme",
                         description="The slug is made from the name (unique in the shop).",
                         responses={201: ProjectSerializer, 400: ERROR_400},
                         examples=[PROJECT_EXAMPLE, PROJECT_RESPONSE_EXAMPLE,
                                   PROJECT_ERROR_EXAMPLE]),
    update=extend_schema(summary="Update a programme (fields left out stay as they are)",
                         responses={200: ProjectSerializer, 400: ERROR_400},
                         examples=[PROJECT_EXAMPLE, PROJECT_ERROR_EXAMPLE]),
    partial_update=extend_schema(summary="Change some of a programme's fields",
                                 responses={200: ProjectSerializer, 400: ERROR_400},
                                 examples=[PROJECT_UPDATE_EXAMPLE, PROJECT_ERROR_EXAMPLE]),
    destroy=extend_schema(summary="Delete a programme that has no lots (its images too)",
                          responses={204: None, 400: ERROR_400},
                          examples=[PROJECT_HAS_LOTS_EXAMPLE]),
)
@extend_schema(tags=["projects"])
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _CatalogViewSet):
    serializer_class = ProjectSerializer
    permissions_by_method = _crud_permissions("project")

    def get_queryset(self):
        return selectors.projects_list()

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_save(data=serializer.validated_data, by=request.user)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        project = self.get_object()
        serializer = self.get_serializer(project, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        # The service changes only the fields given: what a PATCH leaves out stays as it was.
        project = project_save(data=serializer.validated_data, project=project,
                               by=request.user)
        return Response(self.get_serializer(project).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        project_delete(project=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["tax rates"])
class TaxRateViewSet(mixins.ListModelMixin, _CatalogViewSet):
    serializer_class = TaxRateSerializer
    # Whoever may read products needs the rates their prices refer to.
    permissions_by_method = _read_only([VIEW_PRODUCTS])

    def get_queryset(self):
        return selectors.tax_rates_list()
