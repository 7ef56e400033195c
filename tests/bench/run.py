"""`make bench`: signup-to-ready over real HTTP, and no-op `migrate_schemas`, at 10 and 1,000 shops.

Everything runs on the embedded PostgreSQL cluster (.data/pg), in databases of its own; the
development database is never touched:

- `bench`             drop+create, `migrate_schemas --shared`, 10 active shops (template);
- `bench_seed_<N>`    N active shops: kept between runs and reused while its fingerprint
                      (migrations, Django/django-tenants versions, seeding code) matches;
                      `--rebuild` forces a rebuild;
- `bench_a/_b/_c`     each scenario's fresh copy (`CREATE DATABASE ... TEMPLATE`), so "10
                      existing shops" means exactly 10; dropped at the end unless `--keep`.

The app runs under gunicorn (sync workers) on 127.0.0.1 with DEBUG=1, SHOP_POOL_SIZE=0 (the
benchmark fills the pool itself: background top-up would compete with the measured signups) and
no Celery broker. Signups are sequential, one visitor at a time; (a) 10 shops and (b) 1,000
shops run side by side, alternating, so machine noise hits both alike.

    python -m tests.bench.run            # full run (~15-25 min the first time), writes docs/benchmarks.md
    python -m tests.bench.run --quick    # smoke: 10 signups, 50 existing shops, prints only
    python -m tests.bench.run --clean    # drop the benchmark databases (cache included)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.bench.client import SignupFailed, signup, wait_ready

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Foundation (issue 2)"
PY = sys.executable
BASE_SHOPS = 10
HASH_SAMPLES_BEFORE = 10  # hashes timed before a scenario's signups; one more after each signup
POOL_SPARE = 5  # ready shops left in the pool after the last signup
WARMUP_SIGNUPS = 3  # per scenario, untimed: first requests of each worker load code and templates
FLAT_TOLERANCE = 0.20  # p50 at the large count may exceed p50 at 10 shops by at most 20 %
MIGRATE_GOAL_S = 60.0


# ---------------------------------------------------------------------------------------------
# Databases on the embedded cluster
# ---------------------------------------------------------------------------------------------
def _data_dir() -> Path:
    return Path(os.environ.get("DATA_DIR", ROOT / ".data"))


class Cluster:
    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        from config.embedded_pg import embedded_database_url

        self.admin_url = embedded_database_url(_data_dir())
        import psycopg

        self.conn = psycopg.connect(self.admin_url, autocommit=True)

    def url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))

    def version(self) -> str:
        return self.conn.execute("SHOW server_version").fetchone()[0]

    def exists(self, name: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        return row is not None

    def drop(self, name: str) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, template: str | None = None) -> float:
        began = time.monotonic()
        self.drop(name)
        if template:
            # FILE_COPY: copies the files at once instead of WAL-logging every block (PG 15+).
            self.conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            self.conn.execute(f'CREATE DATABASE "{name}"')
        return time.monotonic() - began

    def bench_databases(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT datname FROM pg_database WHERE datname IN ('bench', 'bench_a', 'bench_b', "
            r"'bench_c') OR datname LIKE 'bench\_seed\_%'"
        ).fetchall()
        return [row[0] for row in rows]

    def comment(self, name: str) -> str | None:
        row = self.conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        return row[0] if row else None

    def set_comment(self, name: str, text: str) -> None:
        from psycopg import sql

        self.conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text))
        )

    def count_shops(self, name: str) -> dict[str, int]:
        import psycopg

        with psycopg.connect(self.url(name), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM tenants_shop WHERE schema_name <> 'public' GROUP BY 1"
            ).fetchall()
        return dict(rows)


def app_env(cluster: Cluster, db: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DEBUG": "1",
        "BASE_DOMAIN": "localhost",
        "DATABASE_URL": cluster.url(db),
        "SHOP_POOL_SIZE": "0",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Every signup comes from 127.0.0.1: the per-address sign-up limit would stop the run.
        "RATE_SIGNUP_IP": "1000000/1h",
    })
    env.pop("ALLOWED_HOSTS", None)
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], log: Path | None = None) -> float:
    """Run a command from the project root; returns its wall time. Output to `log` if given."""
    began = time.monotonic()
    if log is None:
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    else:
        with open(log, "w") as out:
            result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        if result.returncode:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}); log {log}:\n{tail}")
    return time.monotonic() - began


def manage(cluster: Cluster, db: str, *args: str, log: Path | None = None) -> float:
    return run([PY, "manage.py", *args], app_env(cluster, db), log)


def seed(cluster: Cluster, db: str, *, start: int, count: int, jobs: int, bulk: bool = False) -> float:
    """`count` more active shops through the services, in `jobs` parallel processes. With
    `bulk`, their ready schemas are restored in bulk from a dump of one pooled shop first
    (`tasks fill-pool`), so `shop_open` claims them instead of copying one schema at a time."""
    began = time.monotonic()
    if bulk:
        # Two more than needed: the seeding jobs keep two pooled shops as copy sources.
        run([PY, "-m", "tests.bench.tasks", "fill-pool", "--count", str(count + 2)],
            app_env(cluster, db), None)
    jobs = max(1, min(jobs, count))
    share, extra = divmod(count, jobs)
    procs = []
    offset = start
    for j in range(jobs):
        n = share + (1 if j < extra else 0)
        cmd = [PY, "-m", "tests.bench.tasks", "seed", "--start", str(offset), "--count", str(n),
               "--label", f"{db} job {j + 1}/{jobs}"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=app_env(cluster, db)))
        offset += n
    codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"seeding {db} failed: exit codes {codes}")
    run([PY, "-m", "tests.bench.tasks", "drop-pooled"], app_env(cluster, db), None)
    return time.monotonic() - began


def fingerprint(count: int) -> str:
    """What the cached N-shop database depends on: every migration, the framework versions and
    how shops are seeded. Any change rebuilds it."""
    from importlib.metadata import version

    import django

    digest = hashlib.sha256()
    digest.update(f"{count}|{BASE_SHOPS}|{django.get_version()}|{version('django-tenants')}".encode())
    files = sorted(
        p for p in ROOT.rglob("migrations/*.py")
        if ".venv" not in p.parts and "node_modules" not in p.parts
    )
    for path in files + [ROOT / "tests" / "bench" / "tasks.py"]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return f"shop-bench {digest.hexdigest()[:16]}"


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cluster: Cluster, db: str, workers: int, logdir: Path, label: str):
        self.port = free_port()
        self.log = logdir / f"gunicorn-{label}.log"
        cmd = [PY, "-m", "gunicorn", "config.wsgi:application",
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
               "--timeout", "180", "--no-control-socket",
               "--access-logfile", "-", "--error-logfile", "-",
               "--access-logformat", '%(p)s %({host}i)s "%(r)s" %(s)s %(M)sms']
        self.out = open(self.log, "w")
        # The app logs at its default level (INFO) like production would.
        env = app_env(cluster, db, LOG_LEVEL="INFO")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        try:
            wait_ready(self.port)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # gunicorn's graceful stop; workers close their connections
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


@dataclass
class Scenario:
    key: str
    title: str
    existing: int
    pooled: bool
    signups: int
    db: str = ""
    pool_target: int = 0
    hash_samples: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    prep: dict[str, float] = field(default_factory=dict)

    def stat(self, name: str) -> float:
        values = self.totals
        return {
            "mean": statistics.fmean(values) if values else 0.0,
            "min": min(values) if values else 0.0,
            "p50": percentile(values, 0.50) if values else 0.0,
            "p99": percentile(values, 0.99) if values else 0.0,
            "max": max(values) if values else 0.0,
        }[name]

    def phase_p50(self, name: str) -> float:
        return percentile(self.phases[name], 0.5) if self.phases.get(name) else 0.0

    @property
    def hash_ms(self) -> float:
        return statistics.median(self.hash_samples) if self.hash_samples else 0.0

    def slowest(self, count: int = 3) -> list[dict[str, float]]:
        rows = [dict(zip(self.phases, values, strict=True))
                for values in zip(*self.phases.values(), strict=True)]
        return sorted(rows, key=lambda row: row["total"], reverse=True)[:count]

    def dump(self) -> dict:
        return {"title": self.title, "existing": self.existing, "db": self.db,
                "phases_ms": self.phases, "hash_ms": self.hash_samples, "loads": self.loads}


class HashProbe:
    """A process with Django set up that times one `make_password()` on request, so hashes are
    timed between signups under the same load (other processes on the machine included)."""

    def __init__(self, cluster: Cluster, db: str):
        self.proc = subprocess.Popen(
            [PY, "-m", "tests.bench.tasks", "hash-probe"], cwd=ROOT, env=app_env(cluster, db),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        hello = json.loads(self.proc.stdout.readline())
        if hello["hasher"] != "argon2":
            self.close()
            raise RuntimeError(f"default hasher is {hello['hasher']}, expected argon2")
        self.samples: list[float] = []

    def measure(self) -> float:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        value = float(self.proc.stdout.readline())
        self.samples.append(value)
        return value

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def prepare_scenario(sc: Scenario, cluster: Cluster, logdir: Path) -> None:
    """The working database of a scenario: its copy made earlier, the pool filled if pooled."""
    if sc.pooled:
        target = sc.pool_target = sc.signups + WARMUP_SIGNUPS + POOL_SPARE
        print(f"  {sc.db}: filling the pool to {target} ready shops...", flush=True)
        sc.prep["pool fill"] = manage(cluster, sc.db, "pool", "fill", "--target", str(target),
                                      log=logdir / f"pool-fill-{sc.key}.log")
        print(f"  pool filled in {sc.prep['pool fill']:.1f} s", flush=True)
    counts = cluster.count_shops(sc.db)
    if counts.get("active", 0) != sc.existing:
        raise RuntimeError(f"{sc.db}: expected {sc.existing} active shops, found {counts}")


def check_after(sc: Scenario, cluster: Cluster) -> None:
    after = cluster.count_shops(sc.db)
    expected = sc.existing + WARMUP_SIGNUPS + sc.signups
    if after.get("active", 0) != expected:
        raise RuntimeError(f"{sc.db}: expected {expected} active shops after, found {after}")


def one_signup(sc: Scenario, server: Server, index: int, *, warm: bool) -> dict[str, float]:
    sub = f"bench-{sc.key}-{'w' if warm else ''}{index:03d}"
    name = f"Bench {sc.key.upper()} shop {'warm-up ' if warm else ''}{index:03d}"
    try:
        return signup(server.port, name=name, subdomain=sub)
    except SignupFailed as exc:
        raise RuntimeError(f"signup {sub} failed: {exc} (server log: {server.log})") from exc


def run_interleaved(scenarios: list[Scenario], cluster: Cluster, args, logdir: Path) -> None:
    """All scenarios' servers up at once; signups alternate between them (a b, b a, a b...),
    so a burst of load from elsewhere on the machine hits every scenario alike. One hash is
    timed after each signup, charged to the scenario of that signup."""
    titles = " and ".join(sc.title for sc in scenarios)
    print(f"\n== signups: {titles}", flush=True)
    servers: list[Server] = []
    probe = None
    try:
        for sc in scenarios:
            servers.append(Server(cluster, sc.db, args.workers, logdir, sc.key).__enter__())
        probe = HashProbe(cluster, scenarios[0].db)
        before = [probe.measure() for _ in range(HASH_SAMPLES_BEFORE)]
        for sc in scenarios:
            sc.hash_samples = list(before)
        for i in range(WARMUP_SIGNUPS):
            for sc, server in zip(scenarios, servers, strict=True):
                one_signup(sc, server, i, warm=True)
        loads = [os.getloadavg()[0]]
        print(f"  servers on :{', :'.join(str(s.port) for s in servers)}; one argon2 hash = "
              f"{statistics.median(before):.0f} ms; load average {loads[0]:.2f}", flush=True)
        rounds = max(sc.signups for sc in scenarios)
        for i in range(rounds):
            order = list(zip(scenarios, servers, strict=True))
            if i % 2:
                order.reverse()
            for sc, server in order:
                if i >= sc.signups:
                    continue
                phases = one_signup(sc, server, i, warm=False)
                sc.hash_samples.append(probe.measure())  # the servers are idle meanwhile
                sc.totals.append(phases["total"])
                for key, value in phases.items():
                    sc.phases.setdefault(key, []).append(value)
            if (i + 1) % 10 == 0 or i + 1 == rounds:
                loads.append(os.getloadavg()[0])
                last = ", ".join(f"{sc.key} {sc.totals[-1]:.0f} ms" for sc in scenarios
                                 if sc.totals)
                print(f"  {i + 1}/{rounds} rounds; last: {last}; load {loads[-1]:.2f}", flush=True)
        for sc in scenarios:
            sc.loads = loads
    finally:
        if probe is not None:
            probe.close()
        for server in servers:
            server.stop()
    for sc in scenarios:
        check_after(sc, cluster)
        print(f"  {sc.title}: p50 {sc.stat('p50'):.0f} ms, p99 {sc.stat('p99'):.0f} ms "
              f"(hash {sc.hash_ms:.0f} ms)", flush=True)


MIGRATE_RUNS = [
    # label, extra arguments, counts for the goal
    ("standard", ["--executor=standard"], True),
    ("multiprocessing", ["--executor=multiprocessing"], True),
    # --fake with nothing to apply is a no-op too, but it bypasses any "skip up-to-date
    # shops" shortcut: every schema goes through Django's migrate and post_migrate, which is
    # what a deploy with a real migration pays on top of the migration itself.
    ("multiprocessing, every schema through Django's migrate (`--fake`, for reference)",
     ["--executor=multiprocessing", "--fake"], False),
]


def time_noop_migrations(cluster: Cluster, db: str, logdir: Path) -> list[dict]:
    results = []
    for index, (label, extra, goal) in enumerate(MIGRATE_RUNS):
        print(f"  migrate_schemas {' '.join(extra)} (nothing to apply)...", flush=True)
        log = logdir / f"migrate-{index}.log"
        seconds = manage(cluster, db, "migrate_schemas", *extra, log=log)
        text = log.read_text()
        if "Applying " in text:
            raise RuntimeError(f"migrate_schemas applied migrations: not a no-op (see {log})")
        skipped = re.search(r"(\d+) of (\d+) shops are up to date: skipped", text)
        results.append({"label": label, "args": " ".join(extra), "seconds": seconds, "goal": goal,
                        "skipped": skipped.group(0) if skipped else None})
        print(f"  {label}: {seconds:.1f} s{' (' + skipped.group(0) + ')' if skipped else ''}",
              flush=True)
    return results


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def machine(cluster: Cluster) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = platform.platform()
    try:
        pretty = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        if pretty:
            os_name = f"{pretty.group(1)} (kernel {platform.release()})"
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "RAM": ram,
        "OS": os_name,
        "Python": platform.python_version(),
        "PostgreSQL": f"{cluster.version()} (embedded, pgserver {version('pgserver')}, unix socket)",
        "Django / django-tenants / gunicorn": (
            f"{version('django')} / {version('django-tenants')} / {version('gunicorn')}"
        ),
    }


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def render(res: dict) -> str:
    small: Scenario = res["small"]
    large: Scenario = res["large"]
    empty: Scenario = res["empty"]
    lines = [SECTION, ""]
    lines.append(f"Run {res['date']} by `make bench{' ARGS=--quick' if res['quick'] else ''}` "
                 f"(`python -m tests.bench.run`), {res['elapsed'] / 60:.1f} min in all.")
    lines += ["", "### Machine", ""]
    lines += [f"- {k}: {v}" for k, v in res["machine"].items()]
    lines += ["", "### Method", ""]
    lines += [
        "- Databases of their own on the embedded PostgreSQL cluster (the development database "
        f"is not touched): `bench` gets `migrate_schemas --shared` and {BASE_SHOPS} active "
        f"shops; `bench_seed_{large.existing}` adds {large.existing - BASE_SHOPS:,} more "
        f"({res['seed_note']}). Each scenario runs on its own fresh copy (`CREATE DATABASE ... "
        "TEMPLATE`), so the shop counts are exact.",
        f"- Existing shops are real shops opened by `shop_open` (shop row, domain, owner, audit "
        f"entry). The first {BASE_SHOPS} get their schemas as the pool makes them (the first "
        "by running every tenant migration, the others copied from it). The "
        f"{large.existing - BASE_SHOPS:,} more of the large database claim ready schemas "
        "restored in bulk by `psql` from a `pg_dump` of one pooled shop (structure, applied "
        "migrations and role groups; the copy the pool makes, 20 schemas per transaction), so "
        "seeding takes minutes rather than hours; the tests check that a copy has exactly the "
        "structure of a migrated shop.",
        f"- Server: gunicorn, {res['workers']} sync workers per scenario, "
        "`config.wsgi:application` on 127.0.0.1, DEBUG=1, CONN_MAX_AGE=60, SHOP_POOL_SIZE=0 "
        "(no background top-up while measuring), no Celery broker, app logs at INFO to a file.",
        "- Client: one visitor at a time, `http.client` with a cookie jar per host, "
        "`Host: localhost:<port>` for the platform and `Host: <sub>.localhost:<port>` for the "
        "shop (connecting to 127.0.0.1).",
        "- Timed: from the POST of the signup form (the GET of the form for its CSRF token is "
        "not timed) through the redirect to the hand-off URL on the shop's host (token "
        "consumed, session opened) to `/dashboard/` answering 200 with the shop's name in it.",
        f"- (a) and (b) run side by side: both servers up, signups alternating a, b / b, a, so "
        "load from other processes hits both alike. (c) runs afterwards. "
        f"{WARMUP_SIGNUPS} untimed warm-up signups per scenario first (a worker's first "
        "requests import code and compile templates). Pooled scenarios fill the pool with "
        f"`manage.py pool fill` to signups + warm-ups + {POOL_SPARE} before their server starts.",
        "- One hash: `make_password()` with the project's default hasher (Argon2) in a separate "
        f"long-lived process, {HASH_SAMPLES_BEFORE} times before the signups, then once after "
        "every signup (same machine load, servers idle meanwhile); a scenario's goals use the "
        "median of its own samples.",
        "- p50/p99: linear interpolation between closest ranks (of 50 samples, p99 lies between "
        "the two slowest).",
        f"- No-op `migrate_schemas`: every migration already applied, on a fresh copy of the "
        f"{large.existing:,}-shop database (so {large.existing + 1:,} schemas with public), "
        "default verbosity, output to a file; multiprocessing with the project's "
        "TENANT_MULTIPROCESSING_MAX_PROCESSES.",
    ]
    lines += ["", "### Signup to ready (ms)", ""]
    lines.append("| scenario | existing shops | signups | mean | min | p50 | p99 | max "
                 "| p50 POST | p50 hand-off | p50 dashboard | one hash p50 | one hash p99 |")
    lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for sc in (small, large, empty):
        lines.append(
            f"| {sc.title} | {sc.existing:,} | {sc.signups} | {sc.stat('mean'):.0f} | "
            f"{sc.stat('min'):.0f} | **{sc.stat('p50'):.0f}** | **{sc.stat('p99'):.0f}** | "
            f"{sc.stat('max'):.0f} | {sc.phase_p50('post'):.0f} | "
            f"{sc.phase_p50('handoff'):.0f} | {sc.phase_p50('dashboard'):.0f} | "
            f"{sc.hash_ms:.0f} | {percentile(sc.hash_samples, 0.99):.0f} |"
        )
    fills = [
        f"{sc.prep['pool fill'] / sc.pool_target * 1000:.0f} ms per shop with {sc.existing:,} "
        "existing shops" for sc in (small, large) if "pool fill" in sc.prep
    ]
    if fills:
        lines += ["", "Creating ready shops before the signups (`manage.py pool fill`, one "
                  "process, each copied from a pooled shop as the pool does, see "
                  "tenants/cloning.py: the copy reads the system catalogues, so it costs more "
                  "as shops add up; signups never wait for it while the pool has a shop): "
                  f"{'; '.join(fills)}."]
    lines += ["", "Slowest signups (total = POST + hand-off + dashboard, ms):", ""]
    for sc in (small, large, empty):
        worst = "; ".join(
            f"{row['total']:.0f} = {row['post']:.0f} + {row['handoff']:.0f} + "
            f"{row['dashboard']:.0f}" for row in sc.slowest()
        )
        lines.append(f"- {sc.title}: {worst}")
    lines += ["", f"### No-op `migrate_schemas` at {large.existing:,} shops", ""]
    lines.append("| run | seconds | per schema |")
    lines.append("|---|--:|--:|")
    schemas = large.existing + 1
    for row in res["migrate"]:
        lines.append(f"| {row['label']} | {row['seconds']:.1f} | "
                     f"{row['seconds'] / schemas * 1000:.1f} ms |")
    skipped = {row["skipped"] for row in res["migrate"] if row["skipped"]}
    if skipped:
        lines += ["", f"The project's executor (GET_EXECUTOR_FUNCTION) reported: "
                  f"\"{'; '.join(sorted(skipped))}\"."]
    lines += ["", "### Goals", ""]
    lines.append("| goal | measured | limit | verdict |")
    lines.append("|---|--:|--:|---|")
    for g in res["goals"]:
        lines.append(f"| {g['goal']} | {g['measured']} | {g['limit']} | {verdict(g['ok'])} |")
    lines += ["", "### Preparation (seconds)", ""]
    for label, seconds in res["prep"]:
        lines.append(f"- {label}: {seconds:.1f}")
    lines += ["", "### Notes", ""]
    lines += [f"- {note}" for note in res["notes"]]
    return "\n".join(lines) + "\n"


def goals(res: dict) -> list[dict]:
    small, large = res["small"], res["large"]
    out = []
    for sc in (small, large):
        limit = sc.hash_ms + 150
        out.append({"goal": f"p50 <= one hash + 150 ms ({sc.existing:,} shops)",
                    "measured": f"{sc.stat('p50'):.0f} ms", "limit": f"{limit:.0f} ms",
                    "ok": sc.stat("p50") <= limit})
        limit = sc.hash_ms + 500
        out.append({"goal": f"p99 <= one hash + 500 ms ({sc.existing:,} shops)",
                    "measured": f"{sc.stat('p99'):.0f} ms", "limit": f"{limit:.0f} ms",
                    "ok": sc.stat("p99") <= limit})
    limit = small.stat("p50") * (1 + FLAT_TOLERANCE)
    out.append({
        "goal": f"flat: p50 at {large.existing:,} shops <= p50 at {small.existing} shops "
                f"+ {FLAT_TOLERANCE:.0%}",
        "measured": f"{large.stat('p50'):.0f} ms (vs {small.stat('p50'):.0f}; without the "
                    f"hash {large.stat('p50') - large.hash_ms:.0f} vs "
                    f"{small.stat('p50') - small.hash_ms:.0f})",
        "limit": f"{limit:.0f} ms", "ok": large.stat("p50") <= limit,
    })
    best = min((row for row in res["migrate"] if row["goal"]), key=lambda row: row["seconds"])
    out.append({"goal": f"no-op migrate_schemas at {large.existing:,} shops "
                        f"(best: {best['label']})",
                "measured": f"{best['seconds']:.1f} s", "limit": f"{MIGRATE_GOAL_S:.0f} s",
                "ok": best["seconds"] <= MIGRATE_GOAL_S})
    return out


def write_docs(section: str, title: str = SECTION) -> None:
    """Replace the section headed `title` in docs/benchmarks.md (or append it)."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    if not DOCS.exists():
        DOCS.write_text("# Benchmarks\n\nWritten by `make bench`; each section by its own "
                        "benchmark, regenerated on each run, and the summary of every goal by "
                        "its last step (`python -m tests.bench.summary`).\n\n" + section)
        return
    text = DOCS.read_text()
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
        text = text.rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10 signups, 50 existing shops, 5 synchronous signups; "
                             "prints only (add --write to update docs/benchmarks.md)")
    parser.add_argument("--signups", type=int, help="signups per pooled scenario (default 50)")
    parser.add_argument("--empty-signups", type=int,
                        help="signups with the pool empty (default 20)")
    parser.add_argument("--shops", type=int, help="existing shops of the large scenario (1000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="parallel processes creating the existing shops (default 2)")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the cached N-shop database even if it looks current")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md (default "
                        "on for full runs)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scenarios' databases (bench_a, bench_b, bench_c)")
    parser.add_argument("--clean", action="store_true",
                        help="drop this benchmark's databases (bench, bench_a/b/c, bench_seed_*: the cached "
                             "1,000-shop one takes about 1.5 GB) and exit")
    parser.add_argument("--note", action="append", default=[],
                        help="a note for the report (repeatable)")
    args = parser.parse_args(argv)
    args.signups = args.signups or (10 if args.quick else 50)
    args.empty_signups = args.empty_signups or (5 if args.quick else 20)
    args.shops = args.shops or (50 if args.quick else 1000)
    if args.shops <= BASE_SHOPS:
        parser.error(f"--shops must be more than {BASE_SHOPS}")
    args.write_docs = (args.write or not args.quick) and not args.no_write
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.clean:
        cluster = Cluster()
        for name in cluster.bench_databases():
            cluster.drop(name)
            print(f"dropped {name}")
        return
    began = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    logdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    print(f"logs in {logdir}", flush=True)
    cluster = Cluster()
    prep: list[tuple[str, float]] = []

    print(f"== `bench`: drop, create, migrate_schemas --shared, {BASE_SHOPS} shops", flush=True)
    cluster.create("bench")
    prep.append(("`migrate_schemas --shared` on an empty database",
                 manage(cluster, "bench", "migrate_schemas", "--shared",
                        log=logdir / "migrate-shared.log")))
    seconds = seed(cluster, "bench", start=0, count=BASE_SHOPS, jobs=1)
    prep.append((f"{BASE_SHOPS} shops opened (pool empty, one process)", seconds))

    seed_db = f"bench_seed_{args.shops}"
    fp = fingerprint(args.shops)
    added = args.shops - BASE_SHOPS
    if not args.rebuild and cluster.exists(seed_db) and cluster.comment(seed_db) == fp:
        seed_note = f"reused from an earlier run: its fingerprint `{fp}` is still current"
        print(f"== {seed_db} is current ({fp}): reused", flush=True)
    else:
        print(f"== building {seed_db}: {added} more shops in {args.jobs} processes "
              "(kept for later runs)", flush=True)
        copy = cluster.create(seed_db, template="bench")
        seconds = seed(cluster, seed_db, start=BASE_SHOPS, count=added, jobs=args.jobs,
                       bulk=True)
        cluster.set_comment(seed_db, fp)
        prep.append((f"{added:,} more shops opened into `{seed_db}` ({args.jobs} processes, "
                     f"{seconds / added * 1000:.0f} ms per shop)", copy + seconds))
        seed_note = (f"built by this run in {(copy + seconds) / 60:.1f} min and kept for later "
                     "runs, rebuilt when migrations, Django or django-tenants change")

    small = Scenario("a", f"(a) pool ready, {BASE_SHOPS} shops", BASE_SHOPS, True, args.signups,
                     db="bench_a")
    large = Scenario("b", f"(b) pool ready, {args.shops:,} shops", args.shops, True,
                     args.signups, db="bench_b")
    empty = Scenario("c", f"(c) pool empty, {BASE_SHOPS} shops", BASE_SHOPS, False,
                     args.empty_signups, db="bench_c")
    small.prep["copy database"] = cluster.create(small.db, template="bench")
    large.prep["copy database"] = cluster.create(large.db, template=seed_db)
    empty.prep["copy database"] = cluster.create(empty.db, template="bench")

    print(f"\n== no-op migrate_schemas at {args.shops:,} shops", flush=True)
    migrate = time_noop_migrations(cluster, large.db, logdir)

    for sc in (small, large, empty):
        prepare_scenario(sc, cluster, logdir)
    run_interleaved([small, large], cluster, args, logdir)
    run_interleaved([empty], cluster, args, logdir)
    if not args.keep:
        for sc in (small, large, empty):
            cluster.drop(sc.db)

    for sc in (small, large, empty):
        for label, seconds in sc.prep.items():
            prep.append((f"{sc.title}: {label}", seconds))

    notes = list(args.note)
    cores = os.cpu_count() or 1
    loads = [value for sc in (small, large, empty) for value in sc.loads]
    notes.append(f"1-minute load average during the signups: {min(loads):.1f} to "
                 f"{max(loads):.1f} on {cores} cores.")
    if max(loads) > cores * 0.75:
        notes.append(
            "The machine was shared with other busy processes while this ran, so absolute "
            "timings carry noise: compare the spread of the hash timed beside the signups "
            "(its p99 against its p50). The side-by-side run keeps (a) against (b) fair."
        )
    res = {
        "date": date, "quick": args.quick, "elapsed": time.monotonic() - began,
        "machine": machine(cluster), "workers": args.workers, "seed_note": seed_note,
        "small": small, "large": large, "empty": empty, "migrate": migrate, "prep": prep,
        "notes": notes,
    }
    res["goals"] = goals(res)
    (logdir / "samples.json").write_text(json.dumps(
        {sc.key: sc.dump() for sc in (small, large, empty)} | {"migrate": migrate}, indent=1))
    section = render(res)
    print("\n" + section)
    if args.write_docs:
        write_docs(section)
        print(f"written: {DOCS.relative_to(ROOT)}")
    print(f"logs and raw samples: {logdir}; kept for later runs: `{seed_db}`")


if __name__ == "__main__":
    main()
