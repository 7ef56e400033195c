"""Every input is bounded: request bodies before anything reads them (413, nothing saved),
uploads and imports by the code that reads them, and long texts (comments, tickets, tasks) by
their services, each with a message saying what the limit is. The image and CSV limits are
also tested where they live (tests/catalog/test_images.py, tests/catalog/test_csv.py)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from billing.models import WebhookEvent
from catalog.models import ProductImage
from catalog.services import csv_io, images
from sales.models import Customer
from streams.models import Comment, Task, Ticket
from streams.services.social import COMMENT_MAX_LENGTH
from streams.services.work import BODY_MAX, WorkError, task_create, task_update
from streams.subjects import content_type_id
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import goods, place_order, registered

pytestmark = pytest.mark.django_db
HTML_LIMIT = "This request is too large"


def settings_source_assigns() -> set[str]:
    tree = ast.parse((Path(settings.BASE_DIR) / "config" / "settings.py").read_text())
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def test_request_limits_are_set_explicitly_and_fit_the_uploads():
    explicit = settings_source_assigns()
    for name in ("DATA_UPLOAD_MAX_MEMORY_SIZE", "FILE_UPLOAD_MAX_MEMORY_SIZE",
                 "DATA_UPLOAD_MAX_NUMBER_FIELDS", "DATA_UPLOAD_MAX_NUMBER_FILES",
                 "MAX_UPLOAD_REQUEST_BYTES"):
        assert name in explicit, f"{name} is not set in config/settings.py"
    # The largest upload and its form fit in a request; the app's own checks speak first.
    assert settings.MAX_UPLOAD_REQUEST_BYTES > images.MAX_UPLOAD_BYTES + 64 * 1024
    assert settings.MAX_UPLOAD_REQUEST_BYTES > csv_io.MAX_BYTES + 64 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024
    assert "tenants.security.RequestSizeLimitMiddleware" in settings.MIDDLEWARE
    assert settings.MIDDLEWARE.index("tenants.security.RequestSizeLimitMiddleware") < \
        settings.MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"), \
        "checked before the CSRF check reads the form"


# ---------------------------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------------------------
def test_a_form_announcing_a_body_over_the_limit_is_refused_unread(shop):
    client = Client(HTTP_HOST=host_of(shop))
    too_big = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    response = client.post("/account/signup/", data="email=big%40example.test",
                           content_type="application/x-www-form-urlencoded",
                           CONTENT_LENGTH=str(too_big))
    assert response.status_code == 413
    html = response.content.decode()
    assert HTML_LIMIT in html and "the limit is 2.5" in html and "Nothing was saved" in html
    with in_schema(shop):
        assert not Customer.objects.filter(email="big@example.test").exists()


def test_an_upload_over_the_request_limit_is_refused_before_the_file_is_stored(shop,
                                                                             owner_client):
    with in_schema(shop):
        product = goods("BIG-1")
    response = owner_client.post(
        f"/dashboard/catalog/images/product/{product.pk}/upload/",
        {"image": SimpleUploadedFile("big.jpg", b"\xff\xd8small")},
        CONTENT_LENGTH=str(settings.MAX_UPLOAD_REQUEST_BYTES + 1))
    assert response.status_code == 413 and "the limit is 12.0" in response.content.decode()
    with in_schema(shop):
        assert not ProductImage.objects.exists()


def test_an_image_over_its_own_limit_gets_the_catalogs_message(shop, owner_client, settings,
                                                               tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with in_schema(shop):
        product = goods("BIG-2")
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + bytes(images.MAX_UPLOAD_BYTES))
    response = owner_client.post(f"/dashboard/catalog/images/product/{product.pk}/upload/",
                                 {"image": big})
    assert "the limit is 10.0\xa0MB" in response.content.decode()
    with in_schema(shop):
        assert not ProductImage.objects.exists()


def test_an_api_body_over_the_limit_answers_json(shop, owner_client):
    response = owner_client.post("/api/v1/customers/", data="{}", content_type="application/json",
                                 CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    assert response.status_code == 413
    assert HTML_LIMIT in response.json()["detail"]


def test_a_webhook_body_over_the_limit_is_refused_and_nothing_recorded(shop):
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    payload = json.dumps({"id": "evt_big", "type": "checkout.session.completed",
                          "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = client.post("/stripe/webhook/", data=payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE="t=1,v1=00")
    assert response.status_code == 413 and HTML_LIMIT in response.json()["detail"]
    with in_schema(shop):
        assert not WebhookEvent.objects.exists()


def test_too_many_form_fields_are_refused(shop):
    client = Client(HTTP_HOST=host_of(shop))
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/account/signup/", {**fields, "email": "many@example.test"})
    assert response.status_code == 400
    with in_schema(shop):
        assert not Customer.objects.filter(email="many@example.test").exists()


# ---------------------------------------------------------------------------------------------
# Long texts
# ---------------------------------------------------------------------------------------------
def test_a_comment_over_its_limit_is_refused_with_the_limit(shop, owner_client):
    with in_schema(shop):
        order = place_order((goods("TXT-1"), 1))
    response = owner_client.post(
        f"/dashboard/activity/{content_type_id(order)}/{order.pk}/comments/",
        {"body": "x" * (COMMENT_MAX_LENGTH + 1)}, HTTP_HX_REQUEST="true")
    assert "5,000" in response.content.decode()
    with in_schema(shop):
        assert not Comment.objects.exists()


def test_a_ticket_over_its_limit_is_refused_with_the_limit(shop):
    with in_schema(shop):
        customer = registered("long.talker@example.test")
        order = place_order((goods("TXT-2"), 1), customer=customer)
    client = login(Client(HTTP_HOST=host_of(shop)), shop, customer.user)
    response = client.post("/account/tickets/new/", {
        "about": f"order:{order.number}", "fixed": "1", "title": "Delivery",
        "body": "x" * (BODY_MAX + 1)})
    assert response.status_code == 422
    assert "at most 10000 characters" in response.content.decode()
    with in_schema(shop):
        assert not Ticket.objects.exists()


def test_a_task_description_over_its_limit_is_refused_not_cut(shop, owner):
    with in_schema(shop):
        order = place_order((goods("TXT-3"), 1))
        with pytest.raises(WorkError, match="Keep it under 10000 characters") as refused:
            task_create(subject=order, title="Pack", by=owner, description="x" * (BODY_MAX + 1))
        assert refused.value.field == "description" and not Task.objects.exists()
        task = task_create(subject=order, title="Pack", by=owner, description="Fragile")
        with pytest.raises(WorkError, match="Keep it under"):
            task_update(task=task, by=owner, data={"description": "x" * (BODY_MAX + 1)})
        task.refresh_from_db()
        assert task.description == "Fragile"
