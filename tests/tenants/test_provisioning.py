"""Provisioning under concurrency and failure, against real PostgreSQL with real commits."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from tenants import services
from tenants.errors import ProvisioningError, SignupError
from tenants.models import Domain, PlatformAuditLog, Shop, ShopStatus
from tests.conftest import PASSWORD, schema_names


def run_concurrently(*calls):
    """Run each call in its own thread (own DB connection), released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread raised
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def open_shop(subdomain: str, email: str):
    return lambda: services.shop_open(name=f"Shop {subdomain}", subdomain=subdomain,
                                      owner_email=email, owner_password=PASSWORD)


def ensure_pool(n: int) -> None:
    while Shop.objects.filter(status=ShopStatus.POOLED).count() < n:
        services.shop_create_pooled()


@pytest.fixture
def pool(request, _platform, django_db_blocker) -> None:
    """`@pytest.mark.pool(n)`: n ready shops in the pool before `committed` takes its snapshot,
    so those a test leaves unclaimed serve the next one (a shop takes seconds to migrate)."""
    with django_db_blocker.unblock():
        ensure_pool(request.node.get_closest_marker("pool").args[0])


@pytest.mark.pool(4)
def test_concurrent_signups_never_claim_the_same_pooled_shop(pool, committed):

    results = run_concurrently(*(open_shop(f"race-{i}", f"o{i}@example.test") for i in range(4)))

    assert all(not isinstance(r, Exception) for r in results), results
    claimed = [r.shop.pk for r in results]
    assert len(set(claimed)) == 4
    assert all(r.from_pool for r in results)
    for r in results:
        assert Shop.objects.get(pk=r.shop.pk).domains.get().domain == \
            f"{r.domain.subdomain}.{settings.BASE_DOMAIN}"


@pytest.mark.pool(3)
def test_concurrent_signups_for_one_subdomain_open_exactly_one_shop(pool, committed):
    pooled_before = Shop.objects.filter(status=ShopStatus.POOLED).count()

    results = run_concurrently(*(open_shop("same-name", f"o{i}@example.test") for i in range(3)))

    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(e, SignupError) and e.field == "subdomain" for e in losers)
    assert Domain.objects.filter(domain=f"same-name.{settings.BASE_DOMAIN}").count() == 1
    assert Shop.objects.filter(status=ShopStatus.POOLED).count() == pooled_before - 1, \
        "the losers' pooled shops went back to the pool"
    assert PlatformAuditLog.objects.filter(action="shop.signed_up",
                                           data__subdomain="same-name").count() == 1


@pytest.mark.pool(1)
@pytest.mark.parametrize("copy", [False, True], ids=["migrating", "copy-then-migrating"])
def test_failed_schema_migration_leaves_no_row_and_no_schema(pool, committed, monkeypatch,
                                                             settings, copy):
    from django.db import DatabaseError

    settings.SHOP_CREATE_BY_COPY = copy
    schemas, shops = schema_names(), Shop.objects.count()

    def broken_migrate(*args, **kwargs):
        raise RuntimeError("migration exploded")

    def broken_copy(**kwargs):
        raise DatabaseError("copy exploded")

    monkeypatch.setattr("django_tenants.models.call_command", broken_migrate)
    monkeypatch.setattr("tenants.services.schema_clone", broken_copy)
    with pytest.raises(ProvisioningError):
        services.shop_create_pooled()

    assert schema_names() == schemas
    assert Shop.objects.count() == shops


@pytest.mark.pool(1)
def test_failed_owner_creation_rolls_the_whole_signup_back(pool, committed, monkeypatch):
    pooled = set(Shop.objects.filter(status=ShopStatus.POOLED).values_list("pk", flat=True))
    domains, audit = Domain.objects.count(), PlatformAuditLog.objects.count()

    def broken_owner(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "staff_create_owner", broken_owner)
    with pytest.raises(RuntimeError):
        services.shop_open(name="Doomed", subdomain="doomed", owner_email="d@example.test",
                           owner_password=PASSWORD)

    assert Domain.objects.count() == domains
    assert PlatformAuditLog.objects.count() == audit
    assert set(Shop.objects.filter(status=ShopStatus.POOLED).values_list("pk", flat=True)) == pooled
    assert services.subdomain_check("doomed") is None, "the subdomain is still free"


def test_pool_top_up_fills_to_target_and_one_filler_at_a_time(committed):
    ready = Shop.objects.filter(status=ShopStatus.POOLED).count()
    results = run_concurrently(lambda: services.pool_top_up(target=ready + 2),
                               lambda: services.pool_top_up(target=ready + 2))
    assert sorted(results) == [0, 2], "the second filler found the lock taken and left"
    assert Shop.objects.filter(status=ShopStatus.POOLED).count() == ready + 2


def test_pooled_shops_are_migrated_like_any_shop(committed):
    shop = services.shop_create_pooled()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name IN ('accounts_user', 'auth_group', 'django_session')",
            [shop.schema_name],
        )
        assert cursor.fetchone()[0] == 3
    assert shop.schema_name.startswith("shop_") and len(shop.schema_name) == 17


@pytest.mark.pool(1)
def test_a_signup_refills_the_pool_in_the_background(pool, committed, settings):
    settings.SHOP_POOL_SIZE = Shop.objects.filter(status=ShopStatus.POOLED).count()

    services.shop_open(name="Refill", subdomain="refill", owner_email="r@example.test",
                       owner_password=PASSWORD)

    filler = next(t for t in threading.enumerate() if t.name == "pool-top-up")
    filler.join(timeout=60)
    assert Shop.objects.filter(status=ShopStatus.POOLED).count() == settings.SHOP_POOL_SIZE


@pytest.mark.pool(2)
def test_migrate_schemas_skips_shops_with_nothing_to_apply(pool, committed, capsys):
    from django.core.management import call_command

    from tenants.fast_migrate import schemas_needing_migration

    behind, current = Shop.objects.filter(status=ShopStatus.POOLED)[:2]
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{behind.schema_name}".django_migrations '
            "WHERE app = 'sessions' AND name = '0001_initial'"
        )
    shops = [behind.schema_name, current.schema_name]
    assert schemas_needing_migration(shops, database="default") == [behind.schema_name]

    # The shop that lacks a migration goes through migrate (fake: its table already exists).
    call_command("migrate_schemas", schema_name=behind.schema_name, fake=True, verbosity=0)
    assert schemas_needing_migration(shops, database="default") == []

    call_command("migrate_schemas", verbosity=1)
    out = capsys.readouterr().out
    total = Shop.objects.exclude(schema_name="public").count()
    assert f"{total} of {total} shops are up to date: skipped." in out


def _row_counts(schema: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables "
                       "WHERE table_schema = %s AND table_type = 'BASE TABLE'", [schema])
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608 - catalog names
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.pool(1)
def test_a_copied_shop_is_the_same_as_a_migrated_one(pool, committed, settings):
    """Structure (columns, constraints by their Django names, indexes, triggers, functions,
    sequences) and seeded rows: the copy cannot be told from a shop made by the migrations,
    so later migrations apply to both alike."""
    from tenants.cloning import schema_differences

    settings.SHOP_CREATE_BY_COPY = False
    migrated = services.shop_create_pooled()
    # Sources whose sequences moved on (a rolled-back signup still uses up ids).
    with connection.cursor() as cursor:
        for other in Shop.objects.filter(status=ShopStatus.POOLED).exclude(pk=migrated.pk):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 500)",
                           [f'"{other.schema_name}".catalog_baseproduct'])
    settings.SHOP_CREATE_BY_COPY = True
    copied = services.shop_create_pooled()

    assert schema_differences(migrated.schema_name, copied.schema_name) == {}
    assert _row_counts(copied.schema_name) == _row_counts(migrated.schema_name)
    # The frozen-invoice trigger works in the copy, on the copy's own tables.
    with connection.cursor() as cursor:
        cursor.execute(f'SET search_path TO "{copied.schema_name}", public')
        cursor.execute("SELECT count(*) FROM billing_invoice")
        assert cursor.fetchone()[0] == 0
    connection.set_schema_to_public()


@pytest.mark.pool(1)
def test_a_pooled_shop_missing_a_migration_is_not_copied(pool, committed):
    """During a deploy a pooled shop may lag behind the code: a copy of it would lack what the
    migration adds, so the new shop is migrated instead."""
    from tenants.cloning import schema_differences

    source = Shop.objects.filter(status=ShopStatus.POOLED).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{source.schema_name}".django_migrations '
                       "WHERE app = 'sessions' AND name = '0001_initial'")
    try:
        made = services.shop_create_pooled()
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{made.schema_name}".django_migrations '
                           "WHERE app = 'sessions'")
            assert cursor.fetchone()[0] == 1, "migrated, not copied from the lagging shop"
        # (sequence positions aside: the source shop may have served other tests)
        assert set(schema_differences(source.schema_name, made.schema_name)) <= {"sequences"}
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'INSERT INTO "{source.schema_name}".django_migrations (app, name, '
                           "applied) VALUES ('sessions', '0001_initial', now())")


@pytest.mark.pool(1)
def test_a_failed_copy_falls_back_to_the_migrations(pool, committed, monkeypatch):
    from django.db import DatabaseError

    from tenants.cloning import schema_differences

    def broken(**kwargs):
        raise DatabaseError("tuple concurrently updated")

    monkeypatch.setattr("tenants.services.schema_clone", broken)
    made = services.shop_create_pooled()
    source = Shop.objects.filter(status=ShopStatus.POOLED).exclude(pk=made.pk).first()
    assert made.schema_name in schema_names()
    # (sequence positions aside: the source shop may have served other tests)
    assert set(schema_differences(source.schema_name, made.schema_name)) <= {"sequences"}
