"""Where legal documents are kept: under PRIVATE_MEDIA_ROOT/<shop schema>/, outside MEDIA_ROOT,
so no URL ever reaches them (product images under MEDIA_ROOT are public by path). They are
read only through views that check who asks (staff permission, the customer's own invoice)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection


class PrivateShopStorage(FileSystemStorage):
    @property  # per request: the current shop's folder (never cached across schemas)
    def base_location(self) -> str:
        schema = connection.schema_name
        if not schema or schema == settings.PUBLIC_SCHEMA_NAME:
            raise RuntimeError("private documents belong to a shop: no schema is selected")
        return os.path.join(settings.PRIVATE_MEDIA_ROOT, schema)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("private documents have no URL: serve them through a view that "
                         "checks who asks")


private_storage = PrivateShopStorage()


def get_private_storage() -> PrivateShopStorage:
    """For FileField(storage=...): a callable keeps the storage out of migrations' state."""
    return private_storage
