"""Product and project images: upload, main image, order, delete.

An upload is judged by its content, never by its name or the browser's content type: the bytes
are opened with Pillow, checked for format and pixel count from the header before anything is
decoded, verified, then fully decoded. The original bytes are stored untouched under a random
name (the user's file name never reaches the disk: no path traversal, no collisions), with a
WebP thumbnail beside them. Files live in the shop's own folder (TenantFileSystemStorage:
MEDIA_ROOT/<schema>/...).

Invariant: an owner (product or project) with images has exactly one main image (`is_default`);
the first upload becomes it, deleting it promotes the next one. Changes to one owner's images
are serialised by a lock on the owner's row, so two uploads racing on an empty product cannot
both become the main image.
"""

from __future__ import annotations

import struct
import uuid
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import IO, TYPE_CHECKING, Literal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Case, Max, QuerySet, Value, When
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from PIL import Image, ImageOps

from catalog.errors import CatalogError
from catalog.models import BaseProduct, ImageBase, ProductImage, Project, ProjectImage

if TYPE_CHECKING:
    from django.core.files.storage import Storage

    from tenants.accounts.models import User

# The upload form's hint (templates/catalog/images/_panel.html) states these two limits.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMBNAIL_MAX_SIDE = 480
THUMBNAIL_QUALITY = 80
ALT_MAX_LENGTH = 200
# Pillow format name -> stored file extension. Only these decoders ever see an upload: opening
# with `formats=` keeps Pillow's other parsers (EPS, PSD, ...) away from untrusted bytes.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# What Pillow raises for damaged or truncated files: decoders report through several types.
_DAMAGED_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error,
                         zlib.error)

Owner = BaseProduct | Project


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed every check: its bytes and what we learnt decoding them."""

    data: bytes
    extension: str
    width: int
    height: int
    thumbnail: bytes


def image_check(upload: IO[bytes]) -> CheckedImage:
    """Validate an uploaded file by its content; raise CatalogError(field="image") if refused.

    Reads at most MAX_UPLOAD_BYTES + 1 bytes, whatever size the upload claims."""
    claimed = getattr(upload, "size", None)
    if claimed is not None and claimed > MAX_UPLOAD_BYTES:
        raise _too_big(claimed)
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_big(len(data))
    if not data:
        raise CatalogError(_("This file is empty. Choose a JPEG, PNG or WebP image."), field="image")
    try:
        # Pillow warns (then errors) on images with more pixels than it deems safe; a warning
        # alone would let the decode go on, so it is turned into an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=list(ACCEPTED_FORMATS)) as probe:
                # open() reads the header only: size and format are known before any decoding.
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise _too_many_pixels()
                image_format = probe.format
                probe.verify()
            with Image.open(BytesIO(data), formats=list(ACCEPTED_FORMATS)) as picture:
                picture.load()
                thumbnail = _thumbnail(picture)
    except Image.UnidentifiedImageError as exc:
        raise CatalogError(_("This file is not a JPEG, PNG or WebP image (its content was "
                             "checked, not its name). Choose a photo in one of these formats."),
                           field="image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except _DAMAGED_IMAGE_ERRORS as exc:
        raise CatalogError(_("This image is damaged or incomplete. Export it again and upload "
                             "the new file."), field="image") from exc
    return CheckedImage(data=data, extension=ACCEPTED_FORMATS[image_format], width=width,
                        height=height, thumbnail=thumbnail)


def _too_big(size: int) -> CatalogError:
    return CatalogError(
        _("This file is %(size)s; the limit is %(limit)s. Export a smaller version and try again.")
        % {"size": filesizeformat(size), "limit": filesizeformat(MAX_UPLOAD_BYTES)},
        field="image",
    )


def _too_many_pixels() -> CatalogError:
    return CatalogError(
        _("This image is too large in pixels: the limit is %(limit)d megapixels. Resize it and "
          "try again.") % {"limit": MAX_PIXELS // 1_000_000},
        field="image",
    )


def _thumbnail(picture: Image.Image) -> bytes:
    # Phones store photos sideways with an orientation tag; the thumbnail is shown upright.
    frame = ImageOps.exif_transpose(picture)
    frame.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE))
    has_alpha = frame.mode in ("RGBA", "LA", "PA") or (
        frame.mode == "P" and "transparency" in frame.info)
    frame = frame.convert("RGBA" if has_alpha else "RGB")
    out = BytesIO()
    frame.save(out, format="WEBP", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def _clean_alt(alt: str) -> str:
    alt = " ".join((alt or "").split())
    if len(alt) > ALT_MAX_LENGTH:
        raise CatalogError(_("Keep the description under %(max)d characters.")
                           % {"max": ALT_MAX_LENGTH}, field="alt")
    return alt


# ---------------------------------------------------------------------------------------------
# Owners: a product or a project
# ---------------------------------------------------------------------------------------------
def _images_of(owner: Owner) -> QuerySet[ImageBase]:
    if isinstance(owner, Project):
        return ProjectImage.objects.filter(project_id=owner.pk)
    return ProductImage.objects.filter(product_id=owner.pk)


def _owner_of(image: ImageBase) -> Owner:
    if isinstance(image, ProjectImage):
        return Project(pk=image.project_id)
    return BaseProduct(pk=image.product_id)


def _lock_owner(owner: Owner) -> None:
    """Serialises every change to one owner's images (main image, positions)."""
    if isinstance(owner, Project):
        qs = Project.objects.all()
    else:
        qs = BaseProduct.objects.non_polymorphic()
    if not qs.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True):
        raise CatalogError(_("This item no longer exists."))


def _locked_image(image: ImageBase) -> ImageBase:
    """The image's current row, after locking its owner; refused if it was deleted meanwhile."""
    _lock_owner(_owner_of(image))
    current = type(image).objects.filter(pk=image.pk).first()
    if current is None:
        raise CatalogError(_("This image was already deleted."))
    return current


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
def product_image_add(*, product: BaseProduct, upload: IO[bytes], alt: str = "",
                      by: User | None = None) -> ProductImage:
    """Check the upload, store it and its thumbnail, add it after the product's other images.
    The first image becomes the main one. Raises CatalogError (field "image" or "alt")."""
    alt = _clean_alt(alt)
    # Decoding may take a second on a big photo: done before the transaction, not under the lock.
    checked = image_check(upload)
    return _image_store(image=ProductImage(product=product), owner=product, checked=checked,
                        alt=alt)


def project_image_add(*, project: Project, upload: IO[bytes], alt: str = "",
                      by: User | None = None) -> ProjectImage:
    """Same as product_image_add, for a project (programme)."""
    alt = _clean_alt(alt)
    checked = image_check(upload)
    return _image_store(image=ProjectImage(project=project), owner=project, checked=checked,
                        alt=alt)


@transaction.atomic
def _image_store(*, image: ImageBase, owner: Owner, checked: CheckedImage, alt: str) -> ImageBase:
    _lock_owner(owner)
    siblings = _images_of(owner)
    last = siblings.aggregate(last=Max("position"))["last"]
    image.position = 0 if last is None else last + 1
    image.is_default = not siblings.filter(is_default=True).exists()
    image.alt = alt
    name = uuid.uuid4().hex
    image.image.save(f"{name}.{checked.extension}", ContentFile(checked.data), save=False)
    try:
        image.thumbnail.save(f"{name}-thumb.webp", ContentFile(checked.thumbnail), save=False)
        # After the saves: assigning a file makes the ImageField measure it again.
        image.width, image.height = checked.width, checked.height
        image.save()
    except BaseException:  # noqa: BLE001 - clean up, then re-raise whatever it was
        # The files are written before the row; if the row fails, no orphan stays on disk.
        _delete_files(image.image.storage, [image.image.name, image.thumbnail.name])
        raise
    return image


@transaction.atomic
def image_set_default(*, image: ImageBase) -> ImageBase:
    """Make `image` its owner's main image (the one lists and the storefront show first)."""
    image = _locked_image(image)
    siblings = _images_of(_owner_of(image))
    # Clear first: the partial unique index allows one main image per owner at any moment.
    siblings.filter(is_default=True).exclude(pk=image.pk).update(is_default=False)
    if not image.is_default:
        siblings.filter(pk=image.pk).update(is_default=True)
        image.is_default = True
    return image


@transaction.atomic
def images_reorder(*, owner: Owner, ordered_ids: Sequence[int]) -> None:
    """Give the owner's images the order of `ordered_ids`, which must list each image once.
    The main image still shows first wherever images are listed."""
    _lock_owner(owner)
    _reorder(owner, [int(pk) for pk in ordered_ids])


def _reorder(owner: Owner, ordered_ids: list[int]) -> None:
    siblings = _images_of(owner)
    current = set(siblings.values_list("pk", flat=True))
    if len(ordered_ids) != len(current) or set(ordered_ids) != current:
        raise CatalogError(_("The images changed meanwhile: reload the page and try again."),
                           field="images")
    if ordered_ids:
        siblings.update(position=Case(*[When(pk=pk, then=Value(i))
                                        for i, pk in enumerate(ordered_ids)]))


@transaction.atomic
def image_move(*, image: ImageBase, direction: Literal["up", "down"]) -> None:
    """Swap an image with its neighbour. The main image stays first: it does not move and
    nothing moves above it. At either end nothing changes."""
    if direction not in ("up", "down"):
        raise CatalogError(_("Move an image up or down."), field="direction")
    image = _locked_image(image)
    owner = _owner_of(image)
    ordered = list(_images_of(owner).order_by("-is_default", "position", "pk")
                   .values_list("pk", "is_default"))
    main = [pk for pk, is_default in ordered if is_default]
    others = [pk for pk, is_default in ordered if not is_default]
    if image.pk in others:
        i = others.index(image.pk)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(others):
            others[i], others[j] = others[j], others[i]
    _reorder(owner, main + others)


@transaction.atomic
def image_delete(*, image: ImageBase) -> None:
    """Delete the row now and its files once the deletion is committed (a rollback keeps
    both). Deleting the main image promotes the next one."""
    image = _locked_image(image)
    owner = _owner_of(image)
    storage = image.image.storage
    names = [image.image.name, image.thumbnail.name]
    image.delete()
    if image.is_default:
        successor = _images_of(owner).order_by("position", "pk").first()
        if successor is not None:
            _images_of(owner).filter(pk=successor.pk).update(is_default=True)
    schema = connection.schema_name

    def delete_files() -> None:
        # The storage finds a shop's folder from the connection's schema, which may have
        # changed by the time the commit runs the callback.
        with schema_context(schema):
            _delete_files(storage, names)

    transaction.on_commit(delete_files)


def _delete_files(storage: Storage, names: Iterable[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)
