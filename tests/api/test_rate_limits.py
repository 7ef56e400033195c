"""API rate limits: per staff token (or session user), per anonymous address, each shop with
its own counters. Over the limit: 429, `Retry-After`, the API's `{"detail": ...}` body, and
nothing runs."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.settings import env_rate
from sales.models import Customer
from tests.api.support import api_client
from tests.conftest import host_of, in_schema, login, owner_of

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


@pytest.fixture
def rates(settings):
    """Small rates for this test, and counters from earlier tests forgotten (they live in the
    cache, which a test's rollback does not reset)."""

    def set_rates(**changes: str) -> None:
        rest = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {**rest, "DEFAULT_THROTTLE_RATES": {
            **rest["DEFAULT_THROTTLE_RATES"], **changes}}

    cache.clear()
    yield set_rates
    cache.clear()


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    assert list(response.json()) == ["detail"] and "throttled" in response.json()["detail"]


def test_a_token_past_its_burst_is_refused_and_nothing_runs(rates, shop, other_shop):
    rates(staff_burst="3/minute")
    sync = api_client(shop)
    assert [sync.get(CUSTOMERS).status_code for _ in range(3)] == [200, 200, 200]

    refused = sync.post(CUSTOMERS, {"email": "ada@example.test", "last_name": "Lovelace"},
                        content_type="application/json")

    assert_throttled(refused)
    with in_schema(shop):
        assert not Customer.objects.filter(email="ada@example.test").exists()
    # Another token of the same owner has its own budget; so has every other shop.
    assert api_client(shop).get(CUSTOMERS).status_code == 200
    assert api_client(other_shop).get(CUSTOMERS).status_code == 200


def test_each_shop_counts_apart_even_for_the_same_user_id(rates, shop, other_shop):
    rates(staff_burst="2/minute")
    alpha_owner, beta_owner = owner_of(shop), owner_of(other_shop)
    alpha = login(Client(HTTP_HOST=host_of(shop)), shop, alpha_owner)  # a session, no token
    beta = login(Client(HTTP_HOST=host_of(other_shop)), other_shop, beta_owner)
    assert [alpha.get(CUSTOMERS).status_code for _ in range(2)] == [200, 200]

    assert_throttled(alpha.get(CUSTOMERS))
    assert beta.get(CUSTOMERS).status_code == 200
    # The counter is keyed by the user's id, and the cache key carries the shop's schema:
    # the same id in the other shop finds no counter.
    key = f"throttle_staff_burst_user-{alpha_owner.pk}"
    with in_schema(shop):
        assert len(cache.get(key)) == 2
    with in_schema(other_shop):
        assert len(cache.get(key, [])) == (1 if beta_owner.pk == alpha_owner.pk else 0)


def test_failed_credentials_are_counted_per_address(rates, shop):
    rates(anon_burst="2/minute")
    guesser = Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION="Token not-a-key")
    assert [guesser.get(CUSTOMERS).status_code for _ in range(2)] == [401, 401]

    assert_throttled(guesser.get(CUSTOMERS))
    # A made-up X-Forwarded-For buys no new budget (no proxy is trusted by default)...
    assert_throttled(guesser.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="198.51.100.9"))
    # ...another address has its own, and staff with a valid token are counted apart.
    elsewhere = guesser.get(CUSTOMERS, REMOTE_ADDR="192.0.2.7")
    assert elsewhere.status_code == 401 and elsewhere.json() == {
        "detail": "Invalid or revoked token."}
    assert api_client(shop).get(CUSTOMERS).status_code == 200


def test_the_schema_is_readable_anonymously_within_the_anonymous_rate(rates, shop_client):
    rates(anon_burst="2/minute")
    schema = shop_client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert shop_client.get("/api/schema/?format=json").status_code == 200
    assert_throttled(shop_client.get("/api/schema/?format=json"))

    # Every operation documents the 429 and its Retry-After.
    for path, operations in schema.json()["paths"].items():
        for method, operation in operations.items():
            throttled = operation["responses"]["429"]
            assert "Retry-After" in throttled["headers"], (method, path)
            assert throttled["content"]["application/json"]["schema"]["$ref"].endswith(
                "/Detail")


def test_rates_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("API_RATE_TEST", raising=False)
    assert env_rate("API_RATE_TEST", "1000/hour") == "1000/hour"
    monkeypatch.setenv("API_RATE_TEST", "50/minute")
    assert env_rate("API_RATE_TEST", "1000/hour") == "50/minute"
    for wrong in ("lots", "50/fortnight", "-5/minute", "50"):
        monkeypatch.setenv("API_RATE_TEST", wrong)
        with pytest.raises(ImproperlyConfigured, match="API_RATE_TEST must look like"):
            env_rate("API_RATE_TEST", "1000/hour")
