"""The demo shop's streams: what `manage.py seed_demo` shows a visitor of the dashboard (a
programme run in milestones, a lot sold with its billing schedule, staff work, a customer's
ticket, an inbox with news), made once however often the command runs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command

from billing.models import Invoice, InvoiceStatus
from catalog.models import Project
from sales.models import Order
from streams.models import (
    Comment,
    Milestone,
    MilestoneStatus,
    Notification,
    NotificationReason,
    Task,
    Ticket,
    TicketStatus,
)
from streams.subjects import content_type_id
from tenants.accounts.models import User
from tenants.models import Shop
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.streams.milestones_support import LEGAL

pytestmark = pytest.mark.django_db

DEMO_OWNER = "owner@demo.example"
MANAGER = "manon@demo.example"


def _demo_shop() -> Shop:
    return Shop.objects.get(domains__domain=f"demo.{settings.BASE_DOMAIN}")


def _schedule() -> list[Milestone]:
    order = Order.objects.get(lines__product__sku="JDL-B03")
    return list(Milestone.objects.filter(subject_type_id=content_type_id(Order),
                                         subject_id=order.pk).order_by("position"))


def test_seed_demo_runs_the_programme_in_milestones_with_work_a_ticket_and_news(
        pooled_shop, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo")
    call_command("seed_demo")  # repeatable: nothing twice
    with in_schema(_demo_shop()):
        programme = Project.objects.get()
        milestones = {m.name: m for m in Milestone.objects.filter(
            subject_type_id=content_type_id(Project), subject_id=programme.pk)}
        assert len(milestones) == 5
        assert milestones["Earthworks and foundations"].status == MilestoneStatus.COMPLETED
        assert milestones["Structure and roof"].status == MilestoneStatus.IN_PROGRESS
        assert milestones["Utility connections"].status == MilestoneStatus.DELAYED
        assert {m.name for m in milestones["Interior finishes"].depends_on.all()} == {
            "Structure and roof", "Utility connections"}

        # The lot sold off-plan: 35/70/95/100 %; a fresh demo shop has no legal identity, so
        # the first instalment is not invoiced and its milestone waits for staff.
        schedule = _schedule()
        assert [m.bill_percent for m in schedule] == [Decimal(n) for n in ("35", "35", "25", "5")]
        assert schedule[0].status == MilestoneStatus.PLANNED and schedule[0].billed_at is None
        assert not Invoice.objects.exists()

        manager = User.objects.get(email=MANAGER)
        owner = User.objects.get(email=DEMO_OWNER)
        assert manager.is_staff and manager.has_usable_password()
        assert manager.groups.filter(name="manager").exists()
        assert Task.objects.filter(assignee=manager).count() == 3
        assert Task.objects.filter(assignee=owner).count() == 1

        ticket = Ticket.objects.get()
        assert ticket.raised_by.email == "client@demo.example"
        assert ticket.status == TicketStatus.ANSWERED
        assert Comment.objects.filter(subject_type_id=content_type_id(Ticket),
                                      subject_id=ticket.pk, customer_visible=True,
                                      author=manager).exists()
        assert Comment.objects.filter(mentions=owner, author=manager).count() == 1

        inbox = Notification.objects.filter(recipient=owner, read_at__isnull=True)
        assert {NotificationReason.FOLLOW, NotificationReason.MENTION,
                NotificationReason.ASSIGNED} <= set(inbox.values_list("reason", flat=True))
        assert inbox.count() >= 5


def test_demo_with_a_legal_identity_bills_the_first_instalment_of_the_lot(
        pooled_shop, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    opened = shop_open(name="Demo Shop", subdomain="demo", owner_email=DEMO_OWNER,
                       owner_password="demo-password-2026", locale="en")
    Shop.objects.filter(pk=opened.shop.pk).update(**LEGAL)

    call_command("seed_demo")

    with in_schema(_demo_shop()):
        foundations = _schedule()[0]
        assert foundations.status == MilestoneStatus.COMPLETED
        invoice = Invoice.objects.get()
        assert foundations.billed_reference == invoice.number
        assert invoice.status == InvoiceStatus.ISSUED
        assert invoice.order_percent == Decimal("35")
