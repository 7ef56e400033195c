"""In-process Django work for the benchmark, run as a subprocess by tests/bench/run.py with
DATABASE_URL pointing at the benchmark database (never the development one).

    python -m tests.bench.tasks fill-pool --count 990        # ready shops restored from a dump
    python -m tests.bench.tasks seed --start 0 --count 990   # real active shops, via the services
    python -m tests.bench.tasks hash-probe                  # one password hash per stdin line
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("tests.bench.tasks refuses to run without DATABASE_URL (it would seed the dev database)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(start: int, count: int, label: str) -> None:
    """`count` active shops opened through the real services: a ready shop made as the pool
    makes them (`shop_create_pooled`: copied from an up-to-date pooled shop, the first one
    migrated), then `shop_open` claims one, names it, attaches its domain and creates its owner.
    Pooled shops stay behind as the next copy's source (`drop-pooled` removes them)."""
    from django.db import connection

    from tenants.models import AuditAction, Shop, ShopStatus
    from tenants.services import POOL_LOCK_KEY, shop_create_pooled, shop_open

    began = time.monotonic()
    for done, index in enumerate(range(start, start + count), start=1):
        # One copier at a time, as the pool's own filler (two processes copying at once
        # contend on the copy function and fall back to migrating).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [POOL_LOCK_KEY])
        try:
            while Shop.objects.filter(status=ShopStatus.POOLED).count() < 2:
                shop_create_pooled()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [POOL_LOCK_KEY])
        shop_open(
            name=f"Existing shop {index:04d}",
            subdomain=f"existing-{index:04d}",
            owner_email=f"owner{index:04d}@example.com",
            owner_password=None,  # console-style owner: no hash, it is not what we measure
            action=AuditAction.SHOP_CREATED,
        )
        if done % 25 == 0 or done == count:
            elapsed = time.monotonic() - began
            rate = elapsed / done
            print(
                f"  [{label}] {done}/{count} shops, {rate * 1000:.0f} ms/shop, "
                f"eta {rate * (count - done):.0f} s",
                flush=True,
            )


def _pg_tool(name: str) -> str:
    """The client tool of the embedded server's own version (pg_dump refuses an older server)."""
    import shutil
    from pathlib import Path

    try:
        import pgserver
    except ImportError:
        found = None
    else:
        found = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
    if found is not None and found.exists():
        return str(found)
    return shutil.which(name) or sys.exit(f"{name} not found")


def fill_pool(count: int, batch: int = 20) -> None:
    """`count` ready (pooled) shops in bulk, for seeding only: one pooled shop is made by the
    services (copied or migrated as the pool makes them), dumped once with pg_dump (structure
    and rows: migrations applied, role groups), and restored under new schema names by psql,
    `batch` schemas per transaction, with their Shop rows. The result is what the pool's copy
    makes, without the per-copy catalogue queries that grow with the number of schemas; the
    shops are then opened one by one through `shop_open` by `seed`."""
    import subprocess

    from django.db import connection, transaction

    from tenants.models import Shop, ShopStatus
    from tenants.services import _new_schema_name, shop_create_pooled

    url = os.environ["DATABASE_URL"]
    source = (Shop.objects.filter(status=ShopStatus.POOLED).order_by("pk").first()
              or shop_create_pooled())
    dump = subprocess.run(
        [_pg_tool("pg_dump"), "--schema", source.schema_name, "--no-owner", "--no-privileges",
         "--dbname", url],
        check=True, capture_output=True, text=True,
    ).stdout
    # Renaming is a plain text replacement: the random name appears nowhere else in the dump.
    assert source.schema_name.startswith("shop_") and len(source.schema_name) > 10
    began = time.monotonic()
    made = 0
    while made < count:
        names = [_new_schema_name() for _ in range(min(batch, count - made))]
        script = "".join(dump.replace(source.schema_name, name) for name in names)
        subprocess.run(
            [_pg_tool("psql"), "--quiet", "--no-psqlrc", "--single-transaction",
             "--set", "ON_ERROR_STOP=1", "--dbname", url],
            input=script, check=True, text=True, stdout=subprocess.DEVNULL,
        )
        with transaction.atomic():
            Shop.objects.bulk_create([
                Shop(schema_name=name) for name in names  # bulk: no schema creation by save()
            ])
        made += len(names)
        rate = (time.monotonic() - began) / made
        print(f"  [fill-pool] {made}/{count} ready shops, {rate * 1000:.0f} ms/shop, "
              f"eta {rate * (count - made):.0f} s", flush=True)
    # Thousands of relations just appeared: until autovacuum gets to the system catalogues,
    # their statistics describe a tenth of them and the pool's copy (catalogue queries)
    # slows from 0.5 s to 5 s and more. Refreshed here as an operator would after a bulk load
    # (docs/operations.md).
    with connection.cursor() as cursor:
        for catalogue in CATALOGUES:
            cursor.execute(f"ANALYZE pg_catalog.{catalogue}")
    connection.close()


# The system catalogues a schema copy reads (django-tenants' clone_schema and tenants.cloning).
CATALOGUES = ("pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_depend", "pg_index",
              "pg_namespace", "pg_type", "pg_trigger", "pg_proc", "pg_sequence", "pg_description")


def drop_pooled() -> None:
    """After every seeding job: the scenarios decide what the pool holds, so the copy sources
    the jobs left go."""
    from tenants.models import Shop, ShopStatus

    for spare in Shop.objects.filter(status=ShopStatus.POOLED):
        spare.delete(force_drop=True)


def hash_probe() -> None:
    """One `make_password()` with the project's default hasher per line read on stdin; prints
    its cost in ms. Long-lived, so the benchmark can time hashes between signups, under the
    same machine load as the signups themselves."""
    from django.contrib.auth.hashers import get_hasher, make_password

    make_password("warm-up-password-0")  # the first call loads argon2
    print(json.dumps({"hasher": get_hasher().algorithm}), flush=True)
    for i, _line in enumerate(sys.stdin):
        began = time.perf_counter()
        make_password(f"a-benchmark-password-{i}")
        print(f"{(time.perf_counter() - began) * 1000:.3f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.tasks")
    sub = parser.add_subparsers(dest="task", required=True)
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("--start", type=int, default=0)
    p_seed.add_argument("--count", type=int, required=True)
    p_seed.add_argument("--label", default="seed")
    p_fill = sub.add_parser("fill-pool")
    p_fill.add_argument("--count", type=int, required=True)
    sub.add_parser("hash-probe")
    sub.add_parser("drop-pooled")
    args = parser.parse_args(argv)
    _setup()
    if args.task == "seed":
        seed(args.start, args.count, args.label)
    elif args.task == "fill-pool":
        fill_pool(args.count)
    elif args.task == "drop-pooled":
        drop_pooled()
    else:
        hash_probe()


if __name__ == "__main__":
    main()
