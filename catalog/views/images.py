"""Dashboard: the images panel of a product or a project, and media files in development.

The panel (templates/catalog/images/_panel.html) is included in the product and project detail
pages. Each action is a plain POST form: without JavaScript it redirects back to the page it
came from (`next`), or shows the panel on a page of its own with the error; with HTMX the
panel is swapped in place, messages arriving out of band.
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve

from catalog.errors import CatalogError
from catalog.selectors import image_get, image_owner_get, images_of
from catalog.services.images import (
    image_delete,
    image_move,
    image_set_default,
    product_image_add,
    project_image_add,
)
from tenants.accounts.views import staff_required

# What each kind of owner needs: permissions to see and to change its images, its detail page.
OWNER_KINDS = {
    "product": {"view": "catalog.view_baseproduct", "change": "catalog.change_baseproduct",
                "detail": "catalog_dashboard:product_detail"},
    "project": {"view": "catalog.view_project", "change": "catalog.change_project",
                "detail": "catalog_dashboard:project"},
}


def owner_permission(action: str):
    """Staff only, with the view or change permission of the owner's kind (URL's `kind`)."""

    def decorator(view):
        @wraps(view)
        @staff_required()
        def wrapper(request: HttpRequest, kind: str, pk: int, *args, **kwargs):
            if not request.user.has_perm(OWNER_KINDS[kind][action]):
                raise PermissionDenied(_("Your role does not allow this."))
            owner = image_owner_get(kind=kind, pk=pk)
            if owner is None:
                raise Http404(_("No such item."))
            return view(request, kind, owner, *args, **kwargs)

        return wrapper

    return decorator


def _next_url(request: HttpRequest, kind: str, owner) -> str:
    """Where a form without JavaScript goes back to: the page it was on, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(OWNER_KINDS[kind]["detail"], args=[owner.pk])


def _panel(request: HttpRequest, kind: str, owner, *, errors: dict | None = None,
           alt: str = "") -> HttpResponse:
    context = {
        "kind": kind,
        "owner": owner,
        "images": images_of(owner=owner),
        "next": _next_url(request, kind, owner),
        "upload_errors": errors or {},
        "alt_value": alt,
        "oob_messages": bool(request.htmx),
    }
    status = 422 if errors else 200
    if request.htmx:
        return render(request, "catalog/images/_panel.html", context, status=status)
    return render(request, "catalog/images/page.html", context, status=status)


def _done(request: HttpRequest, kind: str, owner, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return _panel(request, kind, owner)
    return redirect(f"{_next_url(request, kind, owner).split('#')[0]}#{kind}-images")


def _failed(request: HttpRequest, kind: str, owner, exc: CatalogError) -> HttpResponse:
    messages.error(request, exc.message)
    if request.htmx:
        return _panel(request, kind, owner)
    return redirect(f"{_next_url(request, kind, owner).split('#')[0]}#{kind}-images")


def _image_or_404(owner, image_pk: int):
    image = image_get(owner=owner, pk=image_pk)
    if image is None:
        raise Http404(_("No such image."))
    return image


@require_GET
@owner_permission("view")
def images_page(request: HttpRequest, kind: str, owner) -> HttpResponse:
    """The panel on a page of its own (or alone, for HTMX)."""
    return _panel(request, kind, owner)


@require_POST
@owner_permission("change")
def image_upload(request: HttpRequest, kind: str, owner) -> HttpResponse:
    alt = request.POST.get("alt", "")
    upload = request.FILES.get("image")
    if upload is None:
        return _panel(request, kind, owner, alt=alt,
                      errors={"image": [_("Choose an image file to upload.")]})
    try:
        if kind == "project":
            project_image_add(project=owner, upload=upload, alt=alt, by=request.user)
        else:
            product_image_add(product=owner, upload=upload, alt=alt, by=request.user)
    except CatalogError as exc:
        field = exc.field if exc.field in ("image", "alt") else "image"
        return _panel(request, kind, owner, alt=alt, errors={field: [exc.message]})
    return _done(request, kind, owner, _("Image added."))


@require_POST
@owner_permission("change")
def image_make_default(request: HttpRequest, kind: str, owner, image_pk: int) -> HttpResponse:
    image = _image_or_404(owner, image_pk)
    try:
        image_set_default(image=image)
    except CatalogError as exc:
        return _failed(request, kind, owner, exc)
    return _done(request, kind, owner, _("Main image changed."))


@require_POST
@owner_permission("change")
def image_move_view(request: HttpRequest, kind: str, owner, image_pk: int) -> HttpResponse:
    image = _image_or_404(owner, image_pk)
    try:
        image_move(image=image, direction=request.POST.get("direction", ""))
    except CatalogError as exc:
        return _failed(request, kind, owner, exc)
    return _done(request, kind, owner, _("Image moved."))


@require_POST
@owner_permission("change")
def image_delete_view(request: HttpRequest, kind: str, owner, image_pk: int) -> HttpResponse:
    image = _image_or_404(owner, image_pk)
    try:
        image_delete(image=image)
    except CatalogError as exc:
        return _failed(request, kind, owner, exc)
    return _done(request, kind, owner, _("Image deleted."))


@require_GET
def tenant_media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files in development (DEBUG): /media/<schema>/<path>, from this shop's folder
    only. Files are stored under MEDIA_ROOT/<schema>/ and their URLs carry the schema, so a
    path naming another shop's schema is simply not found here."""
    schema = connection.schema_name
    prefix = f"{schema}/"
    if schema == settings.PUBLIC_SCHEMA_NAME or not path.startswith(prefix):
        raise Http404(_("No such file."))
    # serve() refuses "..", absolute paths and directories (safe_join, no index pages).
    return serve(request, path.removeprefix(prefix),
                 document_root=Path(settings.MEDIA_ROOT) / schema, show_indexes=False)
