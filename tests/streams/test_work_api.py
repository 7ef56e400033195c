"""Tasks and tickets through the API: the same services as the dashboard (one event per
change, assignees told), the role's permissions per action, refusals that say why and change
nothing, customers kept out, another shop's tickets unreachable, and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from streams.models import Event, Notification, Priority, Task, TaskStatus, Ticket, TicketStatus
from tenants.accounts.services import api_token_create
from tests.conftest import host_of, in_schema, owner_of
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

TASKS = "/api/v1/tasks/"
TICKETS = "/api/v1/tickets/"


def api_for(shop, user) -> Client:
    _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def test_staff_create_filter_edit_and_delete_tasks(shop):
    manager, seller = staff("manager"), staff("sales")
    site = project()
    api = api_for(shop, manager)
    created = post(api, TASKS, {"subject_type": "catalog.project", "subject_id": site.pk,
                                "title": "Pour the slab", "priority": "high",
                                "due_date": "2030-04-30", "assignee": seller.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["subject"] == {"type": "catalog.project", "id": site.pk, "label": site.name}
    assert (body["priority"], body["assignee"]["id"], body["status"]) == ("high", seller.pk,
                                                                          "todo")
    assert Notification.objects.filter(recipient=seller).count() == 1
    task(project("Elsewhere"), by=manager, title="Other")

    listed = api.get(TASKS, {"subject_type": "catalog.project", "subject_id": site.pk})
    assert [t["title"] for t in listed.json()["results"]] == ["Pour the slab"]
    assert api.get(TASKS, {"assignee": seller.pk}).json()["count"] == 1
    assert api.get(TASKS, {"status": "open", "priority": "high"}).json()["count"] == 1

    pk = body["id"]
    edited = api.patch(f"{TASKS}{pk}/", {"title": "Pour it", "priority": "urgent"},
                       content_type="application/json")
    assert (edited.json()["title"], edited.json()["priority"]) == ("Pour it", "urgent")
    done = post(api, f"{TASKS}{pk}/status/", {"status": "done"})
    assert done.json()["status"] == "done" and done.json()["completed_at"]
    unassigned = post(api, f"{TASKS}{pk}/assign/", {"assignee": None})
    assert unassigned.json()["assignee"] is None
    assert api.delete(f"{TASKS}{pk}/").status_code == 204
    assert not Task.objects.filter(pk=pk).exists()


def test_refusals_say_why_and_change_nothing(shop):
    manager = staff("manager")
    site = project()
    api = api_for(shop, manager)
    no_title = post(api, TASKS, {"subject_type": "catalog.project", "subject_id": site.pk,
                                 "title": ""})
    assert no_title.status_code == 400
    assert no_title.json() == {"errors": {"title": ["Give the task a title."]}}
    unknown = post(api, TASKS, {"subject_type": "accounts.user", "subject_id": manager.pk,
                                "title": "x"})
    assert unknown.status_code == 400 and "subject_type" in unknown.json()["errors"]
    missing = post(api, TASKS, {"subject_type": "catalog.project", "subject_id": 999999,
                                "title": "x"})
    assert missing.status_code == 400 and "subject_id" in missing.json()["errors"]
    customer, _order = customer_with_order()
    outsider = post(api, TASKS, {"subject_type": "catalog.project", "subject_id": site.pk,
                                 "title": "x", "assignee": customer.user.pk})
    assert outsider.status_code == 400 and "assignee" in outsider.json()["errors"]
    assert not Task.objects.exists()

    slab = task(site, by=manager)
    same = post(api, f"{TASKS}{slab.pk}/status/", {"status": "todo"})
    assert same.status_code == 409 and "already" in same.json()["errors"]["status"][0]
    bogus = post(api, f"{TASKS}{slab.pk}/status/", {"status": "finished"})
    assert bogus.status_code == 400
    assert Event.objects.filter(verb="status_changed").count() == 0
    assert api.get(f"{TASKS}999999/").status_code == 404


@pytest.mark.parametrize(("role", "method", "allowed"), [
    ("accountant", "list", True), ("accountant", "create", False),
    ("accountant", "status", False), ("sales", "delete", False), ("manager", "delete", True),
])
def test_each_task_action_needs_its_permission(shop, role, method, allowed):
    site = project()
    slab = task(site, by=staff("manager"))
    api = api_for(shop, staff(role))
    response = {
        "list": lambda: api.get(TASKS),
        "create": lambda: post(api, TASKS, {"subject_type": "catalog.project",
                                            "subject_id": site.pk, "title": "x"}),
        "status": lambda: post(api, f"{TASKS}{slab.pk}/status/", {"status": "done"}),
        "delete": lambda: api.delete(f"{TASKS}{slab.pk}/"),
    }[method]()
    assert (response.status_code < 300) is allowed, response.content
    if not allowed:
        assert response.status_code == 403
        assert Task.objects.get(pk=slab.pk).status == TaskStatus.TODO


def test_staff_answer_tickets_through_the_api(shop, django_capture_on_commit_callbacks):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    seller = staff("sales")
    api = api_for(shop, seller)
    listed = api.get(TICKETS, {"status": "open", "assignee": "none"}).json()
    assert [t["id"] for t in listed["results"]] == [ticket.pk]
    assert listed["results"][0]["subject"]["label"] == f"Order {order.number}"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        replied = post(api, f"{TICKETS}{ticket.pk}/reply/", {"body": "Monday."})
    assert replied.status_code == 200 and replied.json()["status"] == "answered"
    assert [m["body"] for m in replied.json()["thread"]] == ["Monday."]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [paul.email]
    noted = post(api, f"{TICKETS}{ticket.pk}/note/", {"body": "VIP"})
    assert noted.json()["thread"][-1]["customer_visible"] is False
    assigned = post(api, f"{TICKETS}{ticket.pk}/assign/", {"assignee": seller.pk})
    assert assigned.json()["assignee"]["id"] == seller.pk
    urgent = post(api, f"{TICKETS}{ticket.pk}/priority/", {"priority": "urgent"})
    assert urgent.json()["priority"] == "urgent"
    assert post(api, f"{TICKETS}{ticket.pk}/close/").json()["status"] == "closed"
    again = post(api, f"{TICKETS}{ticket.pk}/close/")
    assert again.status_code == 409
    assert post(api, f"{TICKETS}{ticket.pk}/reopen/").json()["status"] == "open"
    empty = post(api, f"{TICKETS}{ticket.pk}/reply/", {"body": " "})
    assert empty.status_code == 400 and empty.json()["errors"]["body"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (TicketStatus.OPEN, Priority.URGENT)


def test_customers_and_read_only_roles_cannot_answer(shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    customer = client_for(shop, paul.user)
    assert customer.get(TICKETS).status_code == 403
    assert customer.get(f"{TICKETS}{ticket.pk}/").status_code == 403
    assert Client(HTTP_HOST=host_of(shop)).get(TICKETS).status_code == 401
    accountant = api_for(shop, staff("accountant"))
    assert accountant.get(f"{TICKETS}{ticket.pk}/").status_code == 200
    assert post(accountant, f"{TICKETS}{ticket.pk}/reply/", {"body": "Hi"}).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_another_shops_token_never_reaches_this_shops_tasks_or_tickets(shop, other_shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    slab = task(by=staff("manager"))
    with in_schema(other_shop):
        intruder = api_for(other_shop, owner_of(other_shop))
        assert intruder.get(f"{TICKETS}{ticket.pk}/").status_code == 404
        assert intruder.get(f"{TASKS}{slab.pk}/").status_code == 404
        assert intruder.get(TICKETS).json()["count"] == 0


def test_the_schema_documents_tasks_and_tickets(shop_client):
    paths = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = paths["paths"]
    assert {"get", "post"} <= set(operations["/api/v1/tasks/"])
    assert {"get", "patch", "delete"} <= set(operations["/api/v1/tasks/{id}/"])
    for action in ("assign", "status"):
        assert "post" in operations[f"/api/v1/tasks/{{id}}/{action}/"], action
    for action in ("reply", "note", "assign", "priority", "close", "reopen"):
        responses = operations[f"/api/v1/tickets/{{id}}/{action}/"]["post"]["responses"]
        assert {"200", "403", "409"} <= set(responses), action
    assert "post" not in operations["/api/v1/tickets/"], "customers raise tickets in the shop"
    enums = paths["components"]["schemas"]
    assert {"TaskStatusEnum", "TicketStatusEnum"} <= set(enums)
