"""Tasks on a programme (or any tracked object): assigning tells the assignee and makes them
follow it, never when they take it themselves; every change is one event on the task, and
creations and status changes show on the programme's timeline too; refusals change nothing;
each role may do what its permissions say, from the programme's page and the tasks list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streams.errors import WorkError, WorkForbidden
from streams.models import (
    Event,
    Follow,
    Milestone,
    Notification,
    NotificationReason,
    Priority,
    Task,
    TaskStatus,
)
from streams.services.work import task_assign, task_delete, task_set_status, task_update
from streams.subjects import content_type_id
from tenants.accounts.models import User
from tests.conftest import PASSWORD
from tests.streams.work_support import (  # noqa: F401 (in_shop is a fixture)
    client_for,
    in_shop,
    project,
    staff,
    task,
)

pytestmark = pytest.mark.usefixtures("in_shop")

TASKS = "/dashboard/activity/tasks/"


def events_of(obj, verb: str | None = None):
    qs = Event.objects.filter(subject_type_id=content_type_id(obj), subject_id=obj.pk)
    return qs.filter(verb=verb) if verb else qs


def follows(user, obj) -> bool:
    return Follow.objects.filter(user=user, subject_type_id=content_type_id(obj),
                                 subject_id=obj.pk).exists()


# ---------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------
def test_assigning_a_task_notifies_the_assignee_and_makes_them_follow_it():
    manager, seller = staff("manager"), staff("sales")
    slab = task(by=manager)
    task_assign(task=slab, assignee=seller, by=manager)

    event = events_of(slab, "assigned").get()
    assert (event.actor, event.data["assignee"]) == (manager, seller.pk)
    notification = Notification.objects.get(recipient=seller)
    assert (notification.event, notification.reason) == (event, NotificationReason.ASSIGNED)
    assert follows(seller, slab) and follows(manager, slab), "the creator follows it too"
    assert not Notification.objects.filter(recipient=manager).exists(), "not who acted"


def test_who_takes_a_task_themselves_is_not_notified():
    seller = staff("sales")
    slab = task(by=staff("manager"))
    task_assign(task=slab, assignee=seller, by=seller)
    assert Task.objects.get(pk=slab.pk).assignee == seller
    assert follows(seller, slab)
    assert not Notification.objects.filter(recipient=seller).exists()


def test_a_task_created_with_an_assignee_tells_them_once():
    seller = staff("sales")
    slab = task(by=staff("manager"), assignee=seller)
    assert Notification.objects.filter(recipient=seller).count() == 1
    assert Notification.objects.get(recipient=seller).reason == NotificationReason.ASSIGNED
    assert events_of(slab).count() == 1, "one event: created (with its assignee)"


def test_assigning_someone_who_is_not_active_staff_is_refused_and_changes_nothing():
    manager = staff("manager")
    slab = task(by=manager)
    gone = staff("sales")
    gone.is_active = False
    gone.save()
    with pytest.raises(WorkError, match="not active staff"):
        task_assign(task=slab, assignee=gone, by=manager)
    assert Task.objects.get(pk=slab.pk).assignee is None
    assert not events_of(slab, "assigned").exists()


# ---------------------------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------------------------
def test_each_status_change_is_one_event_on_the_task_and_one_on_its_programme():
    manager = staff("manager")
    site = project()
    slab = task(site, by=manager)
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.TODO):
        task_set_status(task=slab, status=status, by=manager)

    changes = list(events_of(slab, "status_changed").order_by("at", "id")
                   .values_list("before", "after", "actor"))
    assert changes == [("todo", "in_progress", manager.pk), ("in_progress", "done", manager.pk),
                       ("done", "todo", manager.pk)]
    on_site = list(events_of(site).order_by("at", "id").values_list("verb", flat=True))
    assert on_site == ["task_created"] + ["task_status_changed"] * 3
    last = events_of(site, "task_status_changed").order_by("-at", "-id").first()
    assert (last.data["task"], last.data["before"], last.data["after"]) == (slab.pk, "done",
                                                                            "todo")
    assert "Pour the slab" in last.message


def test_done_stamps_the_completion_and_reopening_clears_it():
    manager = staff("manager")
    slab = task(by=manager)
    done = task_set_status(task=slab, status=TaskStatus.DONE, by=manager)
    assert done.completed_at is not None
    reopened = task_set_status(task=slab, status=TaskStatus.IN_PROGRESS, by=manager)
    assert reopened.completed_at is None


@pytest.mark.parametrize("status", ["todo", "finished", ""])
def test_an_unknown_or_unchanged_status_is_refused_and_records_nothing(status):
    manager = staff("manager")
    slab = task(by=manager)
    with pytest.raises(WorkError) as refused:
        task_set_status(task=slab, status=status, by=manager)
    assert refused.value.field == "status" and refused.value.message
    assert Task.objects.get(pk=slab.pk).status == TaskStatus.TODO
    assert not events_of(slab, "status_changed").exists()


# ---------------------------------------------------------------------------------------------
# Creation, edits and deletion refused or recorded
# ---------------------------------------------------------------------------------------------
def test_a_task_needs_a_title_and_a_milestone_of_its_own_programme():
    manager = staff("manager")
    site, other = project(), project("Les Tilleuls")
    with pytest.raises(WorkError, match="title") as refused:
        task(site, by=manager, title="   ")
    assert refused.value.field == "title"
    foreign = Milestone.objects.create(subject_type_id=content_type_id(other),
                                       subject_id=other.pk, name="Roof")
    with pytest.raises(WorkError) as refused:
        task(site, by=manager, milestone=foreign)
    assert refused.value.field == "milestone"
    assert not Task.objects.exists() and not Event.objects.exists()


def test_an_edit_records_what_changed_and_nothing_when_nothing_did():
    manager = staff("manager")
    slab = task(by=manager)
    task_update(task=slab, by=manager, data={"title": "Pour the slab", "priority": 30})
    edited = events_of(slab, "edited").get()
    assert edited.data["fields"] == ["priority"]
    task_update(task=slab, by=manager, data={"priority": Priority.HIGH})
    assert events_of(slab, "edited").count() == 1


def test_deleting_a_task_says_so_on_its_programme_and_drops_its_follows():
    manager = staff("manager")
    site = project()
    slab = task(site, by=manager, assignee=staff("sales"))
    task_delete(task=slab, by=manager)
    assert not Task.objects.filter(pk=slab.pk).exists()
    assert events_of(site, "task_deleted").get().data["title"] == "Pour the slab"
    assert not Follow.objects.filter(subject_type_id=content_type_id(Task),
                                     subject_id=slab.pk).exists()


@pytest.mark.parametrize(("role", "action"), [
    ("accountant", "add"), ("accountant", "change"), ("sales", "delete"),
    ("warehouse", "delete"),
])
def test_services_refuse_roles_without_the_permission(role, action):
    user, site = staff(role), project()
    slab = task(site, by=staff("manager"))
    with pytest.raises(WorkForbidden):
        if action == "add":
            task(site, by=user)
        elif action == "change":
            task_set_status(task=slab, status=TaskStatus.DONE, by=user)
        else:
            task_delete(task=slab, by=user)
    assert Task.objects.count() == 1
    assert Task.objects.get().status == TaskStatus.TODO


# ---------------------------------------------------------------------------------------------
# The programme's page: the tasks section
# ---------------------------------------------------------------------------------------------
def project_url(site) -> str:
    return f"/dashboard/catalog/projects/{site.pk}/"


def test_the_programme_page_lists_its_tasks_and_offers_the_forms_the_role_allows(shop):
    site = project()
    task(site, by=staff("manager"), title="Order the cranes")
    manager_page = client_for(shop, staff("manager")).get(project_url(site)).content.decode()
    assert 'id="tasks-section"' in manager_page and "Order the cranes" in manager_page
    assert "Add a task" in manager_page and 'action="/dashboard/activity/tasks/new/"' in manager_page
    reader = client_for(shop, staff("accountant")).get(project_url(site)).content.decode()
    assert "Order the cranes" in reader
    assert "Add a task" not in reader and "/status/" not in reader


def test_adding_a_task_without_javascript_goes_back_to_the_programme(shop):
    site, seller = project(), staff("sales")
    client = client_for(shop, staff("manager"))
    response = client.post(f"{TASKS}new/", {
        "subject_type": content_type_id(site), "subject_id": site.pk, "task-title": "Survey",
        "task-priority": Priority.HIGH, "task-assignee": seller.pk,
        "task-due_date": "2030-01-31",
        "next": project_url(site)}, follow=True)
    assert response.redirect_chain[-1][0] == project_url(site)
    assert "Task “Survey” added." in response.content.decode()
    created = Task.objects.get()
    assert (created.subject, created.assignee, created.priority) == (site, seller, Priority.HIGH)


def test_adding_a_task_with_htmx_answers_the_section_and_keeps_input_on_error(shop):
    site = project()
    client = client_for(shop, staff("manager"))
    data = {"subject_type": content_type_id(site), "subject_id": site.pk,
            "task-priority": Priority.NORMAL, "task-description": "Ask three firms",
            "next": project_url(site)}
    refused = client.post(f"{TASKS}new/", {**data, "task-title": " "}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="tasks-section")
    assert refused.status_code == 422
    html = refused.content.decode()
    assert html.lstrip().startswith('<section class="card tasks-section" id="tasks-section"')
    assert "Give the task a title." in html and "Ask three firms" in html
    assert not Task.objects.exists()
    added = client.post(f"{TASKS}new/", {**data, "task-title": "Survey"}, HTTP_HX_REQUEST="true",
                        HTTP_HX_TARGET="tasks-section")
    assert added.status_code == 200 and "Survey" in added.content.decode()
    assert 'hx-swap-oob="innerHTML:#messages"' in added.content.decode()


def test_a_task_cannot_be_put_on_something_that_is_not_tracked(shop):
    client = client_for(shop, staff("manager"))
    manager = staff("manager")
    response = client.post(f"{TASKS}new/", {"subject_type": content_type_id(manager),
                                            "subject_id": manager.pk, "task-title": "x"})
    assert response.status_code == 404
    assert not Task.objects.exists()


def test_status_and_assignment_from_the_section(shop):
    site, seller = project(), staff("sales")
    slab = task(site, by=staff("manager"))
    client = client_for(shop, staff("manager"))
    swapped = client.post(f"{TASKS}{slab.pk}/status/", {"status": "in_progress",
                                                        "next": project_url(site)},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tasks-section")
    assert swapped.status_code == 200 and 'id="tasks-section"' in swapped.content.decode()
    assert Task.objects.get(pk=slab.pk).status == TaskStatus.IN_PROGRESS
    plain = client.post(f"{TASKS}{slab.pk}/assign/", {"assignee": seller.pk,
                                                      "next": project_url(site)})
    assert plain.status_code == 302 and plain["Location"] == project_url(site)
    assert Task.objects.get(pk=slab.pk).assignee == seller
    refused = client.post(f"{TASKS}{slab.pk}/status/", {"status": "finished"},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tasks-section")
    assert refused.status_code == 422
    assert "Choose a status" in refused.content.decode()


@pytest.mark.parametrize(("role", "url", "data", "allowed"), [
    ("sales", "new/", {"task-title": "x"}, True),
    ("accountant", "new/", {"task-title": "x"}, False),
    ("warehouse", "{pk}/status/", {"status": "done"}, True),
    ("accountant", "{pk}/status/", {"status": "done"}, False),
    ("accountant", "{pk}/assign/", {"assignee": ""}, False),
    ("sales", "{pk}/delete/", {}, False),
    ("manager", "{pk}/delete/", {}, True),
])
def test_each_action_needs_its_permission(shop, role, url, data, allowed):
    site = project()
    slab = task(site, by=staff("manager"))
    before = (Task.objects.count(), Event.objects.count())
    response = client_for(shop, staff(role)).post(
        TASKS + url.format(pk=slab.pk),
        {"subject_type": content_type_id(site), "subject_id": site.pk, **data})
    if allowed:
        assert response.status_code == 302
        assert (Task.objects.count(), Event.objects.count()) != before
    else:
        assert response.status_code == 403
        assert (Task.objects.count(), Event.objects.count()) == before


def test_the_section_costs_the_same_for_three_tasks_or_sixty(shop, django_assert_max_num_queries):
    site = project()
    client = client_for(shop, staff("manager"))
    client.get(project_url(site))  # warm the content type memo and the session

    def bulk(n: int, start: int) -> None:
        Task.objects.bulk_create([Task(subject_type_id=content_type_id(site), subject_id=site.pk,
                                       subject_label=site.name, title=f"Task {start + i}")
                                  for i in range(n)])

    bulk(3, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(project_url(site)).status_code == 200
    bulk(57, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(project_url(site))
    assert page.content.decode().count('<tr id="task-') == 60


# ---------------------------------------------------------------------------------------------
# The tasks list and a task's page
# ---------------------------------------------------------------------------------------------
def test_the_list_filters_by_status_assignee_priority_and_due_date(shop):
    manager, seller = staff("manager"), staff("sales")
    site = project()
    today = timezone.localdate()
    late = task(site, by=manager, title="Late one", assignee=seller,
                due_date=today - timedelta(days=2))
    task(site, by=manager, title="Urgent one", priority=Priority.URGENT)
    done = task(site, by=manager, title="Done one", due_date=today - timedelta(days=5))
    task_set_status(task=done, status=TaskStatus.DONE, by=manager)
    client = client_for(shop, seller)

    def titles(query: str) -> set[str]:
        return {row["title"] for row in client.get(f"{TASKS}?{query}").context["rows"]}

    assert titles("") == {"Late one", "Urgent one", "Done one"}
    assert titles("assignee=me") == {"Late one"}
    assert titles("assignee=none") == {"Urgent one", "Done one"}
    assert titles("status=open") == {"Late one", "Urgent one"}
    assert titles("status=done") == {"Done one"}
    assert titles(f"priority={Priority.URGENT}") == {"Urgent one"}
    assert titles("due=overdue") == {"Late one"}, "a done task is not overdue"
    assert titles("due=none") == {"Urgent one"}
    assert titles(f"subject={content_type_id(site)}-{site.pk}&q=late") == {"Late one"}
    assert titles("status=bogus&priority=x") == {"Late one", "Urgent one", "Done one"}
    partial = client.get(f"{TASKS}?status=open", HTTP_HX_REQUEST="true",
                         HTTP_HX_TARGET="task-table")
    assert partial.content.decode().lstrip().startswith('<div id="task-table"')
    assert late.title in partial.content.decode()


def test_the_list_costs_the_same_whatever_its_length(shop, django_assert_max_num_queries):
    site = project()
    client = client_for(shop, staff("manager"))
    seller = staff("sales")
    rows = [Task(subject_type_id=content_type_id(site), subject_id=site.pk,
                 subject_label=site.name, title=f"Task {i}", assignee=seller)
            for i in range(5)]
    Task.objects.bulk_create(rows)
    client.get(TASKS)
    with CaptureQueriesContext(connection) as few:
        client.get(TASKS)
    Task.objects.bulk_create([Task(subject_type_id=content_type_id(site), subject_id=site.pk,
                                   subject_label=site.name, title=f"More {i}", assignee=seller)
                              for i in range(200)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(TASKS)
    assert page.context["page"].count == 205


def test_a_task_page_edits_it_and_refuses_bad_input_next_to_the_field(shop):
    manager = staff("manager")
    slab = task(by=manager, description="Before rain")
    client = client_for(shop, manager)
    page = client.get(f"{TASKS}{slab.pk}/")
    assert page.status_code == 200 and "Before rain" in page.content.decode()
    refused = client.post(f"{TASKS}{slab.pk}/", {"task-title": "", "task-priority": "20",
                                                 "task-description": "Keep me"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="id_task-title_error"' in html and "Keep me" in html
    client.post(f"{TASKS}{slab.pk}/", {"task-title": "Pour it", "task-priority": Priority.HIGH,
                                       "task-description": "", "task-due_date": "2030-05-01"})
    slab.refresh_from_db()
    assert (slab.title, slab.priority, str(slab.due_date)) == ("Pour it", Priority.HIGH,
                                                               "2030-05-01")
    assert client.get(f"{TASKS}999999/").status_code == 404



def test_no_task_on_something_the_user_may_not_open():
    clerk = User.objects.create_user("tasks-only@staff.test", PASSWORD, is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="add_task"))
    clerk = User.objects.get(pk=clerk.pk)  # fresh permission cache
    with pytest.raises(WorkForbidden, match="cannot open"):
        task(project(), by=clerk)
    assert not Task.objects.exists()
