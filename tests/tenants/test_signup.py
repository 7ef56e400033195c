"""Signup through HTTP: the happy path, every invalid input, and what it leaves behind."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.models import Domain, LoginHandoff, PlatformAuditLog, Shop, ShopStatus
from tests.conftest import PASSWORD, schema_names

pytestmark = pytest.mark.django_db


def signup_data(**overrides) -> dict:
    data = {
        "name": "Acme Bikes",
        "subdomain": "acme-bikes",
        "email": "founder@acme.test",
        "password": PASSWORD,
        "plan": "starter",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def counts() -> tuple:
    return (
        Shop.objects.exclude(status=ShopStatus.POOLED).count(),
        Shop.objects.count(),
        Domain.objects.count(),
        User.objects.count(),
        PlatformAuditLog.objects.count(),
        LoginHandoff.objects.count(),
        len(schema_names()),
    )


def test_signup_lands_the_owner_logged_in_on_the_shop_dashboard(platform_client, pooled_shop):
    response = platform_client.post("/signup/", signup_data())

    assert response.status_code == 302
    handoff_url = response["Location"]
    assert handoff_url.startswith(f"http://acme-bikes.{settings.BASE_DOMAIN}/accounts/handoff/")

    shop_client = Client(HTTP_HOST=f"acme-bikes.{settings.BASE_DOMAIN}")
    landed = shop_client.get(handoff_url.split(settings.BASE_DOMAIN, 1)[1], follow=True)
    assert landed.redirect_chain[-1][0] == "/dashboard/"
    assert landed.status_code == 200
    assert b"Acme Bikes" in landed.content
    assert landed.context["user"].email == "founder@acme.test"

    shop = Shop.objects.get(domains__domain=f"acme-bikes.{settings.BASE_DOMAIN}")
    assert shop.pk == pooled_shop.pk, "the signup claimed the ready shop from the pool"
    assert shop.status == ShopStatus.ACTIVE
    assert shop.plan.code == "starter"
    with schema_context(shop.schema_name):
        owner = User.objects.get(email="founder@acme.test")
        assert owner.is_staff and owner.role == "owner"
        assert owner.check_password(PASSWORD)
    assert PlatformAuditLog.objects.filter(shop=shop, action="shop.signed_up").count() == 1


def test_handoff_link_works_once(platform_client, pooled_shop):
    handoff_url = platform_client.post("/signup/", signup_data())["Location"]
    path = handoff_url.split(settings.BASE_DOMAIN, 1)[1]
    host = f"acme-bikes.{settings.BASE_DOMAIN}"

    assert Client(HTTP_HOST=host).get(path)["Location"] == "/dashboard/"
    replay = Client(HTTP_HOST=host).get(path)
    assert replay["Location"] == "/accounts/login/"


def test_handoff_token_for_one_shop_does_not_log_in_on_another(platform_client, pooled_shop,
                                                               other_shop):
    handoff_url = platform_client.post("/signup/", signup_data())["Location"]
    path = handoff_url.split(settings.BASE_DOMAIN, 1)[1]

    elsewhere = Client(HTTP_HOST=f"beta.{settings.BASE_DOMAIN}")
    response = elsewhere.get(path)
    assert response["Location"] == "/accounts/login/"
    assert elsewhere.get("/dashboard/").status_code == 302  # still anonymous there


def test_tampered_handoff_token_is_refused(platform_client, pooled_shop):
    handoff_url = platform_client.post("/signup/", signup_data())["Location"]
    path = handoff_url.split(settings.BASE_DOMAIN, 1)[1]
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    client = Client(HTTP_HOST=f"acme-bikes.{settings.BASE_DOMAIN}")
    assert client.get(tampered)["Location"] == "/accounts/login/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subdomain": "admin"}, "subdomain", "reserved"),
        ({"subdomain": "www"}, "subdomain", "reserved"),
        ({"subdomain": "ab"}, "subdomain", "At least 3"),
        ({"subdomain": "a" * 41}, "subdomain", "At most 40"),
        ({"subdomain": "acme_bikes"}, "subdomain", "lowercase letters"),
        ({"subdomain": "-acme"}, "subdomain", "hyphen cannot start"),
        ({"subdomain": "acme-"}, "subdomain", "hyphen cannot start"),
        ({"subdomain": "ac--me"}, "subdomain", "Two hyphens"),
        ({"subdomain": "acmé"}, "subdomain", "lowercase letters"),
        ({"subdomain": "acme.bikes"}, "subdomain", "lowercase letters"),
        ({"subdomain": None}, "subdomain", "required"),
        ({"name": None}, "name", "required"),
        ({"email": None}, "email", "required"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"password": None}, "password", "required"),
        ({"password": "short"}, "password", "too short"),
        ({"password": "1234567890123"}, "password", "entirely numeric"),
        ({"password": "password1234"}, "password", "too common"),
        ({"plan": "platinum-forged"}, "plan", "does not exist"),
    ],
)
def test_invalid_signup_shows_the_error_next_to_the_field_and_creates_nothing(
    platform_client, pooled_shop, overrides, field, message
):
    before = counts()

    response = platform_client.post("/signup/", signup_data(**overrides))

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert f'id="field-{field}"' in response.content.decode()
    assert counts() == before
    assert Shop.objects.get(pk=pooled_shop.pk).status == ShopStatus.POOLED


def test_subdomain_taken_in_another_case_is_refused(platform_client, shop, pooled_shop):
    before = counts()
    response = platform_client.post("/signup/", signup_data(subdomain="ALPHA"))
    assert response.status_code == 422
    assert "already taken" in " ".join(response.context["form"].errors["subdomain"])
    assert counts() == before


def test_form_keeps_what_the_user_typed_on_error(platform_client, pooled_shop):
    response = platform_client.post("/signup/", signup_data(subdomain="admin"))
    html = response.content.decode()
    assert 'value="Acme Bikes"' in html
    assert 'value="founder@acme.test"' in html
    assert 'value="admin"' in html


def test_subdomain_check_answers_inline(platform_client, shop):
    taken = platform_client.get("/signup/check-subdomain/", {"subdomain": "Alpha"},
                                HTTP_HX_REQUEST="true")
    free = platform_client.get("/signup/check-subdomain/", {"subdomain": "fresh-name"},
                               HTTP_HX_REQUEST="true")
    assert "already taken" in taken.content.decode()
    assert "is available" in free.content.decode()
    assert "<form" not in free.content.decode(), "only the status fragment is sent"


def test_empty_pool_falls_back_to_creating_a_shop(platform_client, pooled_shop):
    Shop.objects.filter(status=ShopStatus.POOLED).delete()  # rolled back with the test
    schemas_before = schema_names()

    response = platform_client.post("/signup/", signup_data(subdomain="no-pool"))

    assert response.status_code == 302
    shop = Shop.objects.get(domains__domain=f"no-pool.{settings.BASE_DOMAIN}")
    assert shop.status == ShopStatus.ACTIVE
    assert shop.schema_name in schema_names() - schemas_before
    with schema_context(shop.schema_name):
        assert User.objects.filter(email="founder@acme.test", is_staff=True).exists()


def test_pricing_lists_public_plans_with_signup_links(platform_client, _platform):
    response = platform_client.get("/pricing/")
    html = response.content.decode()
    assert response.status_code == 200
    for code in ("starter", "business", "enterprise"):
        assert f"/signup/?plan={code}" in html
