"""Demo work for `manage.py seed_demo`, run in the demo shop's schema after the catalog's and
sales' seeds: the programme's milestones (with dependencies: one completed, one in progress,
one delayed), tasks for the demo staff, a customer's ticket answered by staff, a comment that
mentions the owner, and follows that fill the owner's inbox. All through the services, so
every step is on the timelines as it would be in real use.

Streams knows no domain app: the programme is found through what catalog registered
(streams.subjects), the customer's order through what sales registered for tickets. The lot
sale's billing schedule is seeded by sales (sales.demo.seed_lot_sale), which may call
streams. Does nothing if the programme already has milestones (seed_demo runs again on every
`make run`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from streams.models import FollowLevel, Milestone, Priority, TaskStatus
from streams.selectors_social import subject_kinds
from streams.services.milestones import (
    milestone_complete,
    milestone_create,
    milestone_delay,
    milestone_dependencies_set,
    milestone_start,
    milestone_update,
)
from streams.services.social import comment_create, follow_set
from streams.services.work import (
    task_create,
    task_set_status,
    ticket_assign,
    ticket_raise,
    ticket_reply,
)
from streams.subjects import content_type_id, customer_subject_named
from tenants.accounts.models import User
from tenants.accounts.roles import MANAGER, OWNER
from tenants.accounts.services import staff_invite
from tenants.errors import TenantsError
from tenants.models import Shop

DEMO_MANAGER = "manon@demo.example"
DEMO_PASSWORD = "demo-password-2026"  # the demo's one password (tenants' seed_demo)
BASE_URL = "http://demo.localhost:8000"
PROGRAMME = "catalog.project"

# name, planned start and end (days from today), budget, actual cost
MILESTONES = {
    "foundations": ("Earthworks and foundations", -240, -150, "420000", "436500"),
    "structure": ("Structure and roof", -150, 45, "980000", "610000"),
    "utilities": ("Utility connections", -90, -10, "65000", "12000"),
    "interiors": ("Interior finishes", 45, 330, "720000", "0"),
    # The programme's delivery date in catalog's demo is 420 days away.
    "handover": ("Handover to the buyers", 330, 420, "40000", "0"),
}
DEPENDENCIES = {"structure": ["foundations"], "utilities": ["foundations"],
                "interiors": ["structure", "utilities"], "handover": ["interiors"]}


def _manager(owner: User) -> User | None:
    """The demo's second staff member (a manager who can log in), if the plan has a seat."""
    manager = User.objects.filter(email=DEMO_MANAGER).first()
    if manager is not None:
        return manager if manager.is_active else None
    shop = Shop.objects.select_related("plan").filter(schema_name=connection.schema_name).first()
    try:
        manager = staff_invite(email=DEMO_MANAGER, role=MANAGER, full_name="Manon Leroy",
                               by=owner, max_staff=shop.plan.max_staff if shop and shop.plan
                               else None)
    except TenantsError:  # every seat taken (PlanLimitReached): the owner does it all
        return None
    manager.set_password(DEMO_PASSWORD)
    manager.save(update_fields=["password"])
    return manager


def _customer_order() -> tuple[User | None, Model | None]:
    """A customer with an account and their most recent order (the lot they bought, after
    sales' seed), found through sales' registration of what tickets are about."""
    kind = customer_subject_named("order")
    if kind is None or kind.choices is None:
        return None, None
    for user in User.objects.filter(is_staff=False, is_active=True).order_by("pk"):
        choices = kind.choices(user)
        if choices:
            return user, kind.lookup(user, choices[0][0])
    return None, None


def seed() -> int:
    kind = subject_kinds().get(PROGRAMME)
    programme = kind.model._default_manager.order_by("pk").first() if kind else None
    owner = User.objects.filter(is_staff=True, groups__name=OWNER).order_by("pk").first()
    if programme is None or owner is None:
        return 0
    programme_type = content_type_id(programme)
    if Milestone.objects.filter(subject_type_id=programme_type,
                                subject_id=programme.pk).exists():
        return 0
    manager = _manager(owner)
    colleague = manager or owner
    today = timezone.localdate()
    created = 1 if manager else 0

    # The owner follows the programme: what the site team does reaches their inbox.
    follow_set(user=owner, subject_type_id=programme_type, subject_id=programme.pk,
               level=FollowLevel.ALL)
    milestones = {
        key: milestone_create(subject=programme, by=owner, data={
            "name": name, "planned_start": today + timedelta(days=start),
            "planned_end": today + timedelta(days=end), "budget": Decimal(budget),
            "owner": colleague, "position": position})
        for position, (key, (name, start, end, budget, _cost)) in enumerate(MILESTONES.items())}
    for key, needs in DEPENDENCIES.items():
        milestone_dependencies_set(milestone=milestones[key],
                                   depends_on=[milestones[n] for n in needs], by=owner)
    created += len(milestones)

    foundations, structure = milestones["foundations"], milestones["structure"]
    milestone_complete(milestone=foundations, by=colleague)
    milestone_update(milestone=foundations, by=owner, data={
        "actual_start": today + timedelta(days=-236), "actual_end": today + timedelta(days=-146),
        "actual_cost": Decimal(MILESTONES["foundations"][4])})
    milestone_start(milestone=structure, by=colleague)
    milestone_update(milestone=structure, by=colleague, data={
        "actual_start": today + timedelta(days=-145), "progress": 60,
        "actual_cost": Decimal(MILESTONES["structure"][4])})
    milestone_delay(milestone=milestones["utilities"], by=colleague,
                    message="The grid operator moved the connection to next month.")

    # Tasks: the manager's to-do list, and one for the owner.
    task_create(subject=programme, title="Choose the kitchen finishes for the show flat",
                by=owner, assignee=colleague, due_date=today + timedelta(days=10),
                priority=Priority.HIGH, milestone=milestones["interiors"])
    task_create(subject=programme, title="Chase the grid operator for a connection date",
                by=owner, assignee=colleague, due_date=today + timedelta(days=3),
                priority=Priority.URGENT, milestone=milestones["utilities"])
    photos = task_create(subject=programme, title="Send the foundation photos to the buyers",
                         by=owner, assignee=colleague, milestone=foundations)
    task_set_status(task=photos, status=TaskStatus.DONE, by=colleague)
    task_create(subject=programme, title="Approve the roof insulation report", by=colleague,
                assignee=owner, due_date=today + timedelta(days=5),
                description="The thermal engineer's report is attached to the roof milestone.",
                milestone=structure)
    created += 4

    # A comment that mentions the owner, and their answer mentioning the manager.
    mention = owner.email.split("@")[0]
    comment = comment_create(
        by=colleague, subject_type_id=programme_type, subject_id=programme.pk,
        body=f"@{mention} the roof will be on in six weeks, but the utility connections are "
             "late: the grid operator moved them to next month. Can you approve the "
             "insulation report this week?")
    created += 1
    if manager is not None:
        comment_create(by=owner, subject_type_id=programme_type, subject_id=programme.pk,
                       parent_id=comment.pk,
                       body=f"Thanks @{manager.email.split('@')[0]}, I will read it tomorrow.")
        created += 1

    # A customer's ticket about their order, answered by staff.
    customer, order = _customer_order()
    if customer is not None and order is not None:
        follow_set(user=owner, subject_type_id=content_type_id(order), subject_id=order.pk,
                   level=FollowLevel.ALL)
        ticket = ticket_raise(
            user=customer, subject=order, title="Visiting the building site",
            body="Hello, could we visit the site before the roof goes on? We would love to see "
                 "our future home. Thank you!")
        follow_set(user=owner, subject_type_id=content_type_id(ticket), subject_id=ticket.pk,
                   level=FollowLevel.IMPORTANT)
        if manager is not None:
            ticket_assign(ticket=ticket, assignee=manager, by=owner)
        ticket_reply(ticket=ticket, by=colleague, base_url=BASE_URL,
                     body="Hello, of course: the site team shows buyers around on Saturday "
                          "mornings. I have booked you for this Saturday at 10:00; safety "
                          "shoes and helmets are provided at the gate.")
        created += 2
    return created
