"""Operations: management commands and structured logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.logging import JsonFormatter, SchemaFilter
from tenants.models import Domain, PlatformAuditLog, Shop, ShopStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_create_shop_command_opens_a_shop(pooled_shop, capsys):
    call_command("create_shop", "cli-shop", name="CLI Shop", owner_email="cli@example.test",
                 password=PASSWORD, plan="business")
    shop = Shop.objects.get(domains__domain=f"cli-shop.{settings.BASE_DOMAIN}")
    assert (shop.name, shop.plan.code, shop.status) == ("CLI Shop", "business", "active")
    with schema_context(shop.schema_name):
        assert User.objects.get(email="cli@example.test").check_password(PASSWORD)
    assert "Opened CLI Shop" in capsys.readouterr().out
    assert PlatformAuditLog.objects.get(shop=shop).action == "shop.created"


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (["admin"], {}, "reserved"),
    (["good-name"], {"plan": "gold"}, "Unknown plan"),
])
def test_create_shop_command_refuses_bad_input(pooled_shop, args, kwargs, message):
    domains = Domain.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_shop", *args, name="X", owner_email="x@example.test",
                     password=PASSWORD, **kwargs)
    assert Domain.objects.count() == domains


def test_seed_demo_is_repeatable_and_prints_working_logins(pooled_shop, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    shop = Shop.objects.get(domains__domain=f"demo.{settings.BASE_DOMAIN}")
    assert shop.status == ShopStatus.ACTIVE
    assert "owner@demo.example / demo-password-2026" in out
    with schema_context(shop.schema_name):
        assert User.objects.get(email="owner@demo.example").check_password("demo-password-2026")
    assert User.objects.get(email="admin@platform.example").is_staff


def test_pool_command_reports_and_fills(capsys, settings):
    ready = Shop.objects.filter(status=ShopStatus.POOLED).count()
    call_command("pool", "fill", target=ready + 1)
    call_command("pool", "status")
    out = capsys.readouterr().out
    assert f"ready: {ready + 1}" in out


def test_log_lines_are_json_and_carry_the_schema(shop):
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    with schema_context(shop.schema_name):
        SchemaFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["schema"] == shop.schema_name
    assert line["message"] == "hello world"
    assert connection.schema_name == "public"
