""""My work": a staff member's open tasks (overdue first), the tickets assigned to them, the
milestones they own that are not completed, what they follow with its latest event, and their
unread notifications; the page costs the same with 10 tasks or 1,000."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streams.events import follow, record
from streams.models import Milestone, MilestoneStatus, Task, TaskStatus
from streams.services.work import task_assign, task_set_status, ticket_assign, ticket_close
from streams.subjects import content_type_id
from tests.streams.work_support import (  # noqa: F401 (in_shop is a fixture)
    client_for,
    customer_with_order,
    in_shop,
    project,
    raise_ticket,
    staff,
    task,
)

pytestmark = pytest.mark.usefixtures("in_shop")

MY_WORK = "/dashboard/activity/my-work/"


def test_my_work_shows_what_is_mine_and_open(shop):
    me, manager = staff("sales"), staff("manager")
    site = project()
    today = timezone.localdate()
    task(site, by=manager, title="Later", assignee=me, due_date=today + timedelta(days=9))
    task(site, by=manager, title="Undated", assignee=me)
    task(site, by=manager, title="Late", assignee=me, due_date=today - timedelta(days=1))
    finished = task(site, by=manager, title="Finished", assignee=me)
    task_set_status(task=finished, status=TaskStatus.DONE, by=me)
    task(site, by=manager, title="Someone else's", assignee=manager)
    paul, order = customer_with_order()
    question = raise_ticket(paul, order, title="Where is it?")
    ticket_assign(ticket=question, assignee=me, by=manager)
    closed = raise_ticket(paul, order, title="Old question")
    ticket_assign(ticket=closed, assignee=me, by=manager)
    ticket_close(ticket=closed, by=me)
    ct = content_type_id(site)
    Milestone.objects.create(subject_type_id=ct, subject_id=site.pk, name="Foundations",
                             owner=me)
    Milestone.objects.create(subject_type_id=ct, subject_id=site.pk, name="Handover done",
                             owner=me, status=MilestoneStatus.COMPLETED)
    follow(user=me, subject=order)
    record(subject=order, verb="confirm", actor=manager, before="pending", after="confirmed")

    page = client_for(shop, me).get(MY_WORK)
    assert page.status_code == 200
    context = page.context
    assert [row["title"] for row in context["tasks"]] == ["Late", "Later", "Undated"]
    assert context["tasks"][0]["overdue"]
    assert [t["title"] for t in context["tickets"]] == ["Where is it?"]
    assert [m["milestone"].name for m in context["milestones"]] == ["Foundations"]
    followed = {f["label"]: f for f in context["followed"]}
    assert followed[f"Order {order.number}"]["event"].verb == "confirm"
    assert context["unread"] >= 3, "three assignments and the confirmation"


def test_unread_notifications_link_to_the_inbox(shop):
    me = staff("sales")
    task(by=staff("manager"), assignee=me, title="Call the architect")
    html = client_for(shop, me).get(MY_WORK).content.decode()
    assert 'href="/dashboard/activity/inbox/"' in html
    assert "Call the architect" in html


def test_my_work_is_for_staff(shop):
    paul, _order = customer_with_order()
    assert client_for(shop, paul.user).get(MY_WORK).status_code == 403


def test_my_work_costs_the_same_with_10_tasks_or_1000(shop, django_assert_max_num_queries):
    me, manager = staff("sales"), staff("manager")
    site = project()
    ct = content_type_id(site)
    slab = task(site, by=manager, assignee=me)
    task_assign(task=slab, assignee=manager, by=manager)
    task_assign(task=slab, assignee=me, by=manager)
    today = timezone.localdate()

    def bulk(n: int, start: int) -> None:
        Task.objects.bulk_create([
            Task(subject_type_id=ct, subject_id=site.pk, subject_label=site.name,
                 title=f"Task {start + i}", assignee=me,
                 due_date=today + timedelta(days=(start + i) % 30 - 15)) for i in range(n)])
        for i in range(min(n, 50)):  # and more to follow, each with events
            other = project(f"Site {start + i}")
            follow(user=me, subject=other)
            record(subject=other, verb="edited", actor=manager)

    bulk(9, 0)
    client = client_for(shop, me)
    client.get(MY_WORK)  # the session and the content type memo
    with CaptureQueriesContext(connection) as ten:
        assert client.get(MY_WORK).status_code == 200
    bulk(990, 9)
    with django_assert_max_num_queries(len(ten.captured_queries)):
        page = client.get(MY_WORK)
    assert len(page.context["tasks"]) == 20 and page.context["tasks"][0]["overdue"]
    assert len(page.context["followed"]) == 20
