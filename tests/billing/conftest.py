from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import in_schema


@pytest.fixture(autouse=True)
def private_documents(settings, tmp_path):
    """Stored invoice PDFs go to a temporary private folder, one per test (billing.storage
    reads the setting at each use)."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    return tmp_path / "private"


@pytest.fixture
def in_shop(shop, db):
    """The test body runs in the test shop's schema, with a complete legal identity (French
    invoices cannot be issued without it)."""
    legal = {"legal_name": "Alpha SAS", "legal_form": "SAS", "share_capital": "10 000 €",
             "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320",
             "rcs": "RCS Paris 732 829 320", "address_line1": "1 rue de la Paix",
             "postal_code": "75002", "city": "Paris", "iban": "FR7630006000011234567890189",
             "bic": "BNPAFRPPXXX"}
    type(shop).objects.filter(pk=shop.pk).update(**legal)  # rolled back with the test
    saved = {key: getattr(shop, key) for key in legal}
    for key, value in legal.items():
        setattr(shop, key, value)
    try:
        with in_schema(shop):
            connection.tenant = shop
            yield shop
    finally:
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)
