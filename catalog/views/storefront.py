"""Storefront pages (shop host): the catalog listing (all products or one category), the
product page (per kind) and the programme page.

The listing's main fragment is cached for anonymous visitors (catalog/cache.py explains the
invalidation); the shell around it (CSRF token of the language form, messages, user links) is
rendered for every request, so nothing personal is ever shared between visitors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import DecimalField, ExpressionWrapper, F, Value
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from catalog.cache import catalog_version
from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    ImageBase,
    LotAvailability,
    Project,
    RealEstateLot,
    SpecKind,
)
from catalog.pricing import currency_symbol, gross
from catalog.selectors import (
    categories_tree,
    category_by_path,
    kind_by_ctype,
    product_get_for_storefront,
    products_for_storefront,
    project_get_for_storefront,
    project_lots,
)
from tenants.pagination import paginate

PER_PAGE = 24  # a grid of 2, 3 or 4 columns stays full
LISTING_TEMPLATE = "catalog/storefront/catalog.html"
RESULTS_ID = "catalog-results"
BODY_ID = "catalog-body"

# Price incl. VAT, computed by the database so that sorting and the shown price agree even
# when products carry different VAT rates.
_GROSS = ExpressionWrapper(F("net_price") * (Value(Decimal("100")) + F("tax_rate__rate")),
                           output_field=DecimalField(max_digits=20, decimal_places=4))
SORTS = {
    "name": ("name", _lazy("Name")),
    "price": (_GROSS.asc(), _lazy("Price: low to high")),
    "-price": (_GROSS.desc(), _lazy("Price: high to low")),
    "new": ("-created_at", _lazy("Newest first")),
}
DEFAULT_SORT = "name"
PROJECT_STATUS_BADGES = {
    Project.Status.PLANNING: "planned",
    Project.Status.UNDER_CONSTRUCTION: "in_progress",
    Project.Status.COMPLETED: "completed",
}


# ---------------------------------------------------------------------------------------------
# Availability and prices of listed rows
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Availability:
    state: str  # "available", "out_of_stock" or a lot's availability
    label: str
    available: bool


def availability_of(product: BaseProduct, kind: str) -> Availability:
    """Can a customer buy it now? Works on list rows (base class with `stock` and
    `realestatelot` joined by the selector) and on real subclasses alike, without a query."""
    if kind == RealEstateLot.KIND:
        lot = product if isinstance(product, RealEstateLot) else getattr(product, "realestatelot",
                                                                        None)
        state = lot.availability if lot is not None else LotAvailability.SOLD
        return Availability(state, str(LotAvailability(state).label),
                            state == LotAvailability.AVAILABLE)
    if PRODUCT_KINDS[kind].STOCKED:
        # A missing level (never stocked) reads as None: the reverse one-to-one raises an
        # AttributeError subclass, and select_related already said there is no row.
        level = getattr(product, "stock", None)
        if level is not None and level.available > 0:
            return Availability("in_stock", _("In stock"), True)
        return Availability("out_of_stock", _("Out of stock"), False)
    return Availability("available", _("Available"), True)


@dataclass(frozen=True)
class ProductCard:
    product: BaseProduct
    kind: str
    kind_label: str
    price: Decimal
    availability: Availability
    image_url: str
    image_alt: str
    url: str


def _image_urls(image: ImageBase) -> tuple[str, str]:
    """(thumbnail, full image): a thumbnail not made yet falls back to the image itself."""
    full = image.image.url
    return (image.thumbnail.url if image.thumbnail else full), full


def _cards(rows: list[BaseProduct], currency: str) -> list[ProductCard]:
    kinds = kind_by_ctype()
    cards = []
    for row in rows:
        kind = kinds[row.polymorphic_ctype_id]
        image = row.default_images[0] if row.default_images else None
        cards.append(ProductCard(
            product=row,
            kind=kind,
            kind_label=str(PRODUCT_KINDS[kind].KIND_LABEL),
            price=gross(row.net_price, row.tax_rate.rate, currency),
            availability=availability_of(row, kind),
            image_url=_image_urls(image)[0] if image else "",
            image_alt=(image.alt or row.name) if image else "",
            url=row.get_absolute_url(),
        ))
    return cards


def _shop_money(request: HttpRequest) -> tuple[str, str]:
    currency = getattr(request.tenant, "currency", "") or "EUR"
    return currency, currency_symbol(currency)


# ---------------------------------------------------------------------------------------------
# Category navigation
# ---------------------------------------------------------------------------------------------
@dataclass
class CategoryNode:
    category: Category
    current: bool
    expanded: bool
    children: list[CategoryNode] = field(default_factory=list)


def _category_nodes(current: Category | None) -> list[CategoryNode]:
    """The tree from one query (ordered by path: parents come before their children). Only
    the current branch is expanded, so a large tree stays a short menu."""
    current_path = current.path if current else ""
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for category in categories_tree():
        node = CategoryNode(
            category=category,
            current=category.path == current_path,
            expanded=bool(current_path) and (current_path == category.path
                                             or current_path.startswith(f"{category.path}/")),
        )
        nodes[category.pk] = node
        parent = nodes.get(category.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


# ---------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListingFilters:
    q: str
    kind: str
    sort: str
    page: int | None

    @classmethod
    def from_query(cls, params: QueryDict) -> ListingFilters:
        kind = params.get("kind", "")
        sort = params.get("sort", "")
        try:
            page = int(params.get("page", ""))
        except ValueError:
            page = None
        return cls(q=params.get("q", "").strip()[:100],
                   kind=kind if kind in PRODUCT_KINDS else "",
                   sort=sort if sort in SORTS else DEFAULT_SORT,
                   page=page if page and page > 0 else None)

    @property
    def active(self) -> bool:
        return bool(self.q or self.kind)

    def query(self) -> QueryDict:
        """Only the known, non-default parameters: the links the page makes (and its cache
        key) do not depend on whatever else a visitor appended to the URL."""
        query = QueryDict(mutable=True)
        if self.q:
            query["q"] = self.q
        if self.kind:
            query["kind"] = self.kind
        if self.sort != DEFAULT_SORT:
            query["sort"] = self.sort
        if self.page and self.page > 1:
            query["page"] = str(self.page)
        return query


def _listing_context(request: HttpRequest, category: Category | None,
                     filters: ListingFilters) -> dict:
    qs = products_for_storefront(q=filters.q, category=category, kind=filters.kind,
                                 sort=SORTS[filters.sort][0])
    page = paginate(qs, page=filters.page, query=filters.query(), per_page=PER_PAGE)
    currency, symbol = _shop_money(request)
    return {
        "category": category,
        "filters": filters,
        "page": page,
        "cards": _cards(page.items, currency),
        "currency_symbol": symbol,
        "category_nodes": _category_nodes(category),
        "kind_choices": [(kind, model.KIND_LABEL) for kind, model in PRODUCT_KINDS.items()],
        "sort_choices": [(code, label) for code, (_order, label) in SORTS.items()],
        "results_id": RESULTS_ID,
    }


def _cache_seconds(request: HttpRequest) -> int:
    """How long the listing may be cached for this request; 0 = not at all. Only anonymous
    visitors with no pending message: they all see the same page."""
    seconds = getattr(settings, "STOREFRONT_CACHE_SECONDS", 0)
    if not seconds or request.user.is_authenticated or len(messages.get_messages(request)):
        return 0
    return seconds


def _listing_cache_key(request: HttpRequest, fragment: str, filters: ListingFilters) -> str:
    # The schema is added by the cache's key function; the version changes on every catalog
    # write; the rest is everything the fragment's HTML depends on.
    currency, _symbol = _shop_money(request)
    parts = "|".join([request.path, filters.query().urlencode(), fragment,
                      translation.get_language() or "", currency])
    digest = hashlib.sha256(parts.encode()).hexdigest()[:32]
    return f"storefront:listing:{catalog_version()}:{digest}"


def _listing(request: HttpRequest, category: Category | None) -> HttpResponse:
    filters = ListingFilters.from_query(request.GET)
    fragment = RESULTS_ID if request.htmx and request.htmx.target == RESULTS_ID else BODY_ID
    seconds = _cache_seconds(request)
    key = _listing_cache_key(request, fragment, filters) if seconds else ""
    html = cache.get(key) if key else None
    if html is None:
        html = render_to_string(f"{LISTING_TEMPLATE}#{fragment}",
                                _listing_context(request, category, filters), request=request)
        if key:
            cache.set(key, str(html), seconds)
    if fragment == RESULTS_ID:
        response = HttpResponse(html)
    else:
        response = render(request, LISTING_TEMPLATE, {
            "category": category,
            "catalog_body": mark_safe(html),  # noqa: S308 - our own template's output
        })
    # The same URL answers a full page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_safe
def storefront_home(request: HttpRequest) -> HttpResponse:
    return _listing(request, category=None)


@require_safe
def category_detail(request: HttpRequest, path: str) -> HttpResponse:
    category = category_by_path(path)
    if category is None:
        raise Http404(_("No such category."))
    return _listing(request, category=category)


# ---------------------------------------------------------------------------------------------
# Product page
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpecRow:
    label: str
    value: str


def _spec_rows(product: BaseProduct) -> list[SpecRow]:
    """The product type's specifications that this product fills in, in the type's order."""
    if product.product_type is None:
        return []
    rows = []
    for definition in product.product_type.specs.all():
        value = product.specs.get(definition.code)
        if value in (None, ""):
            continue
        if definition.kind == SpecKind.BOOLEAN:
            text = _("Yes") if value is True else _("No")
        elif definition.kind == SpecKind.NUMBER:
            try:
                text = formats.number_format(Decimal(str(value)))
            except InvalidOperation:
                text = str(value)
        else:
            text = str(value)
        if definition.unit and definition.kind == SpecKind.NUMBER:
            text = f"{text} {definition.unit}"
        rows.append(SpecRow(definition.label, text))
    return rows


def _plain_number(value: Decimal | None) -> str:
    """8.200 kg -> "8.2" (or "8,2" in French): measures without their padding zeros."""
    if value is None:
        return ""
    return formats.number_format(value.normalize(), use_l10n=True)


MEASURES = ("weight_kg", "length_cm", "width_cm", "height_cm", "surface_m2")


def _duration_label(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}
    if hours:
        return ngettext("%(hours)d hour", "%(hours)d hours", hours) % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": rest}


@dataclass(frozen=True)
class GalleryImage:
    thumbnail_url: str
    url: str
    alt: str


def _gallery(images, default_alt: str) -> list[GalleryImage]:
    return [GalleryImage(*_image_urls(image), image.alt or default_alt) for image in images]


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = product_get_for_storefront(slug=slug)
    if product is None:
        raise Http404(_("No such product."))
    currency, symbol = _shop_money(request)
    context = {
        "product": product,
        "kind_label": product.kind_label,
        "kind_template": f"catalog/storefront/kinds/_{product.kind}.html",
        "price": gross(product.net_price, product.tax_rate.rate, currency),
        "currency_symbol": symbol,
        "availability": availability_of(product, product.kind),
        "specs": _spec_rows(product),
        "gallery": _gallery(product.images.all(), product.name),
        "duration": _duration_label(getattr(product, "duration_minutes", None)),
        "measures": {name: _plain_number(getattr(product, name, None)) for name in MEASURES},
    }
    return render(request, "catalog/storefront/product.html", context)


# ---------------------------------------------------------------------------------------------
# Programme page
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LotRow:
    lot: RealEstateLot
    price: Decimal
    availability: Availability
    surface: str


@require_safe
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_get_for_storefront(slug=slug)
    if project is None:
        raise Http404(_("No such programme."))
    currency, symbol = _shop_money(request)
    rows = [LotRow(lot, gross(lot.net_price, lot.tax_rate.rate, currency),
                   availability_of(lot, RealEstateLot.KIND), _plain_number(lot.surface_m2))
            for lot in project_lots(project=project, public=True)]
    # Available lots first; the selector's order (floor, number) holds within each group.
    rows.sort(key=lambda row: not row.availability.available)
    context = {
        "project": project,
        "status_badge": PROJECT_STATUS_BADGES.get(project.status, ""),
        "rows": rows,
        "available_count": sum(1 for row in rows if row.availability.available),
        "gallery": _gallery(project.images.all(), project.name),
        "currency_symbol": symbol,
    }
    return render(request, "catalog/storefront/project.html", context)
