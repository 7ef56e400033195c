from __future__ import annotations

import pytest

from tests.conftest import in_schema


@pytest.fixture
def in_shop(shop, db):
    """The test body runs in the test shop's schema."""
    with in_schema(shop):
        yield shop
