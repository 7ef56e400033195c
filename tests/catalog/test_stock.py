"""Stock cannot drift or be oversold: the ledger, the locks and the database constraints."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from catalog.errors import CatalogError, InsufficientStock, LotUnavailable
from catalog.models import LotAvailability, Project, RealEstateLot, StockLevel, StockMovement
from catalog.services.products import product_create
from catalog.services.stock import (
    lot_option,
    stock_adjust,
    stock_audit,
    stock_commit,
    stock_receive,
    stock_release,
    stock_reserve,
)
from tenants.services import shop_create_pooled
from tests.conftest import in_schema


def goods(sku="BIKE-1", stock="5", **extra):
    data = {"sku": sku, "name": f"Goods {sku}", "net_price": Decimal("100.00"), **extra}
    return product_create(kind="goods", data=data, initial_stock=Decimal(stock))


def lot(number="A01"):
    project = Project.objects.get_or_create(slug="jardins", defaults={"name": "Les Jardins"})[0]
    return product_create(kind="lot", data={
        "sku": f"LOT-{number}", "name": f"Lot {number}", "net_price": Decimal("250000"),
        "project": project, "lot_number": number, "surface_m2": Decimal("64.5")})


@pytest.mark.django_db
class TestLedger:
    def test_receive_reserve_commit_release_keep_level_and_ledger_equal(self, shop, owner):
        with in_schema(shop):
            bike = goods(stock="10")
            stock_receive(product=bike, quantity=5, by=owner, reason="delivery")
            stock_reserve(lines=[(bike, 4)], by=owner, reference="C-1")
            stock_commit(lines=[(bike, 3)], by=owner, reference="C-1")
            stock_release(lines=[(bike, 1)], by=owner, reference="C-1")
            level = StockLevel.objects.get(pk=bike.pk)
            assert (level.on_hand, level.reserved, level.available) == (12, 0, 12)
            kinds = list(StockMovement.objects.filter(product=bike).order_by("id")
                         .values_list("kind", flat=True))
            assert kinds == ["receipt", "receipt", "reservation", "sale", "release"]
            assert stock_audit() == []

    def test_reserving_more_than_available_names_the_product_and_changes_nothing(self, shop):
        with in_schema(shop):
            bike, helmet = goods("BIKE", stock="3"), goods("HELMET", stock="1")
            with pytest.raises(InsufficientStock) as refused:
                stock_reserve(lines=[(bike, 2), (helmet, 2)], by=None)
            assert "Goods HELMET" in str(refused.value) and "1 available" in str(refused.value)
            assert StockLevel.objects.get(pk=bike.pk).reserved == 0, "all or nothing"

    def test_adjustment_needs_a_reason_and_never_goes_under_reservations(self, shop, owner):
        with in_schema(shop):
            bike = goods(stock="5")
            with pytest.raises(CatalogError, match="Say why"):
                stock_adjust(product=bike, counted=3, by=owner, reason=" ")
            stock_reserve(lines=[(bike, 2)], by=owner)
            with pytest.raises(CatalogError, match="reserved for orders"):
                stock_adjust(product=bike, counted=1, by=owner, reason="count")
            stock_adjust(product=bike, counted=4, by=owner, reason="breakage")
            movement = StockMovement.objects.filter(product=bike, kind="adjustment").get()
            assert (movement.on_hand_delta, movement.reason, movement.by) == (-1, "breakage", owner)
            assert stock_audit() == []

    def test_the_database_refuses_negative_stock_whatever_the_code_does(self, shop):
        with in_schema(shop):
            bike = goods(stock="1")
            with pytest.raises(IntegrityError), transaction.atomic():
                StockLevel.objects.filter(pk=bike.pk).update(on_hand=-1)

    def test_audit_command_reports_drift(self, shop, capsys):
        with in_schema(shop):
            bike = goods(stock="2")
            StockLevel.objects.filter(pk=bike.pk).update(on_hand=3)  # drift behind the ledger
            with pytest.raises(SystemExit):
                call_command("stock_audit")
        assert "BIKE-1" in capsys.readouterr().out

    def test_lots_follow_availability(self, shop, owner):
        with in_schema(shop):
            a01, a02 = lot("A01"), lot("A02")
            stock_reserve(lines=[(a01, 1)], by=owner, reference="C-2")
            assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.RESERVED
            with pytest.raises(LotUnavailable, match="reserved"):
                stock_reserve(lines=[(a01, 1)], by=owner)
            lot_option(lot=a02, until=timezone.now() + timedelta(days=30), by=owner)
            with pytest.raises(LotUnavailable, match="optioned"):
                stock_reserve(lines=[(a02, 1)], by=owner)
            stock_commit(lines=[(a01, 1)], by=owner, reference="C-2")
            assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.SOLD
            with pytest.raises(LotUnavailable):
                stock_reserve(lines=[(a01, 1)], by=owner)


def test_twenty_concurrent_buyers_never_oversell(committed):
    """20 threads each try to reserve 1 of the last 7 units: exactly 7 succeed."""
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        bike = goods(stock="7")
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer():
        try:
            with schema_context(shop.schema_name):
                barrier.wait()
                stock_reserve(lines=[(bike, 1)], by=None, reference="race")
            result = "ok"
        except InsufficientStock:
            result = "short"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buyer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(outcomes) == ["ok"] * 7 + ["short"] * 13
    with schema_context(shop.schema_name):
        level = StockLevel.objects.get(pk=bike.pk)
        assert (level.on_hand, level.reserved) == (7, 7)
        assert StockMovement.objects.filter(product=bike, kind="reservation").count() == 7
        assert stock_audit() == []


def test_opposite_order_reservations_do_not_deadlock(committed):
    shop = shop_create_pooled()
    with schema_context(shop.schema_name):
        a, b = goods("A", stock="100"), goods("B", stock="100")
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def buyer(lines):
        try:
            with schema_context(shop.schema_name):
                barrier.wait()
                for _ in range(20):
                    stock_reserve(lines=lines, by=None)
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=([(a, 1), (b, 1)],)),
               threading.Thread(target=buyer, args=([(b, 1), (a, 1)],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with schema_context(shop.schema_name):
        assert StockLevel.objects.get(pk=a.pk).reserved == 40


@pytest.mark.django_db
def test_expired_options_make_lots_available_again(shop, owner):
    from catalog.tasks import release_expired_options_task

    with in_schema(shop):
        a01, a02 = lot("A01"), lot("A02")
        lot_option(lot=a01, until=timezone.now() - timedelta(minutes=1), by=owner)
        lot_option(lot=a02, until=timezone.now() + timedelta(days=3), by=owner)
    assert release_expired_options_task() == 1
    with in_schema(shop):
        assert RealEstateLot.objects.get(pk=a01.pk).availability == LotAvailability.AVAILABLE
        assert RealEstateLot.objects.get(pk=a02.pk).availability == LotAvailability.OPTIONED
        assert StockMovement.objects.filter(product=a01, kind="release").count() == 1
