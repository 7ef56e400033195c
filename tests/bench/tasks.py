"""In-process Django work for the benchmark, run as a subprocess by tests/bench/run.py with
DATABASE_URL pointing at the benchmark database (never the development one).

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
    sub.add_parser("hash-probe")
    sub.add_parser("drop-pooled")
    args = parser.parse_args(argv)
    _setup()
    if args.task == "seed":
        seed(args.start, args.count, args.label)
    elif args.task == "drop-pooled":
        drop_pooled()
    else:
        hash_probe()


if __name__ == "__main__":
    main()
