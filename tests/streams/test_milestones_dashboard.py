"""Milestones in the dashboard: the programme page draws the schedule as SVG with its totals in
a constant number of queries; the order page shows the billing schedule (share, cumulative
share, the invoice each completed milestone issued); only the transitions this user may run
are offered, and they work with and without HTMX; mistakes are shown next to their field."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from billing.services.invoices import invoice_create_for_order, invoice_issue
from sales.models import Order
from streams.models import Milestone, MilestoneStatus
from streams.services.milestones import (
    milestone_complete,
    milestone_dependencies_set,
    milestone_start,
)
from streams.subjects import content_type_id
from tests.conftest import login
from tests.sales.factories import staff
from tests.streams.milestones_support import (  # noqa: F401 -- fixtures
    TODAY,
    a_milestone,
    a_project,
    an_order,
    in_shop,
    off_plan_schedule,
    tracked_subjects,
)

pytestmark = pytest.mark.usefixtures("in_shop")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "milestones-section"}


def project_url(project) -> str:
    return reverse("catalog_dashboard:project", args=[project.pk])


def order_url(order) -> str:
    return reverse("sales_dashboard:order_detail", args=[order.pk])


def section(html: str) -> str:
    return html[html.index('id="milestones-section"'):]


def a_dated_schedule(project, count: int) -> list[Milestone]:
    first = a_milestone(project, "Stage 0", planned_start=TODAY - timedelta(days=30),
                        planned_end=TODAY + timedelta(days=10), budget=Decimal("1000"))
    rows = Milestone.objects.bulk_create([Milestone(
        subject_type_id=first.subject_type_id, subject_id=project.pk, name=f"Stage {n}",
        position=n, planned_start=TODAY + timedelta(days=n), progress=n % 100,
        planned_end=TODAY + timedelta(days=n + 20), budget=Decimal("1000"),
        actual_cost=Decimal("100"), owner=None) for n in range(1, count)])
    through = Milestone.depends_on.through
    chain = [first, *rows]
    through.objects.bulk_create([through(from_milestone_id=b.pk, to_milestone_id=a.pk)
                                 for a, b in zip(chain, chain[1:], strict=False)])
    return chain


def test_the_programme_page_draws_the_milestone_timeline_with_progress_and_budget(owner_client):
    project = a_project()
    foundations = a_milestone(project, "Foundations", planned_start=TODAY - timedelta(days=40),
                              planned_end=TODAY - timedelta(days=5), budget=Decimal("30000"),
                              actual_cost=Decimal("32000.50"))
    roof = a_milestone(project, "Roof", planned_start=TODAY, planned_end=TODAY + timedelta(60),
                       budget=Decimal("10000"))
    a_milestone(project, "Survey", budget=Decimal("10000"))  # no dates: listed, not drawn
    milestone_dependencies_set(milestone=roof, depends_on=[foundations], by=None)
    milestone_complete(milestone=foundations, by=None)

    html = section(owner_client.get(project_url(project)).content.decode())

    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "Milestone timeline" in svg and svg.count('class="chart-row') == 2
    assert 'class="chart-today"' in svg and 'class="chart-dependency"' in svg
    assert 'chart-bar-completed' in svg, "a completed bar takes the badge's green (CSS class)"
    assert "1 milestone without planned dates is not drawn" in html
    # progress weighted by budget: (30 000 × 100 + 10 000 × 0 + 10 000 × 0) / 50 000
    assert re.search(r"Progress</dt><dd>60&nbsp;%</dd>\s*<dd class=\"hint\">weighted", html)
    assert "50,000.00&nbsp;€" in html and "32,000.50&nbsp;€" in html
    assert "Waits for" not in html and "After Foundations" in html


def test_the_programme_page_runs_as_many_queries_for_100_milestones_as_for_10(
        owner_client, django_assert_max_num_queries):
    small, large = a_project("small"), a_project("large")
    a_dated_schedule(small, 10)
    a_dated_schedule(large, 100)
    owner_client.get(project_url(small))  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as ten:
        response = owner_client.get(project_url(small))
    assert section(response.content.decode()).count('<tr id="milestone-') == 10

    with django_assert_max_num_queries(len(ten.captured_queries)):
        response = owner_client.get(project_url(large))
    html = section(response.content.decode())
    assert html.count('<tr id="milestone-') == 100 and html.count('class="chart-row') == 100


def test_the_order_page_shows_the_billing_schedule_and_the_invoices_it_issued(owner_client):
    order = an_order()
    foundations, roof, completion, handover = off_plan_schedule(order)
    milestone_complete(milestone=foundations, by=None)

    html = section(owner_client.get(order_url(order)).content.decode())

    assert "Milestones and billing schedule" in html
    cumulative = re.findall(r'<td class="num">(\d+)&nbsp;%</td>\s*<td>', html)
    assert cumulative == ["35", "70", "95", "100"]
    invoice = Invoice.objects.get(order=order)
    invoice_page = reverse("billing_dashboard:invoice_detail", args=[invoice.pk])
    assert f'href="{invoice_page}">{invoice.number}</a>' in html
    assert "The whole order is scheduled" in html
    assert "Complete and bill 35 %" in html, "the roof may be completed now"


def test_only_the_transitions_this_user_may_run_are_offered(shop, shop_client, owner_client):
    project = a_project()
    foundations, walls = a_milestone(project, "Foundations"), a_milestone(project, "Walls")
    milestone_dependencies_set(milestone=walls, depends_on=[foundations], by=None)

    html = section(owner_client.get(project_url(project)).content.decode())
    row = html[html.index(f'id="milestone-{foundations.pk}"'):html.index(
        f'id="milestone-{walls.pk}"')]
    assert ">Start<" in row and ">Mark completed<" in row and ">Cancel milestone<" in row
    walls_row = html[html.index(f'id="milestone-{walls.pk}"'):]
    walls_row = walls_row[:walls_row.index("</tr>")]
    assert ">Start<" not in walls_row and ">Cancel milestone<" in walls_row, "waits for it"

    seller = login(shop_client, shop, staff("sales"))
    html = section(seller.get(project_url(project)).content.decode())
    assert "Foundations" in html and ">Start<" not in html and "Add a milestone" not in html


def test_a_transition_button_works_with_and_without_htmx_and_refusals_say_why(
        shop, shop_client, owner_client):
    project = a_project()
    works = a_milestone(project, "Works")
    url = reverse("streams:milestone_transition", args=[works.pk, "start"])

    response = owner_client.post(url, {"next": project_url(project)})
    assert response.status_code == 302 and response["Location"] == project_url(project)
    assert Milestone.objects.get(pk=works.pk).status == MilestoneStatus.IN_PROGRESS

    response = owner_client.post(reverse("streams:milestone_transition",
                                         args=[works.pk, "cancel"]), {"message": ""}, **HTMX)
    assert response.status_code == 422 and "Say why the milestone is cancelled" in \
        response.content.decode()
    response = owner_client.post(reverse("streams:milestone_transition",
                                         args=[works.pk, "complete"]), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card milestones')
    assert 'badge-completed' in body and "now completed" in body

    header = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "milestone-header"}
    scaffolding = a_milestone(project, "Scaffolding")
    response = owner_client.post(reverse("streams:milestone_transition",
                                         args=[scaffolding.pk, "delay"]), **header)
    assert response.status_code == 200 and response["HX-Refresh"] == "true", "its whole page"
    response = owner_client.post(reverse("streams:milestone_transition",
                                         args=[scaffolding.pk, "delay"]), **header)
    assert response.status_code == 422
    assert ("is delayed: “Mark delayed” is not possible now. Possible now: “Start”, "
            "“Mark completed”, “Cancel milestone”.") in response.content.decode()

    other = a_milestone(project, "Other works")
    seller = login(shop_client, shop, staff("sales"))
    response = seller.post(reverse("streams:milestone_transition", args=[other.pk, "start"]))
    assert response.status_code == 403 and "role does not allow" in response.content.decode()
    assert Milestone.objects.get(pk=other.pk).status == MilestoneStatus.PLANNED


def test_a_refused_completion_of_a_billing_milestone_shows_billings_message(owner_client):
    order = an_order()
    foundations = off_plan_schedule(order)[0]
    url = reverse("streams:milestone_transition", args=[foundations.pk, "complete"])
    milestone_start(milestone=foundations, by=None)
    invoice_issue(invoice=invoice_create_for_order(order=order, by=None,
                                                   percent=Decimal("90")), by=None)

    response = owner_client.post(url, **HTMX)
    assert response.status_code == 422
    assert "at most 10 % is left" in response.content.decode()
    assert Milestone.objects.get(pk=foundations.pk).status == MilestoneStatus.IN_PROGRESS


def test_adding_a_milestone_with_a_mistake_keeps_the_input_and_says_why(owner_client):
    order = an_order()
    off_plan_schedule(order)
    url = reverse("streams:milestone_new", args=[content_type_id(Order), order.pk])

    response = owner_client.post(url, {"name": "Garden", "bill_percent": "10",
                                       "next": order_url(order)}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "At most 0 % is left for this milestone" in body and 'value="Garden"' in body
    assert not Milestone.objects.filter(name="Garden").exists()

    response = owner_client.post(url, {"name": "Garden", "next": order_url(order)})
    assert response.status_code == 302 and response["Location"].startswith(order_url(order))
    assert Milestone.objects.get(name="Garden").position == 4, "a new milestone goes last"


def test_the_dependency_picker_refuses_a_cycle_and_the_page_edits_the_milestone(owner_client):
    project = a_project()
    a, b = a_milestone(project, "Foundations"), a_milestone(project, "Walls")
    milestone_dependencies_set(milestone=b, depends_on=[a], by=None)
    page = reverse("streams:milestone_detail", args=[a.pk])

    response = owner_client.post(reverse("streams:milestone_dependencies", args=[a.pk]),
                                 {"depends_on": [b.pk]})
    assert response.status_code == 422
    assert "would make a loop: Foundations → Walls → Foundations" in response.content.decode()
    assert not a.depends_on.exists()

    html = owner_client.get(page).content.decode()
    assert "Waited for by" in html and "Walls" in html
    response = owner_client.post(page, {"name": "Foundations", "progress": "60",
                                        "budget": "1500.5"})
    assert response.status_code == 302
    saved = Milestone.objects.get(pk=a.pk)
    assert (saved.progress, saved.budget) == (60, Decimal("1500.50"))
