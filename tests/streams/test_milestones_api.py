"""Milestones through the API: made on a programme or an order, listed by subject in a constant
number of queries, changed, given dependencies (cycles refused), run through their transitions
(409 with what is allowed, 403 for a role that may not), billing refusals as 409; the OpenAPI
schema documents it all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from billing.services.invoices import invoice_create_for_order, invoice_issue
from streams.models import Milestone, MilestoneStatus
from streams.services.milestones import milestone_dependencies_set
from tenants.accounts.services import api_token_create
from tests.conftest import host_of
from tests.sales.factories import staff
from tests.streams.milestones_support import (  # noqa: F401 -- fixtures
    a_milestone,
    a_project,
    an_order,
    in_shop,
    manager,
    off_plan_schedule,
    tracked_subjects,
)

pytestmark = pytest.mark.usefixtures("in_shop")
URL = "/api/v1/milestones/"


def api_as(shop, user) -> Client:
    _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def api(shop) -> Client:
    return api_as(shop, manager())


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def test_a_milestone_is_made_changed_and_listed_by_subject(api):
    order, project = an_order(), a_project()
    a_milestone(project, "Site survey")

    response = post(api, URL, {"subject_type": "sales.order", "subject_id": order.pk,
                               "name": "Foundations", "planned_start": "2026-03-01",
                               "planned_end": "2026-05-31", "bill_percent": "35"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subject"]["type"] == "sales.order" and body["subject"]["id"] == order.pk
    assert (body["status"], body["bill_percent"], body["allowed_actions"]) == (
        "planned", "35.00", ["start", "complete", "delay", "cancel"])

    response = api.patch(f"{URL}{body['id']}/", {"progress": 30, "actual_cost": "1200.00"},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["progress"] == 30

    listed = api.get(URL, {"subject_type": "sales.order", "subject_id": order.pk}).json()
    assert [m["name"] for m in listed["results"]] == ["Foundations"]
    assert api.get(URL, {"subject_type": "billing.invoice"}).json() == {"errors": {
        "subject_type": ["Milestones belong to `catalog.project` or `sales.order`."]}}


def test_bad_input_answers_400_naming_the_field_and_changes_nothing(api):
    order = an_order()
    off_plan_schedule(order)

    cases = [
        ({"subject_type": "sales.order", "subject_id": order.pk, "name": "Extra",
          "bill_percent": "5"}, "bill_percent", "At most 0 % is left"),
        ({"subject_type": "sales.order", "subject_id": 999999, "name": "X"}, "subject_id",
         "No such programme or order"),
        ({"subject_type": "sales.order", "subject_id": order.pk, "name": ""}, "name",
         "Give the milestone a name"),
        ({"subject_type": "sales.order", "subject_id": order.pk, "name": "X",
          "planned_start": "2026-05-01", "planned_end": "2026-04-01"}, "planned_end",
         "planned end is before"),
    ]
    for data, field, message in cases:
        response = post(api, URL, data)
        assert response.status_code == 400, data
        assert message in response.json()["errors"][field][0], response.json()
    assert Milestone.objects.count() == 4


def test_transitions_refuse_with_what_is_allowed_and_by_role(api, shop):
    project = a_project()
    foundations, walls = a_milestone(project, "Foundations"), a_milestone(project, "Walls")
    milestone_dependencies_set(milestone=walls, depends_on=[foundations], by=None)

    response = post(api, f"{URL}{walls.pk}/start/")
    assert response.status_code == 409
    assert response.json() == {
        "errors": {"status": ["“Walls” waits for Foundations (planned): “Start” is possible "
                              "once they are completed (or cancelled)."]},
        "state": "planned", "allowed": ["delay", "cancel"]}

    seller = api_as(shop, staff("sales"))
    response = post(seller, f"{URL}{foundations.pk}/start/")
    assert response.status_code == 403 and response.json()["allowed"] == []
    assert seller.get(f"{URL}{foundations.pk}/").status_code == 200, "sales may read"

    assert post(api, f"{URL}{foundations.pk}/start/").json()["status"] == "in_progress"
    response = post(api, f"{URL}{foundations.pk}/cancel/", {"reason": ""})
    assert response.status_code == 400 and "Say why" in response.json()["errors"]["reason"][0]
    assert Milestone.objects.get(pk=foundations.pk).status == MilestoneStatus.IN_PROGRESS


def test_a_dependency_cycle_is_refused_naming_the_loop(api):
    project = a_project()
    a, b = a_milestone(project, "Foundations"), a_milestone(project, "Walls")
    assert post(api, f"{URL}{b.pk}/dependencies/", {"depends_on": [a.pk]}).status_code == 200

    response = post(api, f"{URL}{a.pk}/dependencies/", {"depends_on": [b.pk]})
    assert response.status_code == 400
    assert "Foundations → Walls → Foundations" in response.json()["errors"]["depends_on"][0]


def test_completing_a_billing_milestone_bills_it_or_answers_billings_refusal(api):
    order = an_order()
    foundations, roof, *_rest = off_plan_schedule(order)

    body = post(api, f"{URL}{foundations.pk}/complete/").json()
    invoice = Invoice.objects.get(order=order)
    assert (body["status"], body["billed_reference"]) == ("completed", invoice.number)

    invoice_issue(invoice=invoice_create_for_order(order=order, by=None,
                                                   percent=Decimal("50")), by=None)
    response = post(api, f"{URL}{roof.pk}/complete/")
    assert response.status_code == 409
    assert "at most 15 % is left" in response.json()["errors"]["status"][0]
    assert response.json()["state"] == "planned"
    assert Milestone.objects.get(pk=roof.pk).status == MilestoneStatus.PLANNED


def test_the_list_runs_as_many_queries_for_60_milestones_as_for_6(api):
    small, large = a_project("small"), a_project("large")
    for project, count in ((small, 6), (large, 60)):
        previous = None
        for n in range(count):
            milestone = a_milestone(project, f"Stage {n}")
            if previous is not None:
                milestone_dependencies_set(milestone=milestone, depends_on=[previous], by=None)
            previous = milestone
    query = {"subject_type": "catalog.project"}
    api.get(URL, {**query, "subject_id": small.pk})
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL, {**query, "subject_id": small.pk}).json()["results"]) == 6
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL, {**query, "subject_id": large.pk}).json()["results"]) == 25
    assert len(many.captured_queries) == len(few.captured_queries)


def test_anonymous_visitors_and_other_shops_never_reach_milestones(api, shop, other_shop):
    milestone = a_milestone(a_project(), "Foundations")
    key = api.defaults["HTTP_AUTHORIZATION"]
    assert Client(HTTP_HOST=host_of(shop)).get(URL).status_code == 401
    elsewhere = Client(HTTP_HOST=host_of(other_shop), HTTP_AUTHORIZATION=key)
    assert elsewhere.get(f"{URL}{milestone.pk}/").status_code == 401, "tokens are per shop"
    assert api.get(f"{URL}{milestone.pk + 1000}/").status_code == 404


def test_the_schema_documents_the_milestone_endpoints(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/milestones/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/milestones/{id}/"])
    assert "post" in paths["/api/v1/milestones/{id}/dependencies/"]
    for name in ("start", "complete", "delay", "cancel"):
        responses = paths[f"/api/v1/milestones/{{id}}/{name}/"]["post"]["responses"]
        assert {"200", "403", "409"} <= set(responses), name
        refused = responses["409"]["content"]["application/json"]
        assert refused["schema"]["$ref"].endswith("/MilestoneRefused") and refused["examples"]
    assert "MilestoneStatusEnum" in schema["components"]["schemas"]
