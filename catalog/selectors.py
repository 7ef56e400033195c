"""Reads of the catalog shared by the dashboard, the storefront and the API.

Lists use the base table (non-polymorphic) with the kind read from `polymorphic_ctype` and the
few subclass fields a row shows joined in, so a page costs the same few queries whatever its
length; detail pages load the real subclass.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet

from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    LotAvailability,
    ProductImage,
    ProductStatus,
    ProductType,
    Project,
    RealEstateLot,
    StockLevel,
    StockMovement,
    TaxRate,
)

STOCK_STATES = ("in_stock", "low", "out")


def product_count() -> int:
    return BaseProduct.objects.exclude(status=ProductStatus.ARCHIVED).count()


_KINDS_BY_SCHEMA: dict[str, dict[int, str]] = {}


def kind_by_ctype() -> dict[int, str]:
    """content type id -> kind code for the current shop. django-tenants empties ContentType's
    cache at every schema switch (each request), so this keeps its own per-schema memo: the ids
    never change for a schema (schema names are random and never reused)."""
    schema = connection.schema_name
    mapping = _KINDS_BY_SCHEMA.get(schema)
    if mapping is None:
        ctypes = ContentType.objects.get_for_models(*PRODUCT_KINDS.values())
        mapping = {ctypes[model].pk: kind for kind, model in PRODUCT_KINDS.items()}
        _KINDS_BY_SCHEMA[schema] = mapping
    return mapping


def _default_images() -> Prefetch:
    return Prefetch("images", queryset=ProductImage.objects.filter(is_default=True),
                    to_attr="default_images")


def _list_queryset() -> QuerySet[BaseProduct]:
    return (BaseProduct.objects.non_polymorphic()
            .select_related("tax_rate", "category", "stock", "realestatelot")
            .prefetch_related(_default_images()))


def products_for_dashboard(*, q: str = "", kind: str = "", category: Category | None = None,
                           status: str = "", stock_state: str = "", sort: str = "name"
                           ) -> QuerySet[BaseProduct]:
    qs = _list_queryset()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    if kind in PRODUCT_KINDS:
        ctype = ContentType.objects.get_for_model(PRODUCT_KINDS[kind])
        qs = qs.filter(polymorphic_ctype=ctype)
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__path__startswith=f"{category.path}/"))
    if status in ProductStatus.values:
        qs = qs.filter(status=status)
    if stock_state == "out":
        qs = qs.filter(stock__on_hand__lte=F("stock__reserved"))
    elif stock_state == "low":
        qs = qs.filter(stock__on_hand__gt=F("stock__reserved"),
                       product__low_stock_threshold__gte=F("stock__on_hand") - F("stock__reserved"))
    elif stock_state == "in_stock":
        qs = qs.filter(stock__on_hand__gt=F("stock__reserved"))
    return qs.order_by(sort, "id")


def products_for_storefront(*, q: str = "", category: Category | None = None,
                            kind: str = "", sort: str = "name") -> QuerySet[BaseProduct]:
    qs = _list_queryset().filter(status=ProductStatus.ACTIVE)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(sku__iexact=q))
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__path__startswith=f"{category.path}/"))
    if kind in PRODUCT_KINDS:
        qs = qs.filter(polymorphic_ctype=ContentType.objects.get_for_model(PRODUCT_KINDS[kind]))
    return qs.order_by(sort, "id")


def product_get(*, pk: int) -> BaseProduct | None:
    """The real subclass, with what its detail page shows."""
    return (BaseProduct.objects.select_related("tax_rate", "category", "product_type", "stock")
            .prefetch_related("images").filter(pk=pk).first())


def product_get_for_storefront(*, slug: str) -> BaseProduct | None:
    return (BaseProduct.objects.select_related("tax_rate", "category", "product_type", "stock")
            .prefetch_related("images").filter(slug=slug, status=ProductStatus.ACTIVE).first())


def stock_movements_for(*, product: BaseProduct, limit: int | None = 50) -> QuerySet[StockMovement]:
    qs = StockMovement.objects.filter(product=product).select_related("by")
    return qs[:limit] if limit else qs


def low_stock(*, limit: int = 10) -> list[BaseProduct]:
    """Stocked goods at or under their threshold, most urgent first."""
    levels = (StockLevel.objects.select_related("product", "product__product")
              .filter(product__status=ProductStatus.ACTIVE,
                      product__product__isnull=False,
                      product__product__low_stock_threshold__gte=F("on_hand") - F("reserved"))
              .annotate(free=F("on_hand") - F("reserved"))
              .order_by("free", "product__name")[:limit])
    return list(levels)


def categories_tree() -> QuerySet[Category]:
    return Category.objects.order_by("path")


def category_by_path(path: str) -> Category | None:
    return Category.objects.filter(path=path.strip("/")).first()


def projects_list() -> QuerySet[Project]:
    return Project.objects.prefetch_related(
        Prefetch("images", queryset=Project.images.rel.related_model.objects.filter(
            is_default=True), to_attr="default_images"))


def project_lots(*, project: Project, public: bool = False) -> QuerySet[RealEstateLot]:
    qs = RealEstateLot.objects.filter(project=project).select_related("tax_rate")
    if public:
        qs = qs.filter(status=ProductStatus.ACTIVE)
    return qs.order_by("floor", "lot_number")


def lot_availability_counts(*, project: Project) -> dict[str, int]:
    counts = {state: 0 for state in LotAvailability.values}
    for state in project_lots(project=project).values_list("availability", flat=True):
        counts[state] += 1
    return counts



# --- api (catalog REST API) -------------------------------------------------------------------

def products_with_subclass_rows(qs: QuerySet[BaseProduct]) -> QuerySet[BaseProduct]:
    """A product list whose rows carry their real subclass row (see `product_subclass_row`):
    LEFT JOINs to every kind's table, with what each kind shows (VAT rate, stock level), so a
    page is one query whatever its length and its mix of kinds. The kind is read from the
    joined content type: django-tenants clears ContentType's cache on every request, so
    looking content types up (as `kind_by_ctype` does) would cost a query per kind."""
    related = ["polymorphic_ctype"]
    for model in PRODUCT_KINDS.values():
        name = model._meta.model_name
        related.append(f"{name}__tax_rate")
        if model.STOCKED:
            related.append(f"{name}__stock")
    return qs.select_related(None).prefetch_related(None).select_related(*related)


def product_subclass_row(row: BaseProduct) -> BaseProduct:
    """The real subclass instance of a row of `products_with_subclass_rows` (no query)."""
    return getattr(row, row.polymorphic_ctype.model)


def product_types_with_specs() -> QuerySet[ProductType]:
    return ProductType.objects.prefetch_related("specs").order_by("name")


def tax_rates_list() -> QuerySet[TaxRate]:
    return TaxRate.objects.order_by("-rate", "id")


# ---------------------------------------------------------------------------------------------
# Storefront (store)
# ---------------------------------------------------------------------------------------------


def project_get_for_storefront(*, slug: str) -> Project | None:
    return (Project.objects.prefetch_related("images")
            .filter(slug=slug).first())


# ---------------------------------------------------------------------------------------------
# Images (product and project images)
# ---------------------------------------------------------------------------------------------
def image_owner_get(*, kind: str, pk: int) -> BaseProduct | Project | None:
    """The product or project whose images a page shows: one query, base fields only."""
    if kind == "project":
        return Project.objects.filter(pk=pk).first()
    if kind == "product":
        return BaseProduct.objects.non_polymorphic().filter(pk=pk).first()
    return None


def images_of(*, owner: BaseProduct | Project) -> QuerySet:
    """The owner's images, main image first, then in the order staff gave them."""
    return owner.images.order_by("-is_default", "position", "pk")


def image_get(*, owner: BaseProduct | Project, pk: int):
    """One of this owner's images (a ProductImage or ProjectImage); None for an id that belongs
    to another owner."""
    return owner.images.filter(pk=pk).first()
