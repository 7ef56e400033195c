"""Product and project images: uploads judged by content (format, bytes, pixels), random names in
the shop's own folder, thumbnails, the main image, order, deletion after commit, the dashboard
panel with and without HTMX, the API, and isolation between shops."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from PIL import Image

from catalog.errors import CatalogError
from catalog.models import BaseProduct, ProductImage, Project, ProjectImage
from catalog.services.images import (
    MAX_UPLOAD_BYTES,
    image_delete,
    image_move,
    image_set_default,
    images_reorder,
    product_image_add,
    project_image_add,
)
from catalog.services.products import product_create
from catalog.views.images import tenant_media
from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.models import Shop
from tenants.services import shop_create_pooled
from tests.conftest import host_of, in_schema, owner_of
from tests.tenants.test_staff import make_staff

UUID_NAME = re.compile(r"^products/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)$")


@pytest.fixture(autouse=True)
def media(request, settings, tmp_path) -> Path:
    """Uploads go to a temporary MEDIA_ROOT. django-tenants' storage caches the media root it
    first saw (and does not listen to MEDIA_ROOT changes), so the cache is dropped both ways.

    Every test runs in a rolled-back transaction (`db`), except those that need real commits
    (`committed`): a module-wide django_db mark would hide their commits from other threads."""
    if "committed" not in request.fixturenames:
        request.getfixturevalue("db")
    settings.MEDIA_ROOT = str(tmp_path)
    _forget_media_root()
    yield tmp_path
    _forget_media_root()


def _forget_media_root() -> None:
    storages["default"].__dict__.pop("relative_media_root", None)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------
# Files made in memory
# ---------------------------------------------------------------------------------------------
def picture(fmt: str = "PNG", size: tuple[int, int] = (1200, 800), name: str = "photo.png",
            mode: str = "RGB") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 0).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def png_bomb(width: int, height: int) -> SimpleUploadedFile:
    """A valid 1-bit PNG of `width` x `height`, all black: a few kilobytes on disk that would
    decode to hundreds of megabytes. Written chunk by chunk, never held decoded in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return SimpleUploadedFile("bomb.png", data, content_type="image/png")


def service(shop: Shop, sku: str = "FIT-1") -> BaseProduct:
    with in_schema(shop):
        return product_create(kind="service", data={"sku": sku, "name": f"Fitting {sku}",
                                                    "net_price": Decimal("40.00")})


def panel_url(product: BaseProduct, action: str = "", image: ProductImage | None = None) -> str:
    url = f"/dashboard/catalog/images/product/{product.pk}/"
    if image is not None:
        url += f"{image.pk}/"
    return url + (f"{action}/" if action else "")


def api_client(shop: Shop, user: User | None = None) -> Client:
    user = user or owner_of(shop)
    with in_schema(shop):
        _token, key = api_token_create(user=user, name="images tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


# ---------------------------------------------------------------------------------------------
# Accepted uploads
# ---------------------------------------------------------------------------------------------
def test_a_png_is_stored_under_a_random_name_in_the_shops_folder_with_a_thumbnail(shop, media):
    product = service(shop)
    with in_schema(shop):
        image = product_image_add(product=product, upload=picture(name="../../etc/passwd.png"),
                                  alt="  Teal   sample ")
        image.refresh_from_db()
        url = image.image.url

    assert UUID_NAME.match(image.image.name), image.image.name
    assert "passwd" not in image.image.name and "passwd" not in image.thumbnail.name
    assert (image.width, image.height, image.alt) == (1200, 800, "Teal sample")
    stored = media / shop.schema_name / image.image.name
    assert stored.is_file() and stored.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    thumb_path = media / shop.schema_name / image.thumbnail.name
    with Image.open(thumb_path) as thumb:
        assert thumb.format == "WEBP" and max(thumb.size) <= 480 and thumb.size == (480, 320)
    assert url == f"/media/{shop.schema_name}/{image.image.name}"


def test_the_original_bytes_are_kept_untouched(shop, media):
    product = service(shop)
    upload = picture("JPEG", name="shot.jpeg")
    original = upload.read()
    with in_schema(shop):
        image = product_image_add(product=product, upload=upload)
    assert image.image.name.endswith(".jpg")
    assert (media / shop.schema_name / image.image.name).read_bytes() == original


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_the_extension_follows_the_content_not_the_name(shop, fmt, extension):
    product = service(shop)
    with in_schema(shop):
        image = product_image_add(product=product, upload=picture(fmt, name="holiday.gif"))
    assert image.image.name.endswith(f".{extension}")


def test_the_first_image_is_the_main_one_and_the_next_ones_follow(shop):
    product = service(shop)
    with in_schema(shop):
        first = product_image_add(product=product, upload=picture())
        second = product_image_add(product=product, upload=picture())
        assert [(i.pk, i.is_default, i.position) for i in product.images.all()] == [
            (first.pk, True, 0), (second.pk, False, 1)]


def test_project_images_live_in_their_own_folder(shop, media):
    with in_schema(shop):
        project = Project.objects.create(name="Les Jardins", slug="jardins")
        image = project_image_add(project=project, upload=picture())
        assert image.is_default and ProjectImage.objects.filter(project=project).count() == 1
    assert image.image.name.startswith("projects/")
    assert (media / shop.schema_name / image.image.name).is_file()


# ---------------------------------------------------------------------------------------------
# Refused uploads: a clear message, and nothing stored (no row, no file)
# ---------------------------------------------------------------------------------------------
def _refused(shop: Shop, upload) -> CatalogError:
    product = service(shop)
    with in_schema(shop), pytest.raises(CatalogError) as refused:
        product_image_add(product=product, upload=upload)
    with in_schema(shop):
        assert not ProductImage.objects.filter(product=product).exists()
    assert refused.value.field == "image"
    return refused.value


def test_a_text_file_named_jpg_is_refused(shop, media):
    error = _refused(shop, SimpleUploadedFile("photo.jpg", b"just some text, not a picture",
                                              content_type="image/jpeg"))
    assert "not a JPEG, PNG or WebP image" in error.message
    assert files_under(media) == []


def test_a_gif_is_refused_even_named_png(shop, media):
    error = _refused(shop, picture("GIF", name="anim.png"))
    assert "not a JPEG, PNG or WebP image" in error.message
    assert files_under(media) == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(shop, media):
    upload = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES))
    error = _refused(shop, upload)
    assert "the limit is 10.0\xa0MB" in error.message
    assert files_under(media) == []


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 8000)],
                         ids=["past-pillows-own-limit", "past-ours-only"])
def test_a_decompression_bomb_is_refused_from_its_header(shop, media, size):
    upload = png_bomb(*size)
    assert upload.size < 100_000  # tiny on disk
    error = _refused(shop, upload)
    assert "too large in pixels" in error.message
    assert files_under(media) == []


def test_a_truncated_image_is_refused_as_damaged(shop, media):
    data = picture().read()
    error = _refused(shop, SimpleUploadedFile("cut.png", data[: len(data) // 2]))
    assert "damaged or incomplete" in error.message
    assert files_under(media) == []


def test_an_empty_file_is_refused(shop):
    assert "empty" in _refused(shop, SimpleUploadedFile("empty.png", b"")).message


def test_a_too_long_description_is_refused_next_to_its_field(shop, media):
    product = service(shop)
    with in_schema(shop), pytest.raises(CatalogError) as refused:
        product_image_add(product=product, upload=picture(), alt="x" * 201)
    assert refused.value.field == "alt"
    assert files_under(media) == []


# ---------------------------------------------------------------------------------------------
# Main image, order, deletion
# ---------------------------------------------------------------------------------------------
def test_deleting_the_main_image_promotes_the_next_and_removes_its_files_after_commit(
    shop, media, django_capture_on_commit_callbacks
):
    product = service(shop)
    with in_schema(shop):
        first, second, third = (product_image_add(product=product, upload=picture())
                                for _ in range(3))
        images_reorder(owner=product, ordered_ids=[first.pk, third.pk, second.pk])
        files = [media / shop.schema_name / first.image.name,
                 media / shop.schema_name / first.thumbnail.name]
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            image_delete(image=first)
        assert all(f.is_file() for f in files), "files stay until the deletion is committed"
        assert ProductImage.objects.get(is_default=True, product=product).pk == third.pk
    for callback in callbacks:
        callback()  # outside the shop's schema on purpose: the callback finds its folder itself
    assert not any(f.exists() for f in files)
    assert (media / shop.schema_name / second.image.name).is_file()


def test_deleting_the_last_image_leaves_no_main_image(shop):
    product = service(shop)
    with in_schema(shop):
        only = product_image_add(product=product, upload=picture())
        image_delete(image=only)
        assert not ProductImage.objects.filter(product=product).exists()


def test_concurrent_first_uploads_make_exactly_one_main_image(committed):
    """Five uploads race on a product without images: each would be "the first" without the
    lock on the product; the database index would then refuse all but one of them."""
    shop = shop_create_pooled()
    product = service(shop)
    barrier = threading.Barrier(5)
    errors: list[Exception] = []

    def upload(data: bytes) -> None:
        try:
            with schema_context(shop.schema_name):
                barrier.wait()
                product_image_add(product=product, upload=SimpleUploadedFile("p.png", data))
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    data = picture().read()
    threads = [threading.Thread(target=upload, args=(data,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with schema_context(shop.schema_name):
        rows = list(ProductImage.objects.filter(product=product).values_list("is_default",
                                                                             "position"))
    assert sorted(rows) == [(False, 1), (False, 2), (False, 3), (False, 4), (True, 0)]


def test_one_main_image_at_a_time(shop):
    product = service(shop)
    with in_schema(shop):
        first = product_image_add(product=product, upload=picture())
        second = product_image_add(product=product, upload=picture())
        image_set_default(image=second)
        assert list(ProductImage.objects.filter(product=product, is_default=True)
                    .values_list("pk", flat=True)) == [second.pk]
        assert [i.pk for i in product.images.all()] == [second.pk, first.pk]


def test_move_swaps_neighbours_but_never_above_the_main_image(shop):
    product = service(shop)
    with in_schema(shop):
        main, b, c = (product_image_add(product=product, upload=picture()) for _ in range(3))
        image_move(image=c, direction="up")
        assert [i.pk for i in product.images.all()] == [main.pk, c.pk, b.pk]
        image_move(image=c, direction="up")  # already first after the main image
        assert [i.pk for i in product.images.all()] == [main.pk, c.pk, b.pk]


def test_reorder_refuses_a_list_that_is_not_exactly_the_images(shop):
    product = service(shop)
    with in_schema(shop):
        a = product_image_add(product=product, upload=picture())
        product_image_add(product=product, upload=picture())
        with pytest.raises(CatalogError, match="reload the page"):
            images_reorder(owner=product, ordered_ids=[a.pk, a.pk])


# ---------------------------------------------------------------------------------------------
# Dashboard panel
# ---------------------------------------------------------------------------------------------
def test_upload_without_javascript_redirects_back_to_the_page(owner_client, shop):
    product = service(shop)
    back = f"/dashboard/catalog/{product.pk}/"
    response = owner_client.post(panel_url(product, "upload"),
                                 {"image": picture(), "alt": "Front", "next": back})
    assert response.status_code == 302
    assert response["Location"] == f"{back}#product-images"
    with in_schema(shop):
        assert ProductImage.objects.get(product=product).alt == "Front"


def test_upload_with_htmx_returns_the_panel_with_the_new_image(owner_client, shop):
    product = service(shop)
    response = owner_client.post(panel_url(product, "upload"), {"image": picture(), "alt": "Side"},
                                 HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card image-panel" id="product-images"')
    assert 'alt="Side"' in html and "Main image" in html
    assert 'hx-swap-oob="innerHTML:#messages"' in html and "Image added." in html


def test_a_refused_upload_shows_the_message_next_to_the_field_and_keeps_the_description(
    owner_client, shop, media
):
    product = service(shop)
    response = owner_client.post(
        panel_url(product, "upload"),
        {"image": SimpleUploadedFile("notes.jpg", b"plain text"), "alt": "Kept text"},
        HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'class="error-message" id="product-images-file-error">.*not a JPEG', html)
    assert 'value="Kept text"' in html and 'aria-invalid="true"' in html
    assert files_under(media) == []


def test_a_refused_upload_without_javascript_shows_the_panel_on_its_own_page(owner_client, shop):
    product = service(shop)
    response = owner_client.post(panel_url(product, "upload"), {"alt": "No file"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose an image file to upload." in html and "<h1>" in html


def test_buttons_make_main_move_and_delete(owner_client, shop):
    product = service(shop)
    with in_schema(shop):
        main, b, c = (product_image_add(product=product, upload=picture()) for _ in range(3))

    owner_client.post(panel_url(product, "default", c))
    owner_client.post(panel_url(product, "move", main), {"direction": "down"})
    owner_client.post(panel_url(product, "delete", b))

    with in_schema(shop):
        assert [(i.pk, i.is_default) for i in product.images.all()] == [(c.pk, True),
                                                                       (main.pk, False)]


def test_another_products_image_is_not_found_through_this_product(owner_client, shop):
    product, other = service(shop, "FIT-1"), service(shop, "FIT-2")
    with in_schema(shop):
        foreign = product_image_add(product=other, upload=picture())
    assert owner_client.post(panel_url(product, "delete", foreign)).status_code == 404
    with in_schema(shop):
        assert ProductImage.objects.filter(pk=foreign.pk).exists()


def test_a_sales_clerk_sees_images_but_cannot_change_them(shop):
    product = service(shop)
    clerk = make_staff(shop, "clerk@example.test", "sales")
    client = Client(HTTP_HOST=host_of(shop))
    with in_schema(shop):
        client.force_login(clerk)
    page = client.get(panel_url(product))
    assert page.status_code == 200 and "Upload image" not in page.content.decode()
    assert client.post(panel_url(product, "upload"), {"image": picture()}).status_code == 403


def test_the_panel_costs_the_same_queries_for_3_or_30_images(owner_client, shop,
                                                             django_assert_max_num_queries):
    product = service(shop)

    def add(count: int) -> None:
        with in_schema(shop):
            start = ProductImage.objects.filter(product=product).count()
            ProductImage.objects.bulk_create(
                ProductImage(product=product, image=f"products/x/{start + i}.png",
                             thumbnail=f"products/x/{start + i}-t.webp", position=start + i,
                             is_default=start + i == 0, width=10, height=10)
                for i in range(count))

    add(3)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(panel_url(product), HTTP_HX_REQUEST="true").status_code == 200
    add(27)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = owner_client.get(panel_url(product), HTTP_HX_REQUEST="true").content.decode()
    assert html.count('class="image-tile"') == 30


def test_the_panel_of_a_project(owner_client, shop):
    with in_schema(shop):
        project = Project.objects.create(name="Les Jardins", slug="jardins")
    response = owner_client.post(f"/dashboard/catalog/images/project/{project.pk}/upload/",
                                 {"image": picture()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="project-images"' in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Media files in development
# ---------------------------------------------------------------------------------------------
def test_media_view_serves_this_shops_files_only(shop, other_shop):
    product = service(shop)
    with in_schema(shop):
        image = product_image_add(product=product, upload=picture())
        url = image.image.url
    path = url.removeprefix("/media/")
    request = RequestFactory().get(url)

    with in_schema(shop):
        response = tenant_media(request, path)
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
        with pytest.raises(SuspiciousFileOperation):  # answered 400 by Django's handler
            tenant_media(request, f"{shop.schema_name}/../{other_shop.schema_name}/x.png")
    with in_schema(other_shop), pytest.raises(Http404):
        tenant_media(request, path)


# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------
def test_api_upload_list_make_default_and_delete(shop):
    product = service(shop)
    api = api_client(shop)
    url = f"/api/v1/products/{product.pk}/images/"

    first = api.post(url, {"image": picture(), "alt": "Front"})
    second = api.post(url, {"image": picture("JPEG", name="b.jpg")})
    assert first.status_code == second.status_code == 201
    assert first.json()["is_default"] and not second.json()["is_default"]
    assert first.json()["thumbnail_url"].startswith(f"http://{host_of(shop)}/media/")

    made = api.post(f"{url}{second.json()['id']}/make-default/")
    assert made.status_code == 200 and made.json()["is_default"]
    assert api.delete(f"{url}{first.json()['id']}/").status_code == 204

    listed = api.get(url).json()["results"]
    assert [(i["id"], i["is_default"]) for i in listed] == [(second.json()["id"], True)]


def test_api_refusal_says_why_in_the_errors_body(shop):
    product = service(shop)
    response = api_client(shop).post(f"/api/v1/products/{product.pk}/images/",
                                      {"image": SimpleUploadedFile("a.jpg", b"not an image")})
    assert response.status_code == 400
    assert list(response.json()) == ["errors"]
    assert "not a JPEG, PNG or WebP image" in response.json()["errors"]["image"][0]


def test_api_missing_file_uses_the_same_errors_body(shop):
    product = service(shop)
    response = api_client(shop).post(f"/api/v1/products/{product.pk}/images/", {"alt": "x"})
    assert response.status_code == 400 and "image" in response.json()["errors"]


def test_api_writes_need_the_change_permission(shop):
    product = service(shop)
    clerk = make_staff(shop, "clerk@example.test", "sales")
    api = api_client(shop, clerk)
    url = f"/api/v1/products/{product.pk}/images/"
    assert api.get(url).status_code == 200
    assert api.post(url, {"image": picture()}).status_code == 403


def test_images_of_one_shop_are_not_reachable_from_another(shop, other_shop):
    product = service(shop)
    with in_schema(shop):
        image = product_image_add(product=product, upload=picture())
    intruder = api_client(other_shop)
    url = f"/api/v1/products/{product.pk}/images/"

    assert intruder.get(url).status_code == 404
    assert intruder.get(f"{url}{image.pk}/").status_code == 404
    assert intruder.post(f"{url}{image.pk}/make-default/").status_code == 404
    assert intruder.delete(f"{url}{image.pk}/").status_code == 404
    with in_schema(shop):
        assert ProductImage.objects.filter(pk=image.pk, is_default=True).exists()


def test_api_schema_documents_the_image_endpoints(shop_client):
    paths = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    upload = paths["/api/v1/products/{product_pk}/images/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "/api/v1/products/{product_pk}/images/{id}/make-default/" in paths
