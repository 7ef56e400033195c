"""Test set-up: real PostgreSQL (embedded unless DATABASE_URL is set), one session-scoped shop.

- `shop` / `other_shop`: two active shops created once per session (committed), like
  django-tenants' FastTenantTestCase; each test's own rows roll back with its transaction.
- `pooled_shop`: one ready shop in the pool, so signups in tests claim it (and the rollback
  puts it back) instead of migrating a schema per test.
- `committed`: for tests that need real commits seen by other threads (concurrency, live
  server); it removes the shops and rows the test created, instead of flushing every table
  (a flush would also delete the session shops).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.accounts.roles import OWNER
from tenants.accounts.services import staff_create_owner
from tenants.models import Domain, LoginHandoff, PlatformAuditLog, Shop, ShopStatus
from tenants.services import plan_default, platform_ensure_public, shop_create_pooled


def pytest_collection_modifyitems(config, items):
    """Tests with committed data (browser journeys, races, provisioning: each migrates shop
    schemas or starts processes) run first, so the two workers share them out early instead of
    one finishing them alone at the end; the rest fill in around them."""
    items.sort(key=lambda item: "committed" not in getattr(item, "fixturenames", ()))

# The local Stripe server fixtures (`local_stripe`, `stripe_settings`): test support.
pytest_plugins = ["tests.support.stripe_server"]

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD = "a-long-test-password-42"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Argon2 is deliberately slow; tests that care about it switch it back on (see test_security).
    original = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = FAST_HASHER + list(original)
    yield
    settings.PASSWORD_HASHERS = original


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb,
                    django_db_createdb, django_db_modify_db_settings):
    """Always set up the test database, even when the selected tests only use `committed`
    (pytest-django would otherwise skip it and let them reach the development database)."""
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=keepdb,
                                 aliases={"default"})
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache follows the rolled-back data: nothing a test counted (sign-in and sign-up
    limits, API throttles) or cached is seen by the next one."""
    yield
    cache.clear()


def _ensure_shop(subdomain: str, name: str) -> Shop:
    host = f"{subdomain}.{settings.BASE_DOMAIN}"
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    if domain is not None:  # --reuse-db keeps the shop between runs
        return domain.tenant
    if not Shop.objects.filter(status=ShopStatus.POOLED).exists():
        shop_create_pooled()  # migrated once: the session's other shops are copied from it
    pooled = shop_create_pooled()
    shop = Shop.objects.get(pk=pooled.pk)
    shop.name = name
    shop.plan = plan_default()
    shop.owner_email = f"owner@{host}"
    shop.locale = "en"
    shop.activate()
    shop.save()
    Domain.objects.create(domain=host, tenant=shop, is_primary=True)
    with schema_context(shop.schema_name):
        staff_create_owner(email=f"owner@{host}", password_hash=_hash(PASSWORD))
    return shop


def _hash(password: str) -> str:
    from django.contrib.auth.hashers import make_password  # after the hasher override

    return make_password(password)


@pytest.fixture(scope="session")
def _platform(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        platform_ensure_public()


@pytest.fixture(scope="session")
def shop(_platform, django_db_blocker) -> Shop:
    with django_db_blocker.unblock():
        return _ensure_shop("alpha", "Alpha Shop")


@pytest.fixture(scope="session")
def other_shop(_platform, django_db_blocker) -> Shop:
    with django_db_blocker.unblock():
        return _ensure_shop("beta", "Beta Shop")


@pytest.fixture(scope="session")
def _pool_seed(_platform, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        if not Shop.objects.filter(status=ShopStatus.POOLED).exists():
            shop_create_pooled()


@pytest.fixture
def pooled_shop(_pool_seed, db) -> Shop:
    """A ready shop in the pool (committed once per session; a `committed` test that claimed
    it removes it, and the next test creates another)."""
    return Shop.objects.filter(status=ShopStatus.POOLED).first() or shop_create_pooled()


def host_of(shop: Shop) -> str:
    return shop.get_primary_domain().domain


@pytest.fixture
def platform_client() -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture
def shop_client(shop, db) -> Client:
    return Client(HTTP_HOST=host_of(shop))


def owner_of(shop: Shop) -> User:
    with schema_context(shop.schema_name):
        return User.objects.get(groups__name=OWNER, email__startswith="owner@")


@pytest.fixture
def owner(shop, db) -> User:
    return owner_of(shop)


def login(client: Client, shop: Shop, user: User) -> Client:
    """Sign `user` in on `shop`'s host: the session row goes into that shop's schema."""
    with schema_context(shop.schema_name):
        client.force_login(user)
    return client


@pytest.fixture
def owner_client(shop_client, shop, owner) -> Client:
    return login(shop_client, shop, owner)


@pytest.fixture
def platform_admin(db) -> User:
    return User.objects.create_user("root@platform.test", PASSWORD, is_staff=True)


@pytest.fixture
def admin_client(platform_client, platform_admin) -> Client:
    platform_client.force_login(platform_admin)
    return platform_client


@contextmanager
def in_schema(shop: Shop) -> Iterator[None]:
    with schema_context(shop.schema_name):
        yield


def schema_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'shop\\_%%'")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def committed(_platform, django_db_blocker):
    """Real commits, for tests where several threads or a live server must see the data.
    Whatever shops, audit rows and hand-offs the test created are removed afterwards."""
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "never commit to a real DB"
        shops_before = set(
            Shop.objects.exclude(status=ShopStatus.POOLED).values_list("pk", flat=True)
        )
        pooled_before = set(
            Shop.objects.filter(status=ShopStatus.POOLED).values_list("pk", flat=True)
        )
        audit_before = PlatformAuditLog.objects.order_by("-pk").values_list("pk", flat=True).first()
        handoff_before = LoginHandoff.objects.order_by("-pk").values_list("pk", flat=True).first()
        users_before = set(User.objects.values_list("pk", flat=True))
        try:
            yield
        finally:
            connection.set_schema_to_public()
            PlatformAuditLog.objects.filter(pk__gt=audit_before or 0).delete()
            LoginHandoff.objects.filter(pk__gt=handoff_before or 0).delete()
            User.objects.exclude(pk__in=users_before).delete()
            # Shops the test created or claimed from the pool; pooled ones it left are kept.
            leftovers = Shop.objects.exclude(pk__in=shops_before).exclude(
                pk__in=pooled_before, status=ShopStatus.POOLED
            )
            for shop in leftovers:
                shop.delete(force_drop=True)
