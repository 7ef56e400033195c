"""Demo data for `manage.py seed_demo` (run in the demo shop's schema after the catalog's)."""

from __future__ import annotations


def seed() -> int:
    return 0
