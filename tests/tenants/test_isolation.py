"""Nothing crosses shops: users, sessions, hosts, tokens."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tenants.accounts.services import api_token_create
from tenants.services import shop_archive
from tests.conftest import PASSWORD, host_of, in_schema, login, owner_of

pytestmark = pytest.mark.django_db


def test_staff_of_one_shop_cannot_log_in_on_another(shop, other_shop):
    owner_a = owner_of(shop)
    on_b = Client(HTTP_HOST=host_of(other_shop))

    response = on_b.post("/accounts/login/", {"username": owner_a.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Wrong email or password" in response.content.decode()
    assert on_b.get("/dashboard/").status_code == 302


def test_staff_logs_in_on_their_own_shop(shop):
    owner = owner_of(shop)
    client = Client(HTTP_HOST=host_of(shop))
    response = client.post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_session_cookie_replayed_on_another_shop_is_anonymous(shop, other_shop):
    client_a = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))
    assert client_a.get("/dashboard/").status_code == 200
    cookie = client_a.cookies[settings.SESSION_COOKIE_NAME].value

    replay = Client(HTTP_HOST=host_of(other_shop))
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_session_cookie_replayed_on_the_platform_is_anonymous(shop):
    client_a = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))
    cookie = client_a.cookies[settings.SESSION_COOKIE_NAME].value

    platform = Client(HTTP_HOST=settings.BASE_DOMAIN)
    platform.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert platform.get("/console/")["Location"].startswith("/console/login/")


def test_session_cookie_is_host_only(shop):
    client = Client(HTTP_HOST=host_of(shop))
    client.post("/accounts/login/", {"username": owner_of(shop).email, "password": PASSWORD})
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    assert morsel["domain"] == "", "no Domain attribute: the browser keeps it to this host"
    assert morsel["httponly"]


def test_api_token_of_one_shop_is_unknown_on_another(shop, other_shop):
    with in_schema(shop):
        _token, key = api_token_create(user=owner_of(shop), name="sync")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    assert Client(HTTP_HOST=host_of(shop)).get("/api/v1/me/", **auth).status_code == 200
    assert Client(HTTP_HOST=host_of(other_shop)).get("/api/v1/me/", **auth).status_code == 401


@pytest.mark.parametrize("host", ["nowhere.localhost", "alpha.localhost.evil.test", "localhost.evil"])
def test_unknown_host_never_serves_a_shop(host, shop):
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code in (400, 404)
    assert b"Alpha Shop" not in response.content


def test_archived_shop_host_serves_no_data(shop, platform_admin):
    shop_archive(shop=shop, by=platform_admin, reason="test")  # rolled back after the test
    client = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))

    for path in ("/", "/dashboard/", "/accounts/login/"):
        response = client.get(path)
        assert response.status_code == 503
        assert "This shop is closed" in response.content.decode()
    api = client.get("/api/v1/me/")
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "shop_unavailable"


def test_health_check_answers_on_every_host(shop, platform_client):
    platform = platform_client.get("/healthz")
    on_shop = Client(HTTP_HOST=host_of(shop)).get("/healthz")
    assert platform.json() == {"status": "ok", "database": "ok", "schema": "public"}
    assert on_shop.json()["schema"] == shop.schema_name
