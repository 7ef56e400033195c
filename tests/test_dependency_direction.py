"""The apps' dependency direction (docs/architecture.md): tenants <- catalog <- sales <- billing,
and streams imports none of them. Read from the source (no database): an import against the
direction is a design error, whatever the tests of the features say."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each app may import the apps listed before it, and streams (except streams itself, which
# imports only tenants: its accounts, pagination and models of shops).
MAY_IMPORT = {
    "tenants": set(),
    "catalog": {"tenants", "streams"},
    "sales": {"tenants", "catalog", "streams"},
    "billing": {"tenants", "catalog", "sales", "streams"},
    "streams": {"tenants"},
}


def imported_apps(app: str) -> dict[str, set[str]]:
    """{other app: files of `app` importing it}, migrations left out (their history may name
    what the code no longer imports)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in MAY_IMPORT and top != app:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_an_app_imports_only_the_apps_below_it(app):
    wrong = {other: sorted(files) for other, files in imported_apps(app).items()
             if other not in MAY_IMPORT[app]}
    assert not wrong, f"{app} imports against the dependency direction: {wrong}"
