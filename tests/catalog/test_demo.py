from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.models import (
    LotAvailability,
    Product,
    RealEstateLot,
    ServiceProduct,
    Vehicle,
)
from catalog.services.stock import stock_audit
from tenants.models import Shop
from tests.conftest import in_schema

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_demo_shop_with_every_kind(pooled_shop):
    call_command("seed_demo")
    call_command("seed_demo")  # repeatable: no duplicates
    demo = Shop.objects.get(domains__domain=f"demo.{settings.BASE_DOMAIN}")
    with in_schema(demo):
        assert Product.objects.count() == 10
        assert ServiceProduct.objects.count() == 3
        assert Vehicle.objects.count() == 4
        lots = RealEstateLot.objects.all()
        assert lots.count() == 12
        states = set(lots.values_list("availability", flat=True))
        assert {LotAvailability.AVAILABLE, LotAvailability.RESERVED,
                LotAvailability.OPTIONED} <= states
        assert stock_audit() == []
