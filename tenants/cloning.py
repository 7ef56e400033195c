"""Creating a shop's schema by copying a ready pooled shop instead of replaying migrations.

Replaying every tenant migration takes seconds (Django renders the migration state model by
model); copying an up-to-date pooled shop takes about half a second. The copy is made from an
ordinary pooled shop, which `migrate_schemas` keeps current with every deploy like any other
shop, so it never goes stale like a separate template schema would; a source that lacks a
migration on disk is never used (the caller then migrates).

django-tenants' `clone_schema` rebuilds tables with PostgreSQL's default names for UNIQUE
constraints; later migrations find constraints by Django's names, so they are renamed back,
matched by table and definition. `schema_differences` compares two schemas' structure (tables,
columns, constraints, indexes, triggers, functions, sequences) and is what the tests check a
copy with.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.clone import CloneSchema

# (relation, name, definition) of every constraint of a schema; the definition without the
# schema's own name (foreign keys name their table with it).
_CONSTRAINTS = """
SELECT cl.relname, co.conname, replace(pg_get_constraintdef(co.oid), %(schema)s || '.', '')
FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE n.nspname = %(schema)s
"""


def schema_clone(*, source: str, target: str) -> None:
    """Copy `source` (structure and rows) into the new schema `target`, constraint names
    included. Runs in the caller's transaction."""
    CloneSchema().clone_schema(source, target, "DATA", set_connection=False)
    _rename_constraints_like(source=source, target=target)
    _restart_sequences(target)


# Every sequence of a schema with the table and column it numbers.
_OWNED_SEQUENCES = """
SELECT s.relname, t.relname, a.attname
FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE s.relkind = 'S' AND n.nspname = %s
"""


def _restart_sequences(schema: str) -> None:
    """Sequences carry on from the rows the copy holds, as in a freshly migrated shop: the
    source's sequences may have moved on (a rolled-back signup still uses up its ids)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_OWNED_SEQUENCES, [schema])
        for sequence, table, column in cursor.fetchall():
            cursor.execute(f"SELECT max({quote(column)}) FROM {quote(schema)}.{quote(table)}")  # noqa: S608
            (highest,) = cursor.fetchone()
            name = f"{quote(schema)}.{quote(sequence)}"
            if highest is None:
                cursor.execute(f"ALTER SEQUENCE {name} RESTART")
            else:
                cursor.execute("SELECT setval(%s, %s, true)", [name, highest])


def _rename_constraints_like(*, source: str, target: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_CONSTRAINTS, {"schema": source})
        wanted = {(table, definition): name for table, name, definition in cursor.fetchall()}
        cursor.execute(_CONSTRAINTS, {"schema": target})
        for table, name, definition in cursor.fetchall():
            expected = wanted.get((table, definition))
            if expected and expected != name:
                cursor.execute(f"ALTER TABLE {quote(target)}.{quote(table)} "
                               f"RENAME CONSTRAINT {quote(name)} TO {quote(expected)}")


_STRUCTURE = {
    "columns": """SELECT table_name, column_name, data_type, is_nullable, is_identity,
                         coalesce(replace(column_default, %(schema)s || '.', ''), '')
                  FROM information_schema.columns WHERE table_schema = %(schema)s""",
    "constraints": _CONSTRAINTS,
    "indexes": """SELECT tablename, indexname, replace(indexdef, %(schema)s || '.', '')
                  FROM pg_indexes WHERE schemaname = %(schema)s""",
    "triggers": """SELECT c.relname, t.tgname, replace(pg_get_triggerdef(t.oid),
                                                        %(schema)s || '.', '')
                   FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %(schema)s AND NOT t.tgisinternal""",
    "functions": """SELECT p.proname, md5(p.prosrc) FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(schema)s""",
    "sequences": """SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences
                    WHERE schemaname = %(schema)s""",
}


def schema_structure(schema: str) -> dict[str, set[tuple]]:
    structure = {}
    with connection.cursor() as cursor:
        for name, sql in _STRUCTURE.items():
            cursor.execute(sql, {"schema": schema})
            structure[name] = {tuple(row) for row in cursor.fetchall()}
    return structure


def schema_differences(one: str, other: str) -> dict[str, tuple[set, set]]:
    """What differs between two schemas' structure: {aspect: (only in one, only in other)}."""
    first, second = schema_structure(one), schema_structure(other)
    return {name: (first[name] - second[name], second[name] - first[name])
            for name in first if first[name] != second[name]}
