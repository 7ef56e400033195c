"""Programmes (projects): create, edit, delete. The dashboard and the API both end here."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.errors import CatalogError
from catalog.models import Project, RealEstateLot
from catalog.services.images import image_delete
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


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a programme that has no lots; its images go with it (their files once the
    deletion is committed). A programme with lots is refused: lots are products with a
    history (options, sales), deleted or moved one by one, never along with it."""
    # The lock makes a lot created meanwhile wait (its foreign key needs the row), so the
    # check below sees it, or the lot's insert sees the programme gone.
    project = Project.objects.select_for_update().filter(pk=project.pk).first()
    if project is None:
        raise CatalogError(_("This programme was already deleted."))
    lots = RealEstateLot.objects.filter(project=project).count()
    if lots:
        raise CatalogError(ngettext(
            "This programme has %(n)d lot: move or delete it before deleting the programme.",
            "This programme has %(n)d lots: move or delete them before deleting the programme.",
            lots) % {"n": lots})
    for image in project.images.all():
        image_delete(image=image)
    project.delete()
