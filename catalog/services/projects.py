"""Programmes (projects): create, edit, delete. The dashboard and the API both end here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.errors import CatalogError
from catalog.models import Project, RealEstateLot
from catalog.services.images import image_delete
from catalog.services.products import sanitize_description
from streams.events import auto_follow, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

PROJECT_FIELDS = ("name", "status", "address", "city", "delivery_date", "description")


@transaction.atomic
def project_save(*, data: dict[str, Any], project: Project | None = None,
                 by: User | None = None) -> Project:
    target = project or Project()
    # Read from the database: a model form has already written its values on `project`.
    before = (Project.objects.filter(pk=project.pk).values(*PROJECT_FIELDS).first()
              if project is not None and project.pk else None) or {}
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
    if project is None:
        record(subject=target, verb="created", actor=by)
        auto_follow(user=by, subject=target)
    else:
        changed = [f for f in PROJECT_FIELDS if before and getattr(target, f) != before[f]]
        if changed:
            record(subject=target, verb="updated", actor=by, data={"fields": changed},
                   before=before["status"] if "status" in changed else "",
                   after=target.status if "status" in changed else "")
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
