"""Categories (a tree with slug paths) and product types with their specification fields."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.errors import CatalogError
from catalog.models import BaseProduct, Category, ProductType, SpecDefinition, SpecKind


def _path_for(parent: Category | None, slug: str) -> str:
    return f"{parent.path}/{slug}" if parent else slug


def _rewrite_descendant_paths(category: Category) -> None:
    for child in Category.objects.filter(parent=category):
        child.path = _path_for(category, child.slug)
        child.depth = category.depth + 1
        child.save(update_fields=["path", "depth"])
        _rewrite_descendant_paths(child)


@transaction.atomic
def category_save(*, name: str, parent: Category | None = None, slug: str = "",
                  category: Category | None = None, position: int = 0) -> Category:
    """Create (category None) or update a category; keeps the paths of its subtree right and
    refuses a parent inside its own subtree."""
    name = (name or "").strip()
    if not name:
        raise CatalogError(_("Give the category a name."), field="name")
    slug = slugify(slug or name)[:100]
    if not slug:
        raise CatalogError(_("Use letters or digits in the name or slug."), field="slug")
    if category is not None and parent is not None:
        node: Category | None = parent
        while node is not None:
            if node.pk == category.pk:
                raise CatalogError(_("A category cannot be placed inside itself."), field="parent")
            node = node.parent
    target = category or Category()
    target.name, target.slug, target.parent, target.position = name, slug, parent, position
    target.path = _path_for(parent, slug)
    target.depth = parent.depth + 1 if parent else 0
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise CatalogError(_("There is already a category “%(slug)s” here.") % {"slug": slug},
                           field="slug") from exc
    if category is not None:
        _rewrite_descendant_paths(target)
    return target


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if Category.objects.filter(parent=category).exists():
        raise CatalogError(_("Move or delete its sub-categories first."))
    category.delete()  # products keep existing, without a category (SET_NULL)


@transaction.atomic
def product_type_save(*, name: str, product_type: ProductType | None = None) -> ProductType:
    name = (name or "").strip()
    if not name:
        raise CatalogError(_("Give the product type a name."), field="name")
    target = product_type or ProductType()
    target.name = name
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise CatalogError(_("A product type with this name exists."), field="name") from exc
    return target


@transaction.atomic
def spec_definition_add(*, product_type: ProductType, label: str, kind: str, unit: str = "",
                        choices: list[str] | None = None, required: bool = False,
                        code: str = "") -> SpecDefinition:
    label = (label or "").strip()
    if not label:
        raise CatalogError(_("Give the specification a label."), field="label")
    if kind not in SpecKind.values:
        raise CatalogError(_("Choose a kind of value."), field="kind")
    choices = [c.strip() for c in (choices or []) if c and c.strip()]
    if kind == SpecKind.CHOICE and len(choices) < 2:
        raise CatalogError(_("A choice needs at least two options."), field="choices")
    code = slugify(code or label).replace("-", "_")[:50]
    position = product_type.specs.count()
    try:
        with transaction.atomic():
            return SpecDefinition.objects.create(
                product_type=product_type, code=code, label=label, kind=kind, unit=unit.strip(),
                choices=choices if kind == SpecKind.CHOICE else [], required=required,
                position=position)
    except IntegrityError as exc:
        raise CatalogError(_("This type already has a specification “%(code)s”.")
                           % {"code": code}, field="label") from exc


@transaction.atomic
def spec_definition_delete(*, definition: SpecDefinition) -> None:
    """Removes the field and its values from the type's products."""
    for product in BaseProduct.objects.non_polymorphic().filter(
            product_type=definition.product_type, specs__has_key=definition.code):
        specs: dict[str, Any] = dict(product.specs)
        specs.pop(definition.code, None)
        BaseProduct.objects.filter(pk=product.pk).update(specs=specs)
    definition.delete()
