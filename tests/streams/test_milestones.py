"""Milestones through their services: one event per transition with its actor, dependencies
inside one subject without cycles, nothing starts before what it waits for, the billing
schedule never bills more than 100 % and bills each share once as its milestone completes,
overdue milestones delayed once, each action by the right role only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceStatus
from billing.services.invoices import invoice_create_for_order, invoice_issue
from streams.errors import (
    MilestoneBillingRefused,
    MilestoneCycle,
    MilestoneError,
    MilestoneTransitionForbidden,
    MilestoneTransitionRefused,
)
from streams.events import follow
from streams.models import (
    ActorKind,
    Follow,
    Importance,
    Milestone,
    MilestoneStatus,
    Notification,
    NotificationReason,
)
from streams.services.milestones import (
    milestone_cancel,
    milestone_complete,
    milestone_delay,
    milestone_delete,
    milestone_dependencies_set,
    milestone_start,
    milestone_update,
    milestones_mark_overdue,
)
from streams.tasks import milestones_overdue_task
from tests.sales.factories import staff
from tests.streams.milestones_support import (  # noqa: F401 -- fixtures
    TODAY,
    a_milestone,
    a_project,
    an_order,
    events_of,
    in_shop,
    manager,
    off_plan_schedule,
    tracked_subjects,
)

pytestmark = pytest.mark.usefixtures("in_shop")


def state(milestone: Milestone) -> str:
    return Milestone.objects.get(pk=milestone.pk).status


# --- transitions and their events -----------------------------------------------------------

def test_every_transition_leaves_exactly_one_event_with_its_actor():
    boss = manager()
    project = a_project()
    works = a_milestone(project, "Structural works", by=boss)
    survey = a_milestone(project, "Survey", by=boss)

    milestone_start(milestone=works, by=boss)
    milestone_delay(milestone=works, by=boss, message="Rain for a week")
    milestone_start(milestone=works, by=boss)
    milestone_complete(milestone=works, by=boss)
    milestone_cancel(milestone=survey, by=boss, reason="Done by the seller")

    transitions = [(e.verb, e.before, e.after, e.actor_id, e.actor_kind, e.message)
                   for e in events_of(works) if e.is_transition]
    assert transitions == [
        ("start", "planned", "in_progress", boss.pk, ActorKind.STAFF, ""),
        ("delay", "in_progress", "delayed", boss.pk, ActorKind.STAFF, "Rain for a week"),
        ("start", "delayed", "in_progress", boss.pk, ActorKind.STAFF, ""),
        ("complete", "in_progress", "completed", boss.pk, ActorKind.STAFF, ""),
    ]
    cancelled = [e for e in events_of(survey) if e.is_transition]
    assert [(e.verb, e.actor_id, e.message) for e in cancelled] == [
        ("cancel", boss.pk, "Done by the seller")]
    works = Milestone.objects.get(pk=works.pk)
    assert (works.progress, works.actual_start, works.actual_end) == (100, TODAY, TODAY)


def test_a_refused_transition_changes_nothing_and_says_what_is_allowed():
    boss = manager()
    done = a_milestone(a_project(), "Survey", by=boss)
    milestone_complete(milestone=done, by=boss)
    before = events_of(done).count()

    with pytest.raises(MilestoneTransitionRefused, match="is completed: “Start” is not") as exc:
        milestone_start(milestone=done, by=boss)
    assert exc.value.allowed == [] and exc.value.state == "completed"
    with pytest.raises(MilestoneError, match="Say why"):
        milestone_cancel(milestone=a_milestone(a_project(), "Roof"), by=boss, reason="  ")
    assert events_of(done).count() == before


def test_a_role_without_the_right_to_run_milestones_is_refused():
    seller = staff("sales")
    works = a_milestone(a_project(), "Works")

    for run in (lambda: milestone_start(milestone=works, by=seller),
                lambda: milestone_cancel(milestone=works, by=seller, reason="no")):
        with pytest.raises(MilestoneTransitionForbidden, match="role does not allow"):
            run()
    assert state(works) == MilestoneStatus.PLANNED
    assert not [e for e in events_of(works) if e.is_transition]
    assert milestone_start(milestone=works, by=manager()).status == MilestoneStatus.IN_PROGRESS


# --- dependencies -------------------------------------------------------------------------------

def test_a_dependency_cycle_is_refused_with_the_loop_named():
    project = a_project()
    a, b, c = (a_milestone(project, name) for name in ("Foundations", "Walls", "Roof"))
    milestone_dependencies_set(milestone=a, depends_on=[b], by=None)
    milestone_dependencies_set(milestone=b, depends_on=[c], by=None)

    with pytest.raises(MilestoneCycle, match="Roof → Foundations → Walls → Roof") as exc:
        milestone_dependencies_set(milestone=c, depends_on=[a], by=None)
    assert exc.value.cycle == ["Roof", "Foundations", "Walls", "Roof"]
    with pytest.raises(MilestoneCycle, match="“Walls” cannot depend on itself"):
        milestone_dependencies_set(milestone=b, depends_on=[c, b], by=None)
    assert list(c.depends_on.all()) == [] and list(b.depends_on.all()) == [c]


def test_dependencies_are_milestones_of_the_same_subject():
    project = a_project()
    mine = a_milestone(project, "Walls")
    elsewhere = a_milestone(a_project("other"), "Other walls")

    with pytest.raises(MilestoneError, match="Only milestones of Les Jardins") as exc:
        milestone_dependencies_set(milestone=mine, depends_on=[elsewhere.pk], by=None)
    assert exc.value.field == "depends_on"
    assert not mine.depends_on.exists()


def test_a_milestone_cannot_start_or_complete_before_its_dependencies():
    boss = manager()
    project = a_project()
    foundations, walls, survey = (a_milestone(project, n) for n in
                                  ("Foundations", "Walls", "Survey"))
    milestone_dependencies_set(milestone=walls, depends_on=[foundations, survey], by=boss)
    milestone_start(milestone=foundations, by=boss)

    for run in (milestone_start, milestone_complete):
        with pytest.raises(MilestoneTransitionRefused,
                           match="waits for Foundations \\(in progress\\), Survey \\(planned\\)"):
            run(milestone=walls, by=boss)
    assert state(walls) == MilestoneStatus.PLANNED

    milestone_complete(milestone=foundations, by=boss)
    milestone_cancel(milestone=survey, by=boss, reason="Not needed")  # no longer holds it up
    assert milestone_start(milestone=walls, by=boss).status == MilestoneStatus.IN_PROGRESS


# --- edits --------------------------------------------------------------------------------------

def test_progress_and_cost_edits_record_what_changed_and_the_new_owner_hears_of_it():
    boss, site = manager(), staff("warehouse")
    works = a_milestone(a_project(), "Works", by=boss, budget=Decimal("1000"))

    milestone_update(milestone=works, by=boss,
                     data={"progress": 40, "actual_cost": Decimal("250.5"), "owner": site})
    milestone_update(milestone=works, by=boss, data={"progress": 40})  # nothing changed

    updates = [e for e in events_of(works) if e.verb == "updated"]
    assert len(updates) == 1 and updates[0].actor_id == boss.pk
    assert updates[0].data["changes"] == {"progress": [0, 40],
                                          "actual_cost": ["0", "250.5"],
                                          "owner": ["", site.get_full_name()]}
    assert Notification.objects.filter(recipient=site, event=updates[0],
                                       reason=NotificationReason.ASSIGNED).exists()


def test_bad_input_is_refused_next_to_its_field_and_changes_nothing():
    works = a_milestone(a_project(), "Works")
    gone = staff("sales")
    gone.is_active = False
    cases = [({"progress": 120}, "progress"), ({"budget": "-1"}, "budget"),
             ({"planned_start": TODAY, "planned_end": TODAY - timedelta(days=1)}, "planned_end"),
             ({"actual_start": TODAY + timedelta(days=3)}, "actual_start"),
             ({"name": "  "}, "name"), ({"bill_percent": Decimal("10")}, "bill_percent"),
             ({"owner": gone}, "owner")]
    for data, field in cases:
        with pytest.raises(MilestoneError) as exc:
            milestone_update(milestone=works, by=None, data=data)
        assert exc.value.field == field, data
    assert [e.verb for e in events_of(works)] == ["created"]


def test_only_a_planned_milestone_nothing_depends_on_is_deleted():
    project = a_project()
    foundations, walls = a_milestone(project, "Foundations"), a_milestone(project, "Walls")
    milestone_dependencies_set(milestone=walls, depends_on=[foundations], by=None)

    with pytest.raises(MilestoneError, match="Walls depend on it"):
        milestone_delete(milestone=foundations, by=None)
    milestone_cancel(milestone=walls, by=None, reason="Merged")
    with pytest.raises(MilestoneError, match="only a planned milestone can be deleted"):
        milestone_delete(milestone=walls, by=None)
    spare = a_milestone(project, "Spare")
    milestone_delete(milestone=spare, by=None)
    assert set(Milestone.objects.values_list("name", flat=True)) == {"Foundations", "Walls"}


# --- billing schedule ---------------------------------------------------------------------------

def test_the_schedule_of_an_order_never_bills_more_than_100_percent():
    order = an_order()
    foundations, roof, completion, handover = off_plan_schedule(order)

    with pytest.raises(MilestoneError, match="would reach 101 %.*At most 0 % is left") as exc:
        a_milestone(order, "Extra", bill_percent=Decimal("1"))
    assert exc.value.field == "bill_percent"
    with pytest.raises(MilestoneError, match="At most 5 % is left"):
        milestone_update(milestone=handover, by=None, data={"bill_percent": Decimal("6")})
    milestone_cancel(milestone=handover, by=None, reason="Handed over with completion")
    milestone_update(milestone=completion, by=None, data={"bill_percent": Decimal("30")})
    assert Milestone.objects.filter(bill_percent__isnull=False).exclude(
        status="cancelled").values_list("bill_percent", flat=True).count() == 3


def test_only_an_order_carries_a_billing_schedule():
    with pytest.raises(MilestoneError, match="Only a milestone of an order"):
        a_milestone(a_project(), "Foundations", bill_percent=Decimal("35"))


def test_completing_each_milestone_of_the_schedule_issues_its_instalment_once():
    boss = manager()
    order = an_order()
    milestones = off_plan_schedule(order, by=boss)

    for milestone in milestones:
        milestone_complete(milestone=milestone, by=boss)

    invoices = list(Invoice.objects.filter(order=order).order_by("pk"))
    assert [i.order_percent for i in invoices] == [Decimal("35"), Decimal("35"),
                                                   Decimal("25"), Decimal("5")]
    assert all(i.status == InvoiceStatus.ISSUED and i.number for i in invoices)
    assert sum(i.gross_total for i in invoices) == order.gross_total, "the balance closes it"
    billed = Milestone.objects.get(pk=milestones[0].pk)
    assert billed.billed_reference == invoices[0].number and billed.billed_at
    [event] = [e for e in events_of(billed) if e.verb == "billed"]
    assert (event.actor_id, event.data["invoice"]) == (boss.pk, invoices[0].number)
    with pytest.raises(MilestoneTransitionRefused):
        milestone_complete(milestone=billed, by=boss)
    assert Invoice.objects.filter(order=order).count() == 4


def test_billing_refusals_refuse_the_completion_and_change_nothing(shop):
    boss = manager()
    order = an_order()
    foundations = off_plan_schedule(order)[0]
    invoice_issue(invoice=invoice_create_for_order(order=order, by=None,
                                                   percent=Decimal("80")), by=None)

    with pytest.raises(MilestoneBillingRefused, match="80 % of order .* at most 20 % is left"):
        milestone_complete(milestone=foundations, by=boss)
    foundations = Milestone.objects.get(pk=foundations.pk)
    assert (foundations.status, foundations.billed_at) == (MilestoneStatus.PLANNED, None)
    assert [e.verb for e in events_of(foundations)] == ["created"]
    assert Invoice.objects.filter(order=order).count() == 1

    type(shop).objects.filter(pk=shop.pk).update(siren="")  # the fixture puts it back
    shop.siren = ""
    other = off_plan_schedule(an_order())[0]
    with pytest.raises(MilestoneBillingRefused, match="legal identity is incomplete"):
        milestone_complete(milestone=other, by=boss)
    assert state(other) == MilestoneStatus.PLANNED
    assert not Invoice.objects.exclude(order=order).exists()


# --- overdue --------------------------------------------------------------------------------------

def test_overdue_milestones_are_delayed_once_and_their_owner_and_followers_hear_of_it():
    owner, follower = staff("warehouse"), staff("manager")
    project = a_project()
    late = a_milestone(project, "Roof", owner=owner, planned_end=TODAY - timedelta(days=2))
    started = a_milestone(project, "Walls", planned_end=TODAY - timedelta(days=1))
    milestone_start(milestone=started, by=None)
    on_time = a_milestone(project, "Handover", planned_end=TODAY)
    done = a_milestone(project, "Survey", planned_end=TODAY - timedelta(days=9))
    milestone_complete(milestone=done, by=None)
    Notification.objects.filter(recipient=owner).delete()  # the "assigned" of its creation
    Follow.objects.filter(user=owner).delete()  # told as its owner, even when not following
    follow(user=follower, subject=late, level="important")

    assert milestones_overdue_task() == 2
    assert milestones_mark_overdue() == 0, "once"

    assert [state(m) for m in (late, started, on_time, done)] == [
        "delayed", "delayed", "planned", "completed"]
    [event] = [e for e in events_of(late) if e.verb == "delay"]
    assert (event.actor_id, event.actor_kind, event.importance) == (
        None, ActorKind.SYSTEM, Importance.HIGH)
    assert Notification.objects.get(recipient=owner).reason == NotificationReason.ASSIGNED
    assert Notification.objects.get(recipient=follower).event == event

    milestone_start(milestone=late, by=None)
    assert milestones_mark_overdue() == 0, "restarted, still late: already said"
    milestone_update(milestone=late, by=None, data={"planned_end": TODAY - timedelta(days=1)})
    assert milestones_mark_overdue() == 1, "a new planned end is watched again"
