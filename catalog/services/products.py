"""Products: create, update, duplicate, archive. Forms, the API and CSV import all end here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import nh3
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.cache import catalog_cache_bump
from catalog.errors import CatalogError
from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    ProductStatus,
    ProductType,
    SpecKind,
    StockLevel,
    TaxRate,
    Vehicle,
)
from catalog.services.stock import stock_receive
from streams.events import auto_follow, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "h3", "h4",
                "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def sanitize_description(html: str) -> str:
    """Keep basic formatting, drop everything that could run (scripts, handlers, styles)."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def vin_problem(vin: str) -> str | None:
    """ISO 3779: 17 characters without I, O, Q. North-American VINs (first character 1-5)
    also carry a check digit in position 9, which we verify."""
    if not VIN_PATTERN.match(vin):
        return _("A VIN has 17 characters: digits and capital letters except I, O and Q.")
    if vin[0] in "12345":
        total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
        check = "X" if total % 11 == 10 else str(total % 11)
        if vin[8] != check:
            return _("This VIN's check digit (9th character) is wrong: check for a typo.")
    return None


def specs_clean(product_type: ProductType | None, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validate specification values against the type's definitions; returns typed values."""
    raw = raw or {}
    if product_type is None:
        if raw:
            raise CatalogError(_("Choose a product type before giving specifications."),
                               field="specs")
        return {}
    definitions = {d.code: d for d in product_type.specs.all()}
    unknown = set(raw) - set(definitions)
    if unknown:
        raise CatalogError(_("Unknown specifications for %(type)s: %(codes)s")
                           % {"type": product_type.name, "codes": ", ".join(sorted(unknown))},
                           field="specs")
    clean: dict[str, Any] = {}
    for code, definition in definitions.items():
        value = raw.get(code)
        if value in (None, ""):
            if definition.required:
                raise CatalogError(_("“%(label)s” is required.") % {"label": definition.label},
                                   field="specs")
            continue
        clean[code] = _spec_value(definition, value)
    return clean


def _spec_value(definition, value):
    label = definition.label
    if definition.kind == SpecKind.NUMBER:
        try:
            number = Decimal(str(value).replace(",", "."))
        except InvalidOperation as exc:
            raise CatalogError(_("“%(label)s” must be a number.") % {"label": label},
                               field="specs") from exc
        if not number.is_finite():
            raise CatalogError(_("“%(label)s” must be a number.") % {"label": label},
                               field="specs")
        return str(number.normalize())
    if definition.kind == SpecKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "oui", "on"}:
            return True
        if text in {"false", "0", "no", "non", "off"}:
            return False
        raise CatalogError(_("“%(label)s” must be yes or no.") % {"label": label}, field="specs")
    if definition.kind == SpecKind.CHOICE:
        if str(value) not in definition.choices:
            raise CatalogError(_("“%(label)s” must be one of: %(choices)s")
                               % {"label": label, "choices": ", ".join(definition.choices)},
                               field="specs")
        return str(value)
    return str(value)[:500]


def _unique_slug(base: str, *, exclude_pk: int | None = None) -> str:
    root = (slugify(base) or "product")[:200]
    slug, n = root, 2
    qs = BaseProduct.objects.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    taken = set(qs.filter(slug__startswith=root).values_list("slug", flat=True))
    while slug in taken:
        slug, n = f"{root}-{n}", n + 1
    return slug


def _check_plan_limit(adding: int = 1) -> None:
    plan = getattr(connection.tenant, "plan", None)
    if plan is None:
        return
    count = BaseProduct.objects.exclude(status=ProductStatus.ARCHIVED).count()
    if count + adding > plan.max_products:
        raise CatalogError(
            _("Your plan allows %(max)d active products and you have %(count)d. Archive some "
              "or upgrade your plan.") % {"max": plan.max_products, "count": count}
        )


def _apply(product: BaseProduct, data: dict[str, Any]) -> None:
    fields = {f.name for f in product._meta.concrete_fields}
    for key, value in data.items():
        if key in fields and key not in {"id", "baseproduct_ptr", "polymorphic_ctype",
                                          "availability", "status", "created_at", "updated_at"}:
            setattr(product, key, value)
    product.description = sanitize_description(product.description)
    product.sku = (product.sku or "").strip()
    if getattr(product, "vin", None) is not None:
        product.vin = product.vin.strip().upper()
        problem = vin_problem(product.vin)
        if problem:
            raise CatalogError(problem, field="vin")
    product.specs = specs_clean(product.product_type, product.specs)


def _full_clean(product: BaseProduct) -> None:
    try:
        product.full_clean(exclude=["slug", "polymorphic_ctype", "availability"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise CatalogError(" ".join(messages), field=None if field == "__all__" else field) from exc


def default_tax_rate() -> TaxRate | None:
    return TaxRate.objects.filter(is_default=True).first() or TaxRate.objects.first()


@transaction.atomic
def product_create(*, kind: str, data: dict[str, Any], by: User | None = None,
                   initial_stock: Decimal | None = None) -> BaseProduct:
    """Create a product of `kind` ("goods", "service", "lot", "vehicle"). Stocked kinds get a
    stock level; `initial_stock` records a receipt. Raises CatalogError (with the field)."""
    model = PRODUCT_KINDS.get(kind)
    if model is None:
        raise CatalogError(_("Unknown product kind “%(kind)s”.") % {"kind": kind}, field="kind")
    _check_plan_limit()
    product = model()
    if "tax_rate" not in data or data.get("tax_rate") is None:
        data = {**data, "tax_rate": default_tax_rate()}
    _apply(product, data)
    product.slug = _unique_slug(data.get("slug") or product.name)
    _full_clean(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise _integrity_error(exc) from exc
    record(subject=product, verb="created", actor=by)
    auto_follow(user=by, subject=product)
    if model.STOCKED:
        StockLevel.objects.create(product=product)
        if initial_stock:
            stock_receive(product=product, quantity=initial_stock, by=by,
                          reason=_("Initial stock"))
    return product


def _integrity_error(exc: IntegrityError) -> CatalogError:
    text = str(exc)
    if "sku" in text:
        return CatalogError(_("This SKU is already used by another product."), field="sku")
    if "vin" in text:
        return CatalogError(_("A vehicle with this VIN already exists."), field="vin")
    if "lot_number_per_project" in text:
        return CatalogError(_("This programme already has a lot with this number."),
                            field="lot_number")
    return CatalogError(_("This product conflicts with another one."))


@transaction.atomic
def product_update(*, product: BaseProduct, data: dict[str, Any], by: User | None = None
                   ) -> BaseProduct:
    product = type(product).objects.select_for_update().get(pk=product.pk)
    _apply(product, data)
    if data.get("slug"):
        product.slug = _unique_slug(data["slug"], exclude_pk=product.pk)
    _full_clean(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise _integrity_error(exc) from exc
    return product


@transaction.atomic
def product_duplicate(*, product: BaseProduct, by: User | None = None) -> BaseProduct:
    """A copy to edit: same fields and images, a new SKU and slug, no stock, and for a lot or
    a vehicle the unique fields left for the user to change (the copy is archived until then)."""
    _check_plan_limit()
    model = type(product)
    copy = model.objects.get(pk=product.pk)
    copy.pk = copy.id = None
    copy.baseproduct_ptr_id = None
    copy._state.adding = True
    copy.name = _("%(name)s (copy)") % {"name": product.name}
    copy.sku = _unique_sku(f"{product.sku}-COPY")
    copy.slug = _unique_slug(copy.name)
    if hasattr(copy, "vin"):
        copy.vin = _unique_vin_placeholder()
        copy.status = ProductStatus.ARCHIVED
    if hasattr(copy, "lot_number"):
        copy.lot_number = _unique_sku(f"{product.lot_number}-copy")[:20]
        copy.status = ProductStatus.ARCHIVED
        copy.__dict__["availability"] = "available"  # FSM field is protected once set
        copy.option_expires_at = None
    copy.save()
    record(subject=copy, verb="created", actor=by, data={"copy_of": product.sku})
    auto_follow(user=by, subject=copy)
    if model.STOCKED:
        StockLevel.objects.create(product=copy)
    for image in product.images.all():
        image.pk = None
        image.product = copy
        image.save()
    return copy


def _unique_sku(base: str) -> str:
    sku, n = base[:64], 2
    while BaseProduct.objects.filter(sku=sku).exists():
        sku, n = f"{base[:60]}-{n}", n + 1
    return sku


def _unique_vin_placeholder() -> str:
    # An obviously fake VIN (it contains an O, so it never passes validation): the user must
    # replace it before restoring the copy.
    n = Vehicle.objects.filter(vin__startswith="COPY").count()
    while True:
        vin = f"COPY{n:013d}"
        if not Vehicle.objects.filter(vin=vin).exists():
            return vin
        n += 1


@transaction.atomic
def products_archive(*, product_ids: Iterable[int], by: User | None = None) -> int:
    products = list(BaseProduct.objects.non_polymorphic().select_for_update()
                    .filter(pk__in=list(product_ids)).exclude(status=ProductStatus.ARCHIVED)
                    .only("pk", "name", "sku").order_by("pk"))
    count = BaseProduct.objects.filter(pk__in=[p.pk for p in products]).update(
        status=ProductStatus.ARCHIVED)
    catalog_cache_bump()  # update() sends no post_save: the storefront cache must know
    for product in products:
        record(subject=product, verb="archived", actor=by, before=ProductStatus.ACTIVE,
               after=ProductStatus.ARCHIVED)
    return count


@transaction.atomic
def product_restore(*, product: BaseProduct, by: User | None = None) -> BaseProduct:
    if product.status == ProductStatus.ARCHIVED:
        _check_plan_limit()
        if getattr(product, "vin", "").startswith("COPY"):
            raise CatalogError(_("Give this vehicle its real VIN before restoring it."),
                               field="vin")
        BaseProduct.objects.filter(pk=product.pk).update(status=ProductStatus.ACTIVE)
        product.status = ProductStatus.ACTIVE
        catalog_cache_bump()
        record(subject=product, verb="restored", actor=by, before=ProductStatus.ARCHIVED,
               after=ProductStatus.ACTIVE)
    return product
