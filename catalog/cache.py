"""The storefront's cache of catalog listings, and how it is invalidated.

Listing fragments are cached under a key that carries a per-shop "catalog version"; any write
to what a listing shows bumps the version, so the next request misses and renders fresh rows
(old entries are never read again and expire on their own). Keys go through
`django_tenants.cache.make_key` (settings.CACHES), which prefixes the current schema: two shops
never share a version nor a page.

Why bumps happen twice: once at once, so that code running inside the writing transaction
(and tests, whose transaction never commits) stops seeing the old pages; and once after commit,
because a request may have read the old rows between the first bump and the commit and cached
them under the new version.

Writes that bypass `save()`/`delete()` (`QuerySet.update()`, e.g. `products_archive`) send no
signal: their services must call `catalog_cache_bump()` themselves.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django_tenants.utils import schema_context

from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    ProductImage,
    Project,
    StockLevel,
    TaxRate,
)

VERSION_KEY = "catalog:version"
# What the storefront listing shows: products of every kind and their images, stock levels
# (availability), categories (navigation), tax rates (prices incl. VAT), programmes (lots).
WATCHED_MODELS = (BaseProduct, *PRODUCT_KINDS.values(), Category, StockLevel, ProductImage,
                  Project, TaxRate)


def _fresh_version() -> int:
    # Time-based rather than 1: if the cache evicts the version key, a restarted counter could
    # land on a version whose (stale) pages are still cached; nanoseconds never go back.
    return time.time_ns()


def catalog_version() -> int:
    """The current shop's catalog version (created on first use)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY, _fresh_version())
    return version


def _bump_now() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or evicted): any fresh one invalidates everything
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)


def _bump_in(schema_name: str) -> None:
    # The cache key takes the schema from the connection: bump the shop that wrote, even if
    # the commit happens after the code left its schema.
    if connection.schema_name == schema_name:
        _bump_now()
    else:
        with schema_context(schema_name):
            _bump_now()


def catalog_cache_bump() -> None:
    """Invalidate the current shop's cached catalog pages, now and when the transaction
    commits (see the module docstring)."""
    schema_name = connection.schema_name
    _bump_now()
    transaction.on_commit(lambda: _bump_in(schema_name))


def _on_catalog_write(sender, **kwargs) -> None:
    # A raw save is a fixture load (loaddata): no shop is being served from it.
    if kwargs.get("raw"):
        return
    catalog_cache_bump()


def connect_signals() -> None:
    """Called from CatalogConfig.ready(); idempotent (dispatch_uid)."""
    for model in WATCHED_MODELS:
        label = model._meta.label_lower
        post_save.connect(_on_catalog_write, sender=model, dispatch_uid=f"catalog-cache-save-{label}")
        post_delete.connect(_on_catalog_write, sender=model,
                            dispatch_uid=f"catalog-cache-delete-{label}")
