from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.services.stock import stock_audit
from sales.models import Customer, Order, OrderStatus, Quote, QuoteStatus
from tenants.models import Shop
from tests.conftest import in_schema

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_the_demo_shop_customers_orders_and_quotes_at_every_step(pooled_shop):
    call_command("seed_demo")
    call_command("seed_demo")  # repeatable: no duplicates
    demo = Shop.objects.get(domains__domain=f"demo.{settings.BASE_DOMAIN}")
    with in_schema(demo):
        assert Customer.objects.count() == 6
        assert Customer.objects.filter(user__email="client@demo.example").exists()
        assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
        assert {QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.CONVERTED,
                QuoteStatus.DECLINED} <= set(Quote.objects.values_list("status", flat=True))
        assert stock_audit() == []
