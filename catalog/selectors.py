"""Reads of the catalog shared by the dashboard, the storefront and the API.

Lists use the base table (non-polymorphic) with the kind read from `polymorphic_ctype` and the
few subclass fields a row shows joined in, so a page costs the same few queries whatever its
length; detail pages load the real subclass.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _dashboard_filter(qs: QuerySet[BaseProduct], *, q: str, kind: str,
                      category: Category | None, status: str, stock_state: str
                      ) -> QuerySet[BaseProduct]:
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    if kind in PRODUCT_KINDS:
        # By the content type's natural key, joined: no content type lookup (django-tenants
        # empties ContentType's cache on every request, so get_for_model would be a query).
        meta = PRODUCT_KINDS[kind]._meta
        qs = qs.filter(polymorphic_ctype__app_label=meta.app_label,
                       polymorphic_ctype__model=meta.model_name)
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
    return qs


def products_for_dashboard(*, q: str = "", kind: str = "", category: Category | None = None,
                           status: str = "", stock_state: str = "", sort: str = "name"
                           ) -> QuerySet[BaseProduct]:
    qs = _dashboard_filter(_list_queryset(), q=q, kind=kind, category=category, status=status,
                           stock_state=stock_state)
    return qs.order_by(sort, "id")


# --- dashboard product list: one query per page -----------------------------------------------
KIND_BY_MODEL_NAME = {model._meta.model_name: kind for kind, model in PRODUCT_KINDS.items()}
# Columns a sort may use (catalog.forms.PRODUCT_SORTS); the filtered rows carry them.
_SORTABLE = ("name", "sku", "net_price", "updated_at")
# One page of rows, with the total. {filtered} is the ORM's SQL for the filtered products, read
# twice (the total, and the page's ids picked by {ids}); PostgreSQL inlines it each time, so its
# indexes serve both. A page past the end (a stale bookmark, the last page after a bulk
# archive) is read as the last page, which is what the paginator then shows: its offset is
# computed from the total in the same statement. What a row shows from other tables is read by
# scalar subqueries rather than joins: they run for the page's rows only, and they spare the
# planner a six-table join order search (which took longer than running the query).
_PAGE_SQL = """
WITH total AS (SELECT COUNT(*) AS n FROM ({filtered}) AS counted),
     page AS (SELECT LEAST(%s, GREATEST(n - 1, 0) / %s * %s) AS start FROM total)
SELECT p.id, p.name, p.sku, p.net_price, p.status,
       (SELECT c.name FROM catalog_category c WHERE c.id = p.category_id),
       (SELECT t.rate FROM catalog_taxrate t WHERE t.id = p.tax_rate_id),
       s.on_hand, s.reserved,
       (SELECT l.availability FROM catalog_realestatelot l WHERE l.baseproduct_ptr_id = p.id),
       (SELECT ct.model FROM django_content_type ct WHERE ct.id = p.polymorphic_ctype_id),
       (SELECT COALESCE(NULLIF(i.thumbnail, ''), i.image) FROM catalog_productimage i
         WHERE i.product_id = p.id AND i.is_default LIMIT 1),
       (SELECT n FROM total), (SELECT start FROM page)
FROM catalog_baseproduct p
LEFT JOIN catalog_stocklevel s ON s.product_id = p.id
WHERE p.id IN ({ids})
ORDER BY {outer_order}
"""
_PAGE_COLUMNS = ("pk", "name", "sku", "net_price", "status", "category_name", "tax_rate",
                 "on_hand", "reserved", "availability", "model", "main_image", "total", "offset")


def _order_sql(ordering: tuple[str, ...], table: str = "") -> str:
    parts = []
    for field in ordering:
        name = field.lstrip("-")
        if name not in (*_SORTABLE, "id"):
            raise ValueError(f"cannot sort the product list by {field!r}")
        column = f"{table}.{name}" if table else name
        parts.append(f"{column} {'DESC' if field.startswith('-') else 'ASC'}")
    return ", ".join(parts)


@dataclass
class DashboardProducts:
    """The staff product list, for `tenants.pagination.paginate`: `count()` and slicing as a
    queryset has, but the page comes with its total in one query.

    The paginator asks for the count first, then for the slice of the page; `page` says in
    advance which page that will be, so `count()` reads it, total included. A page past the
    end comes back as the last page, which is where the paginator then goes.

    Why raw SQL around the ORM's: building and compiling this page as one queryset (joins,
    two subqueries, a union) cost more CPU than the rest of the request. The filters stay the
    ORM's (`_dashboard_filter`, shared with the API); the SQL here is fixed but for the sort,
    which is checked against `_SORTABLE`.

    The unfiltered list sorted by name is what staff see first, and PostgreSQL would read and
    sort every product of the shop for it (the only index on name is (status, name)). Its ids
    are read per status instead: each branch walks that index and stops after offset + limit
    rows, and a merge of the branches keeps the order, so the page costs the same with 10 or
    10,000 products. Every product has one of ProductStatus's values (the services write only
    those), so the branches cover them all. A filtered list is left to the planner: walking
    the index for a search that matches a few products would read the whole index."""

    filtered: QuerySet[BaseProduct]
    ordering: tuple[str, ...]
    by_status: bool
    page: int
    per_page: int
    _rows: list[dict] | None = None
    _offset: int = 0
    _total: int | None = None

    def _fetch(self, offset: int, limit: int) -> list[dict]:
        filtered, params = (self.filtered.order_by().values("id", "status", *_SORTABLE)
                            .query.sql_with_params())
        order = _order_sql(self.ordering)
        start = "(SELECT start FROM page)"
        if self.by_status:
            branches = " UNION ALL ".join(
                f"(SELECT id, {', '.join(_SORTABLE)} FROM ({filtered}) AS f "  # noqa: S608
                f"WHERE status = %s ORDER BY {order} LIMIT {start} + %s)"
                for _status in ProductStatus.values)
            ids = f"SELECT id FROM ({branches}) AS b ORDER BY {order} LIMIT %s OFFSET {start}"  # noqa: S608
            ids_params = [value for status in ProductStatus.values
                          for value in (*params, status, limit)]
        else:
            ids = f"SELECT id FROM ({filtered}) AS f ORDER BY {order} LIMIT %s OFFSET {start}"  # noqa: S608
            ids_params = [*params]
        sql = _PAGE_SQL.format(filtered=filtered, ids=ids,
                               outer_order=_order_sql(self.ordering, table="p"))
        with connection.cursor() as cursor:
            # The filter is the ORM's compiled SQL with its own parameters; the rest is fixed
            # text and checked column names. Parameters in the order they appear.
            cursor.execute(sql, [*params, offset, limit, limit, *ids_params, limit])
            rows = [dict(zip(_PAGE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["kind"] = KIND_BY_MODEL_NAME.get(row["model"], "goods")
        return rows

    def count(self) -> int:
        if self._total is None:
            self._rows = self._fetch(max(self.page - 1, 0) * self.per_page, self.per_page)
            # No rows: none match (a page past the end would have come back as the last one).
            self._total = self._rows[0]["total"] if self._rows else 0
            self._offset = self._rows[0]["offset"] if self._rows else 0
        return self._total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict]:
        start, stop = index.start or 0, index.stop
        if self._rows is None or start != self._offset:
            self._offset, self._rows = start, self._fetch(start, stop - start)
        return self._rows[:stop - start]


def product_page_for_dashboard(*, q: str = "", kind: str = "", category: Category | None = None,
                               status: str = "", stock_state: str = "", sort: str = "name",
                               page: int = 1, per_page: int) -> DashboardProducts:
    """The staff product list, filtered and sorted, one page at a time: rows are dicts with
    _PAGE_COLUMNS and `kind`. Pass it to `tenants.pagination.paginate` with the same page
    number and page size."""
    filtered = _dashboard_filter(BaseProduct.objects.non_polymorphic(), q=q, kind=kind,
                                 category=category, status=status, stock_state=stock_state)
    ordering = (sort, "id")
    _order_sql(ordering)  # refuse an unknown sort now, not when the page is read
    unfiltered = not (q or kind in PRODUCT_KINDS or category is not None
                      or status in ProductStatus.values or stock_state in STOCK_STATES)
    by_status = unfiltered and sort.lstrip("-") == "name"
    return DashboardProducts(filtered=filtered, ordering=ordering, by_status=by_status,
                             page=page, per_page=per_page)


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


def category_choices() -> list[Category]:
    """Every category, tree order, with what a filter select needs (id, name; path to filter
    by subtree): one plain query (a form field's choices would use a server-side cursor)."""
    return list(Category.objects.order_by("path").only("pk", "name", "path"))


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
