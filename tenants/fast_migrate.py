"""`migrate_schemas` that skips shops with nothing to apply.

django-tenants runs Django's `migrate` once per schema. Even with nothing to apply, that
reconnects, introspects the schema's tables (slower as the catalog grows with every shop),
builds the migration graph, runs the system checks and emits `post_migrate` (content types,
permissions, roles: dozens of queries). At a thousand shops that is minutes per deploy.

Here the executor first reads every shop's `django_migrations` in a few batched queries and
compares them with the migrations on disk; only shops missing one go through django-tenants'
executor (standard or multiprocessing), which then takes Django's normal path,
`post_migrate` included. Installed with the GET_EXECUTOR_FUNCTION setting.

Consequence: a change that must reach every shop (e.g. a role's permissions) ships with a
migration (docs/decisions.md).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor as tenants_get_executor
from django_tenants.utils import get_tenant_database_alias

BATCH = 200
# Options that ask migrate for something other than "apply what is missing".
_SPECIAL_OPTIONS = ("app_label", "migration_name", "fake", "fake_initial", "plan", "prune",
                    "check_unapplied", "run_syncdb")


def migrations_on_disk() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def schemas_needing_migration(schemas: list[str], *, database: str) -> list[str]:
    """The schemas (in the given order) whose django_migrations lacks a migration on disk."""
    wanted = migrations_on_disk()
    connection = connections[database]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind = 'r'"
        )
        with_table = {row[0] for row in cursor.fetchall()}
        applied: dict[str, set[tuple[str, str]]] = defaultdict(set)
        candidates = [s for s in schemas if s in with_table]
        for start in range(0, len(candidates), BATCH):
            chunk = candidates[start : start + BATCH]
            sql = " UNION ALL ".join(
                # Identifiers are quoted schema names from tenants_shop; values are parameters.
                f"SELECT %s, app, name FROM {connection.ops.quote_name(schema)}.django_migrations"  # noqa: S608
                for schema in chunk
            )
            cursor.execute(sql, chunk)
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return [s for s in schemas if s not in with_table or not wanted <= applied[s]]


def get_executor(codename: str | None = None):
    base = tenants_get_executor(codename)

    class SkipUpToDateExecutor(base):
        def run_migrations(self, tenants=None):
            tenants = list(tenants or [])
            if not any(self.options.get(name) for name in _SPECIAL_OPTIONS):
                public = [t for t in tenants if t == settings.PUBLIC_SCHEMA_NAME]
                shops = [t for t in tenants if t != settings.PUBLIC_SCHEMA_NAME]
                database = self.options.get("database") or get_tenant_database_alias()
                pending = schemas_needing_migration(shops, database=database)
                if int(self.options.get("verbosity", 1)) >= 1 and len(pending) < len(shops):
                    print(f"[{self.codename}] {len(shops) - len(pending)} of {len(shops)} shops "
                          "are up to date: skipped.")
                tenants = public + pending
            if tenants:
                super().run_migrations(tenants=tenants)

    SkipUpToDateExecutor.__name__ = f"SkipUpToDate{base.__name__}"
    return SkipUpToDateExecutor
