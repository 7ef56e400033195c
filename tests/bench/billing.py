"""`make bench`, billing part: invoice issuing with 8 concurrent workers (gap-free numbers at
the end), Stripe webhook handling rate over HTTP, and invoice PDF generation time.

    python -m tests.bench.billing            # writes the "Billing (issue 5)" section of docs/benchmarks.md
    python -m tests.bench.billing --quick    # fewer invoices and events, prints only

Method: a database of its own (`bench_billing`) on the embedded cluster and one shop with a
legal identity and a connected Stripe account. Issuing: 8 processes, each issuing its slice of
the drafts through `invoice_issue` (row lock, number from the shop's counter, snapshots,
history), released together once all have loaded Django (their start-up is not timed).
Webhooks: gunicorn (2 sync workers, DEBUG off) receives
`checkout.session.completed` events signed with the Stripe SDK's helper, one per pending card
order (each confirms its order, then invoices and settles it), from 2 client threads; then the
same events again (replays: acknowledged, no second effect).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.catalog import Gunicorn, server_env
from tests.bench.client import Browser
from tests.bench.run import PY, ROOT, Cluster, app_env, machine, percentile, run, write_docs

SECTION = "## Billing (issue 5)"
DB = "bench_billing"
WORKERS = 8
SECRET = "whsec_bench_secret"
ACCOUNT = "acct_1BenchShop"


def _task(env: dict, *args: str) -> object:
    out = subprocess.run([PY, "-m", "tests.bench.billing_tasks", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def issue_concurrently(env: dict, ids: list[int]) -> dict:
    slices = [ids[n::WORKERS] for n in range(WORKERS)]
    procs = [subprocess.Popen([PY, "-m", "tests.bench.billing_tasks", "issue", "--subdomain",
                               "big", "--ids", ",".join(map(str, part))], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for part in slices]
    for proc in procs:  # every worker has loaded Django
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(proc.stderr.read()[-2000:])
    began = time.monotonic()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    latencies: list[float] = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode:
            raise RuntimeError(err[-2000:])
        latencies += json.loads(out.strip().splitlines()[-1])["latencies"]
    wall = time.monotonic() - began
    return {"issued": len(latencies), "seconds": wall, "per_s": len(latencies) / wall,
            "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000}


def _event(session_id: str, n: int) -> str:
    return json.dumps({
        "id": f"evt_bench_{n}", "object": "event", "type": "checkout.session.completed",
        "account": ACCOUNT, "created": int(time.time()), "livemode": False,
        "data": {"object": {"id": session_id, "object": "checkout.session",
                            "payment_status": "paid", "status": "complete",
                            "payment_intent": f"pi_bench_{n}"}}})


def post_events(port: int, bodies: list[str], *, clients: int = 2) -> dict:
    import stripe  # the SDK's own signing helper, as Stripe signs them

    queue = list(enumerate(bodies))
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes: dict[str, int] = {}

    def worker() -> None:
        browser = Browser(port)
        while True:
            with lock:
                if not queue:
                    return
                _n, body = queue.pop()
            header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
            began = time.perf_counter()
            response = browser.post_json(f"localhost:{port}", "/stripe/webhook/", body,
                                         {"Stripe-Signature": header})
            elapsed = time.perf_counter() - began
            outcome = json.loads(response.body).get("outcome", str(response.status))
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    return {"events": len(latencies), "per_s": len(latencies) / wall,
            "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "outcomes": outcomes}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.billing")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    drafts, events = (400, 200) if args.quick else (4000, 1500)
    logdir = Path(tempfile.mkdtemp(prefix="bench-billing-"))
    cluster = Cluster()
    started = datetime.now(UTC)
    print(f"preparing {DB}: {drafts} drafts, {events} card orders ...", flush=True)
    cluster.create(DB)
    env = app_env(cluster, DB, EMAIL_URL="memory://")
    prep = {
        "migrate": run([PY, "manage.py", "migrate_schemas", "--shared"], env,
                       logdir / "migrate.log"),
        "shop": run([PY, "-m", "tests.bench.catalog_tasks", "seed", "--subdomain", "big",
                     "--products", "10"], env, logdir / "seed.log"),
        "drafts and orders": run([PY, "-m", "tests.bench.billing_tasks", "seed", "--subdomain",
                                  "big", "--drafts", str(drafts), "--card-orders",
                                  str(events)], env, logdir / "seed-billing.log"),
    }
    loads = [os.getloadavg()[0]]
    issuing = issue_concurrently(env, _task(env, "draft-ids", "--subdomain", "big"))
    issuing.update(_task(env, "check", "--subdomain", "big"))
    print(f"issuing: {issuing}", flush=True)

    sessions = _task(env, "session-ids", "--subdomain", "big")
    bodies = [_event(session, n) for n, session in enumerate(sessions)]
    wenv = {**server_env(cluster, DB, cache_seconds=0), "STRIPE_WEBHOOK_SECRET": SECRET,
            "EMAIL_URL": "memory://"}
    with Gunicorn(wenv, logdir, "webhooks") as server:
        first = post_events(server.port, bodies)
        replays = post_events(server.port, bodies)
    webhooks = {"first": first, "replays": replays,
                **_task(env, "check", "--subdomain", "big")}
    print(f"webhooks: {webhooks}", flush=True)
    loads.append(os.getloadavg()[0])

    pdf = None
    try:
        from tests.bench.billing_pdf import pdf_generation_ms
    except ImportError:
        pdf_generation_ms = None
    if pdf_generation_ms is not None:
        out = subprocess.run([PY, "-m", "tests.bench.billing_pdf", "--json"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        if out.returncode == 0:
            pdf = json.loads(out.stdout.strip().splitlines()[-1])
    section = render(started, drafts, prep, issuing, webhooks, pdf, cluster, loads)
    print(section)
    if not args.quick:
        write_docs(section, SECTION)
    cluster.drop(DB)


def render(started, drafts, prep, issuing, webhooks, pdf, cluster, loads) -> str:
    lines = [SECTION, "",
             f"Run {started:%Y-%m-%d %H:%M} UTC by `make bench` (`python -m tests.bench.billing`).",
             "", "### Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine(cluster).items()]
    lines += [f"- load average (1 min) at the start and end: {loads[0]:.1f} / {loads[1]:.1f}",
              "", "### Method", "", "A " + __doc__.split("Method: a ", 1)[1].strip().replace("\n", " "),
              "(preparation: " + ", ".join(f"{k} {v:.1f} s" for k, v in prep.items()) + ").",
              "", "### Results", "", "| measure | value |", "|---|---|"]
    lines.append(f"| invoices issued by {WORKERS} workers | {issuing['issued']:,} in "
                 f"{issuing['seconds']:.1f} s = **{issuing['per_s']:.0f} invoices/s** "
                 f"(p50 {issuing['p50']:.1f} ms, p99 {issuing['p99']:.1f} ms per invoice) |")
    lines.append(f"| numbers at the end | F-…-00001 to F-…-{issuing['issued']:05d}: "
                 f"{'**gap-free, no duplicate**' if issuing['gap_free'] else '**GAP or DUPLICATE**'} |")
    first, replays = webhooks["first"], webhooks["replays"]
    lines.append(f"| webhooks, first delivery ({first['events']:,} events: confirm, invoice, "
                 f"settle) | **{first['per_s']:.1f} events/s** (p50 {first['p50']:.1f} ms, "
                 f"p99 {first['p99']:.1f} ms); outcomes {first['outcomes']} |")
    lines.append(f"| webhooks, replays of the same events | **{replays['per_s']:.1f} events/s** "
                 f"(p50 {replays['p50']:.1f} ms); outcomes {replays['outcomes']} |")
    lines.append(f"| after both rounds | {webhooks['payments_succeeded']:,} payments succeeded, "
                 f"{webhooks['events']:,} event rows (one per event) |")
    if pdf:
        lines.append(f"| invoice PDF (Factur-X, XSD-validated), median of {pdf['samples']} | "
                     f"**{pdf['median_ms']:.0f} ms** (p90 {pdf.get('p90_ms', 0):.0f} ms) |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
