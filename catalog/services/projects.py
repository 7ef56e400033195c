from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.errors import CatalogError
from catalog.models import Project
from catalog.services.products import sanitize_description

PROJECT_FIELDS = ("name", "status", "address", "city", "delivery_date", "description")


@transaction.atomic
def project_save(*, data: dict[str, Any], project: Project | None = None) -> Project:
    target = project or Project()
    for field in PROJECT_FIELDS:
        if field in data:
            setattr(target, field, data[field])
    target.name = (target.name or "").strip()
    if not target.name:
        raise CatalogError(_("Give the programme a name."), field="name")
    target.description = sanitize_description(target.description)
    if project is None:
        root = slugify(target.name)[:150] or "programme"
        slug, n = root, 2
        while Project.objects.filter(slug=slug).exists():
            slug, n = f"{root}-{n}", n + 1
        target.slug = slug
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise CatalogError(_("This programme conflicts with another one.")) from exc
    return target
