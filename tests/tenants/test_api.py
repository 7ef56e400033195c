"""API base: /api/v1/ with token and session auth, schema and offline docs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tenants.accounts.models import ApiToken
from tests.conftest import host_of, in_schema

pytestmark = pytest.mark.django_db


def test_staff_create_a_token_see_it_once_and_use_it(owner_client, shop):
    response = owner_client.post("/dashboard/api-tokens/", {"name": "Accounting sync"})
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert key not in owner_client.get("/dashboard/api-tokens/").content.decode(), "shown once"
    with in_schema(shop):
        token = ApiToken.objects.get(name="Accounting sync")
        assert token.key_hash != key and token.last_used_at is None

    me = Client(HTTP_HOST=host_of(shop)).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")

    assert me.status_code == 200
    assert me.json()["user"]["email"] == "owner@alpha.localhost"
    assert me.json()["shop"]["name"] == "Alpha Shop"
    with in_schema(shop):
        assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_revoked_token_is_refused(owner_client, shop):
    key = owner_client.post("/dashboard/api-tokens/", {"name": "old"}).context["new_key"]
    with in_schema(shop):
        token = ApiToken.objects.get(name="old")
    owner_client.post(f"/dashboard/api-tokens/{token.pk}/revoke/")
    response = Client(HTTP_HOST=host_of(shop)).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    with in_schema(shop):
        assert ApiToken.objects.get(pk=token.pk).revoked_at <= timezone.now()


def test_session_auth_works_for_the_api(owner_client):
    assert owner_client.get("/api/v1/staff/").json()["results"][0]["role"] == "owner"


def test_anonymous_and_bad_tokens_get_401(shop_client):
    assert shop_client.get("/api/v1/me/").status_code == 401
    assert shop_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_schema_and_docs_are_served_offline(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/me/" in paths and "/api/v1/staff/" in paths
    docs = shop_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
