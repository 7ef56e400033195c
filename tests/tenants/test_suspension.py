"""A suspended shop refuses storefront, dashboard and API; its data is intact; reactivation
restores everything."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.accounts.models import User
from tenants.accounts.services import api_token_create
from tenants.errors import TenantsError
from tenants.models import Shop, ShopStatus
from tenants.services import shop_archive, shop_reactivate, shop_suspend
from tests.conftest import host_of, in_schema, login, owner_of

pytestmark = pytest.mark.django_db


def test_suspended_shop_refuses_everyone_and_reactivation_restores_it(shop, platform_admin):
    owner = owner_of(shop)
    with in_schema(shop):
        _token, key = api_token_create(user=owner, name="erp")
        staff_before = User.objects.count()
    client = login(Client(HTTP_HOST=host_of(shop)), shop, owner)
    api = {"HTTP_AUTHORIZATION": f"Token {key}"}

    shop_suspend(shop=shop, by=platform_admin, reason="unpaid")

    storefront = client.get("/")
    assert storefront.status_code == 503
    assert "temporarily unavailable" in storefront.content.decode()
    assert client.get("/dashboard/").status_code == 503
    assert client.post("/accounts/login/", {"username": owner.email, "password": "x"}).status_code == 503
    assert Client(HTTP_HOST=host_of(shop)).get("/api/v1/me/", **api).status_code == 503
    with in_schema(shop):
        assert User.objects.count() == staff_before, "data intact"

    shop_reactivate(shop=shop, by=platform_admin)

    assert client.get("/").status_code == 200
    assert client.get("/dashboard/").status_code == 200, "the staff session survived"
    assert Client(HTTP_HOST=host_of(shop)).get("/api/v1/me/", **api).status_code == 200


def test_an_archived_shop_cannot_be_reactivated(shop, platform_admin):
    shop_archive(shop=shop, by=platform_admin)
    with pytest.raises(TenantsError, match="archived"):
        shop_reactivate(shop=shop, by=platform_admin)
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.ARCHIVED
