"""`make bench`, sales part: checkout throughput (uncontended, and 100 buyers on 10 units) and
the dashboard order list with 10,000 orders.

    python -m tests.bench.sales            # writes the "Sales (issue 4)" section of docs/benchmarks.md
    python -m tests.bench.sales --quick    # 1,000 orders, shorter runs, prints only

Method: a database of its own (`bench_sales`) on the embedded cluster; shop `big` with 10,000
orders and shop `small` with 10 (both with a small catalog). Checkout runs through the real
services (cart, checkout, stock locks, order numbering) in threads of one process against the
same PostgreSQL; the order list is served by gunicorn (2 sync workers, DEBUG off) and compared
with the reference view of the catalog benchmark in the same server run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.catalog import Gunicorn, compare_pages, login, server_env
from tests.bench.run import PY, ROOT, Cluster, app_env, machine, run, write_docs

SECTION = "## Sales (issue 4)"
DB = "bench_sales"
LIST_GOAL = 0.2
MAX_QUERIES = 8


def _task(env: dict, *args: str) -> dict:
    out = subprocess.run([PY, "-m", "tests.bench.sales_tasks", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.sales")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    orders = 1_000 if args.quick else 10_000
    seconds = args.seconds or (4.0 if args.quick else 15.0)
    logdir = Path(tempfile.mkdtemp(prefix="bench-sales-"))
    cluster = Cluster()
    started = datetime.now(UTC)

    print(f"preparing {DB}: {orders} orders ...", flush=True)
    cluster.create(DB)
    env = app_env(cluster, DB, EMAIL_URL="memory://")
    prep = {
        "migrate": run([PY, "manage.py", "migrate_schemas", "--shared"], env,
                       logdir / "migrate.log"),
        "shops": run([PY, "-m", "tests.bench.catalog_tasks", "seed", "--subdomain", "big",
                      "--products", "100"], env, logdir / "seed-big.log")
        + run([PY, "-m", "tests.bench.catalog_tasks", "seed", "--subdomain", "small",
               "--products", "100"], env, logdir / "seed-small.log"),
        "orders": run([PY, "-m", "tests.bench.sales_tasks", "seed", "--subdomain", "big",
                       "--orders", str(orders)], env, logdir / "orders-big.log")
        + run([PY, "-m", "tests.bench.sales_tasks", "seed", "--subdomain", "small",
               "--orders", "10"], env, logdir / "orders-small.log"),
    }
    run([PY, "manage.py", "collectstatic", "--noinput", "-v0"],
        server_env(cluster, DB, cache_seconds=0), logdir / "collectstatic.log")

    counts = {sub: _task(env, "queries", "--subdomain", sub) for sub in ("small", "big")}
    checkout = {threads: _task(env, "checkout", "--subdomain", "small", "--seconds",
                               str(seconds), "--threads", str(threads)) for threads in (1, 2)}
    race = _task(env, "race", "--subdomain", "small", "--buyers", "100", "--units", "10",
                 "--connections", "20")
    for threads, r in checkout.items():
        print(f"checkout, {threads} buyer(s): {r['orders_per_s']:.1f} orders/s "
              f"(p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms)", flush=True)
    print(f"race: {race}", flush=True)

    loads = [os.getloadavg()[0]]
    with Gunicorn(server_env(cluster, DB, cache_seconds=0), logdir, "sales") as server:
        port = server.port
        cookies = login(port, "big").jars["big.localhost"]
        results = compare_pages(port, f"big.localhost:{port}", [
            ("dashboard order list", "/dashboard/sales/orders/", cookies),
            ("dashboard order list, page 50", "/dashboard/sales/orders/?page=50", cookies),
        ], seconds=seconds)
    loads.append(os.getloadavg()[0])

    section = render(started, orders, seconds, prep, counts, checkout, race, results, cluster,
                     loads)
    print(section)
    if not args.quick:
        write_docs(section, SECTION)
    cluster.drop(DB)


def render(started, orders, seconds, prep, counts, checkout, race, results, cluster,
           loads) -> str:
    lines = [SECTION, "",
             f"Run {started:%Y-%m-%d %H:%M} UTC by `make bench` (`python -m tests.bench.sales`).",
             "", "### Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine(cluster).items()]
    lines.append(f"- load average (1 min) at the start and end of the page runs: "
                 f"{loads[0]:.1f} / {loads[1]:.1f}")
    lines += ["", "### Method", "",
              f"- Database `{DB}` of its own on the embedded cluster: shop `big` with "
              f"{orders:,} orders (two lines and a history row each, over {orders // 10:,} "
              "customers, written set-based, then `VACUUM (ANALYZE)` as autovacuum would "
              "after such a load) and shop `small` with 10 (preparation: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in prep.items()) + ").",
              "- Checkout: the real services (a new cart, one line added, the order placed with "
              "its stock reserved and its number taken), Python threads in one process, for "
              f"{seconds:.0f} s; the race releases 100 buyers at once on one product with 10 "
              "units, served by 20 database connections (threads), and waits for every answer.",
              "- Order list: gunicorn, 2 sync workers, DEBUG off, on 127.0.0.1; 2 concurrent "
              f"clients for {seconds:.0f} s after a 1 s warm-up, signed in as the owner; the "
              "reference is `/_bench/reference/` (one query, a tiny template), taking turns "
              "with each page in short slices so that load from elsewhere weighs on both; each "
              "ratio uses the reference of its own slices.",
              "- Queries per page: Django test client on the same database, second request.", "",
              "### Checkout", "", "| scenario | orders | orders/s | p50 ms | p99 ms |",
              "|---|--:|--:|--:|--:|"]
    for threads, r in checkout.items():
        lines.append(f"| uncontended, {threads} buyer thread(s) | {r['orders']} | "
                     f"{r['orders_per_s']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    exact = (race["placed"] == race["units"] and race["on_hand"] == race["units"]
             and race["reserved"] == race["units"] and race["audit_clean"] and not race["errors"])
    lines += ["", f"100 buyers on 10 units: **{race['placed']} orders**, {race['refused']} "
              f"refused with a message, {len(race['errors'])} errors, every answer within "
              f"{race['seconds']:.2f} s ({race['attempts_per_s']:.0f} attempts/s); stock after: "
              f"{race['on_hand']:.0f} on hand, {race['reserved']:.0f} reserved, ledger audit "
              f"{'clean' if race['audit_clean'] else 'NOT clean'} -> "
              f"{'**exact**' if exact else '**NOT exact**'}.", "",
              "### Queries per page", "",
              f"| page | 10 orders | {orders:,} orders | goal |", "|---|--:|--:|---|"]
    for label in counts["big"]:
        small, big = counts["small"][label], counts["big"][label]
        # The count must not grow with the data. Page 50 of 10 orders is past the end: it
        # lands on the last page, one count and one read more than a page that exists.
        ok = big <= small and big <= MAX_QUERIES
        lines.append(f"| {label} | {small} | {big} | no more with {orders:,} and <= "
                     f"{MAX_QUERIES}: {'**met**' if ok else '**NOT met**'} |")
    lines += ["", "Page 50 of the 10-order shop is past the end: it shows the last page, which "
              "takes a count and a second read (a page that exists comes with its total in "
              "one statement)."]
    lines += ["", "### Order list throughput", "",
              "| page | req/s | p50 ms | p99 ms | ratio to reference | goal |",
              "|---|--:|--:|--:|--:|---|"]
    for label, r in results.items():
        ratio = r["rps"] / r["reference_rps"] if r["reference_rps"] else 0
        goal = "" if label == "reference" else (
            f">= {LIST_GOAL}x: " + ("**met**" if ratio >= LIST_GOAL else "**NOT met**"))
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        lines.append(f"| {label}{errors} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                     f"{ratio:.2f}x | {goal} |")
    lines += ["", "For scale (from the issue): django-oscar's basket add takes 22 queries on "
              "this kind of machine.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
