"""Builders and fixtures of the milestone tests: a shop with a complete legal identity (French
invoices need it), programmes and orders registered as subjects, milestones through their
services. Imported by tests/streams/test_milestones*.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Project
from sales.models import Order
from streams import subjects
from streams.models import Event, Milestone
from streams.services.milestones import milestone_create
from streams.subjects import Tracking, content_type_id, tracking_for
from tests.conftest import in_schema
from tests.sales.factories import goods, place_order, staff

LEGAL = {"legal_name": "Alpha SAS", "siren": "732829320", "siret": "73282932000074",
         "vat_number": "FR44732829320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris"}
TODAY = timezone.localdate()


def _ensure_tracked(monkeypatch, model, label) -> None:
    """Programmes and orders are registered by their apps (catalog/sales events); until a
    registration exists, a minimal one stands in (removed after the test)."""
    if tracking_for(model) is not None:
        return
    tracking = Tracking(model=model, label=label)
    monkeypatch.setitem(subjects._TRACKED, model, tracking)
    monkeypatch.setitem(subjects._BY_LABEL, model._meta.label_lower, tracking)


@pytest.fixture
def tracked_subjects(monkeypatch):
    _ensure_tracked(monkeypatch, Project, lambda p: p.name)
    _ensure_tracked(monkeypatch, Order, lambda o: f"Order {o.number}")


@pytest.fixture
def in_shop(shop, db, settings, tmp_path, tracked_subjects):
    """The test body runs in the shop's schema, with a complete legal identity."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    type(shop).objects.filter(pk=shop.pk).update(**LEGAL)  # rolled back with the test
    saved = {key: getattr(shop, key) for key in LEGAL}
    for key, value in LEGAL.items():
        setattr(shop, key, value)
    try:
        with in_schema(shop):
            connection.tenant = shop
            yield shop
    finally:
        for key, value in saved.items():  # the session's shop object is shared
            setattr(shop, key, value)


def a_project(slug: str = "jardins") -> Project:
    return Project.objects.get_or_create(slug=slug, defaults={"name": "Les Jardins"})[0]


def an_order(price: str = "200000.00") -> Order:
    return place_order((goods(f"LOT-{Order.objects.count() + 1}", price=price, stock="5"), 1))


def a_milestone(subject, name: str = "Foundations", *, by=None, **data) -> Milestone:
    return milestone_create(subject=subject, by=by, data={"name": name, **data})


def manager():
    return staff("manager")


def events_of(milestone: Milestone):
    return Event.objects.filter(subject_type_id=content_type_id(Milestone),
                                subject_id=milestone.pk).order_by("id")


def off_plan_schedule(order: Order, by=None) -> list[Milestone]:
    """The classic French off-plan sale: 35 % at the foundations, 70 % at the roof, 95 % at
    completion, the balance at handover."""
    start = date(TODAY.year, 1, 1)
    return [a_milestone(order, name, by=by, bill_percent=Decimal(share),
                        planned_start=start + timedelta(days=90 * n),
                        planned_end=start + timedelta(days=90 * n + 80))
            for n, (name, share) in enumerate((("Foundations", "35"), ("Roof", "35"),
                                               ("Completion", "25"), ("Handover", "5")))]
