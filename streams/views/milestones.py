"""Milestones in the dashboard (see streams/urls_dashboard.py): the section of a programme's or
an order's page (`{% milestones_section object %}`: the schedule, its timeline drawn as SVG,
progress and budget totals, the transitions this user may run, an add form), and a
milestone's own page (edit, dependencies, transitions, delete, its timeline).

Every form posts normally and redirects back (the pages work without JavaScript); with HTMX
the answer is the part that changed: the section (`milestones-section`) or the milestone's
header (`milestone-header`). Refusals change nothing and say why: next to the field, or as a
message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from streams.errors import (
    MilestoneBillingRefused,
    MilestoneError,
    MilestoneTransitionForbidden,
    MilestoneTransitionRefused,
)
from streams.forms_milestones import DependenciesForm, MilestoneForm, TransitionForm
from streams.models import Milestone, MilestoneStatus
from streams.selectors_milestones import (
    BILLING_SUBJECTS,
    HUNDRED,
    billed_invoices,
    board_for_subject,
    dependencies_done,
    may_view_subject,
    milestone_actions,
    milestone_get,
    subject_get,
    waiting_for,
)
from streams.services.milestones import (
    ACTIONS,
    milestone_create,
    milestone_delete,
    milestone_dependencies_set,
    milestone_transition,
    milestone_update,
)
from streams.subjects import content_type_id, label_for_type, subject_label, subject_url
from tenants.accounts.views import staff_required

SECTION = "streams/milestones/_section.html"
DETAIL = "streams/milestones/detail.html"
LATE_STATES = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _next_url(request: HttpRequest, default: str) -> str:
    """Where a plain form post goes back to: the page it came from, if on this host."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return default


def _target(request: HttpRequest) -> str:
    return (request.htmx.target or "") if request.htmx else ""


def _form_error(form, exc: MilestoneError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _milestone_or_404(request: HttpRequest, pk: int) -> Milestone:
    """A milestone of this shop whose subject this user may see (else: not found)."""
    milestone = milestone_get(pk=pk)
    if milestone is None or not may_view_subject(request.user,
                                                 label_for_type(milestone.subject_type_id)):
        raise Http404(_("No such milestone (it may have been deleted)."))
    return milestone


def _subject_or_404(request: HttpRequest, subject_type: int, subject_id: int) -> Model:
    kind = label_for_type(subject_type)
    subject = subject_get(kind=kind, pk=subject_id) if kind else None
    if subject is None or not may_view_subject(request.user, kind):
        raise Http404(_("No such programme or order."))
    return subject


def _subject_page(milestone: Milestone) -> str:
    return subject_url(milestone.subject_type_id, milestone.subject_id) or reverse(
        "streams:milestone_detail", args=[milestone.pk])


def _action_label(action: str, milestone: Milestone) -> str:
    if action == "complete" and milestone.bill_percent and not milestone.billed_at:
        return _("Complete and bill %(share)s %%") % {
            "share": formats.number_format(milestone.bill_percent.normalize(), use_l10n=True)}
    return str(ACTIONS[action][0])


def _buttons(milestone: Milestone, user, url_prefix: str, *, deps_done: bool) -> list[dict]:
    actions = milestone_actions(milestone, user, deps_done=deps_done)
    return [{"name": action, "label": _action_label(action, milestone),
             "style": ACTIONS[action][1], "url": f"{url_prefix}{milestone.pk}/{action}/"}
            for action in actions]


# ---------------------------------------------------------------------------------------------
# The timeline, drawn server-side as SVG
# ---------------------------------------------------------------------------------------------
# Bars take the colours of the UI's status badges from classes (chart-bar-<status> in
# milestones.css): the Content-Security-Policy forbids style attributes.
CHART_LABEL_W, CHART_W, ROW_H, AXIS_H, BAR_H = 190, 570, 28, 30, 14


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int
    bars: list[dict]
    ticks: list[dict]
    links: list[dict]
    today_x: float | None
    today_anchor: str
    undated: int
    start: date
    end: date


TICK_MIN_GAP = 70  # px between two month labels ("Sep 2026"), so they never overlap


def _ticks(start: date, end: date, x_of) -> list[dict]:
    """First days of months across the chart: every 1, 2, 3, 6 or 12 of them, the fewest
    that keep the labels apart."""
    month_px = CHART_W * 30.44 / ((end - start).days + 1)
    step = next((n for n in (1, 2, 3, 6) if month_px * n >= TICK_MIN_GAP), 12)
    day = date(start.year, start.month, 1)
    ticks = []
    while day <= end:
        if day >= start and (day.month - 1) % step == 0:
            fmt = "Y" if step == 12 else "M Y"
            ticks.append({"x": x_of(day), "label": formats.date_format(day, fmt)})
        year, month = divmod(day.month, 12)
        day = date(day.year + year, month + 1, 1)
    return ticks


def timeline_chart(milestones: list[Milestone], today: date) -> Chart | None:
    """Bars from planned start to planned end (a milestone with one date is a one-day bar),
    the part done filled in, today's line, and a line from each dependency's end to the start
    of what waits for it. None when no milestone has a planned date."""
    dated = [m for m in milestones if m.planned_start or m.planned_end]
    if not dated:
        return None
    spans = {m.pk: (m.planned_start or m.planned_end, m.planned_end or m.planned_start)
             for m in dated}
    start = min(s for s, _e in spans.values())
    end = max(e for _s, e in spans.values())
    if start - timedelta(days=365) <= today <= end + timedelta(days=365):
        start, end = min(start, today), max(end, today)  # today's line, unless far away
    end = max(end, start + timedelta(days=14))
    days = (end - start).days + 1

    def x_of(day: date) -> float:
        return round(CHART_LABEL_W + (day - start).days / days * CHART_W, 1)

    bars, rows = [], {}
    for index, milestone in enumerate(dated):
        first, last = spans[milestone.pk]
        x, right = x_of(first), x_of(last + timedelta(days=1))
        width = max(right - x, 3.0)
        y = AXIS_H + index * ROW_H + (ROW_H - BAR_H) / 2
        rows[milestone.pk] = (x, x + width, y + BAR_H / 2)
        name = milestone.name if len(milestone.name) <= 26 else f"{milestone.name[:25]}…"
        bars.append({
            "x": x, "y": y, "w": round(width, 1), "h": BAR_H, "status": milestone.status,
            "done_w": round(width * milestone.progress / 100, 1),
            "label": name, "label_y": round(y + BAR_H - 3, 1),
            "cancelled": milestone.status == MilestoneStatus.CANCELLED,
            "title": _("%(name)s: %(start)s – %(end)s, %(state)s, %(progress)s %% done") % {
                "name": milestone.name, "state": milestone.get_status_display().lower(),
                "start": formats.date_format(first, "SHORT_DATE_FORMAT"),
                "end": formats.date_format(last, "SHORT_DATE_FORMAT"),
                "progress": milestone.progress},
        })
    links = []
    for milestone in dated:
        for dep in milestone.depends_on.all():
            if dep.pk in rows:
                x1, y1 = rows[dep.pk][1], rows[dep.pk][2]
                x2, y2 = rows[milestone.pk][0], rows[milestone.pk][2]
                links.append({"d": f"M{x1},{y1} H{round(x1 + 6, 1)} V{y2} H{x2}"})
    height = AXIS_H + len(dated) * ROW_H + 8
    today_x = x_of(today) if start <= today <= end else None
    # "Today" reads leftwards near the right edge, so it is never cut off.
    today_anchor = "end" if today_x is not None and today_x > CHART_LABEL_W + CHART_W - 40 \
        else "start"
    return Chart(width=CHART_LABEL_W + CHART_W + 10, height=height, left=CHART_LABEL_W,
                 right=CHART_LABEL_W + CHART_W, bars=bars, ticks=_ticks(start, end, x_of),
                 links=links, today_x=today_x, today_anchor=today_anchor,
                 undated=len(milestones) - len(dated),
                 start=start, end=end)


# ---------------------------------------------------------------------------------------------
# The section of a subject's page
# ---------------------------------------------------------------------------------------------
def _row(milestone: Milestone, board, user, url_prefix: str, today: date) -> dict:
    deps = list(milestone.depends_on.all())
    deps_done = dependencies_done(milestone)
    invoice = board.invoices.get(milestone.pk, {})
    owner = milestone.owner
    return {
        "pk": milestone.pk, "name": milestone.name, "url": f"{url_prefix}{milestone.pk}/",
        "status": milestone.status, "status_label": milestone.get_status_display(),
        "owner": owner.get_full_name() if owner else "",
        "planned_start": milestone.planned_start, "planned_end": milestone.planned_end,
        "actual_end": milestone.actual_end, "progress": milestone.progress,
        "budget": milestone.budget, "actual_cost": milestone.actual_cost,
        "over_budget": milestone.budget > 0 and milestone.actual_cost > milestone.budget,
        "late": milestone.status in LATE_STATES and milestone.planned_end is not None
        and milestone.planned_end < today,
        "depends_on": [dep.name for dep in deps],
        "waiting": [dep.name for dep in waiting_for(milestone)],
        "bill_percent": milestone.bill_percent,
        "cumulative": board.cumulative.get(milestone.pk),
        "billed_reference": milestone.billed_reference or invoice.get("reference", ""),
        "billed_url": invoice.get("url", ""),
        "buttons": _buttons(milestone, user, url_prefix, deps_done=deps_done),
    }


def milestones_section_context(request: HttpRequest, *, subject: Model, next_url: str,
                               form: MilestoneForm | None = None) -> dict:
    """Everything the section prints, in a constant number of queries: the milestones with
    their owners, their dependencies, and (an order's) the invoices they billed."""
    user = request.user
    subject_type_id = content_type_id(subject)
    kind = label_for_type(subject_type_id)
    billing = kind in BILLING_SUBJECTS
    board = board_for_subject(subject_type_id=subject_type_id, subject_id=subject.pk,
                              billing=billing)
    today = timezone.localdate()
    url_prefix = reverse("streams:milestone_detail", args=[0])[:-2]
    rows = [_row(m, board, user, url_prefix, today) for m in board.milestones]
    can_add = user.has_perm("streams.add_milestone")
    if form is None and can_add:
        form = MilestoneForm(billing=billing, auto_id="id_milestone_%s")
    return {
        "request": request, "rows": rows, "board": board, "billing": billing,
        "chart": timeline_chart(board.milestones, today),
        # Budgets are a programme's matter; an order's schedule rarely has any: no column then.
        "show_costs": bool(board.budget or board.actual_cost),
        "schedule_left": HUNDRED - board.schedule_total,
        "subject_label": subject_label(subject), "subject_type_id": subject_type_id,
        "subject_id": subject.pk, "next": next_url, "form": form, "can_add": can_add,
        "can_change": user.has_perm("streams.change_milestone"),
        "new_url": reverse("streams:milestone_new", args=[subject_type_id, subject.pk]),
        "cancel_form": TransitionForm(auto_id="id_ms_cancel_%s"),
        "oob_messages": False,
    }


def _section_response(request: HttpRequest, *, subject: Model, form=None,
                      status: int = 200) -> HttpResponse:
    context = milestones_section_context(
        request, subject=subject, form=form,
        next_url=_next_url(request, subject_url(content_type_id(subject), subject.pk)))
    context["oob_messages"] = True
    return HttpResponse(render_to_string(SECTION, context, request=request), status=status)


# ---------------------------------------------------------------------------------------------
# New milestone
# ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_required("streams.add_milestone")
def milestone_new(request: HttpRequest, subject_type: int, subject_id: int) -> HttpResponse:
    subject = _subject_or_404(request, subject_type, subject_id)
    billing = label_for_type(subject_type) in BILLING_SUBJECTS
    form = MilestoneForm(request.POST or None, billing=billing, auto_id="id_milestone_%s")
    back = _next_url(request, subject_url(subject_type, subject_id))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                milestone = milestone_create(subject=subject, by=request.user,
                                             data=form.service_data())
            except MilestoneError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Milestone “%(name)s” added.")
                                 % {"name": milestone.name})
                if _target(request) == "milestones-section":
                    return _section_response(request, subject=subject)
                return redirect(f"{back}#milestones-section" if back else
                                reverse("streams:milestone_detail", args=[milestone.pk]))
        status = 422
        if _target(request) == "milestones-section":
            return _section_response(request, subject=subject, form=form, status=422)
    return render(request, "streams/milestones/new.html", {
        "form": form, "subject_label": subject_label(subject), "back": back, "next": back,
        "billing": billing}, status=status)


# ---------------------------------------------------------------------------------------------
# A milestone's page: facts, edit, dependencies, transitions, delete
# ---------------------------------------------------------------------------------------------
def _detail_context(request: HttpRequest, milestone: Milestone, *, form=None,
                    dependencies_form=None, open_action: str = "") -> dict:
    user = request.user
    billing = label_for_type(milestone.subject_type_id) in BILLING_SUBJECTS
    url_prefix = reverse("streams:milestone_detail", args=[0])[:-2]
    can_change = user.has_perm("streams.change_milestone")
    editable = can_change and milestone.status != MilestoneStatus.CANCELLED
    deps_done = dependencies_done(milestone)
    dependents = list(milestone.dependents.order_by("position", "pk").only(
        "pk", "name", "status"))
    if form is None and editable:
        form = MilestoneForm(billing=billing, milestone=milestone, auto_id="id_milestone_%s")
    if dependencies_form is None and editable and milestone.status != MilestoneStatus.COMPLETED:
        dependencies_form = DependenciesForm(milestone=milestone, auto_id="id_deps_%s")
    invoice = billed_invoices([milestone]).get(milestone.pk, {}) if milestone.billed_at else {}
    return {
        "milestone": milestone, "form": form if editable else None,
        "dependencies_form": dependencies_form
        if editable and milestone.status != MilestoneStatus.COMPLETED else None,
        "buttons": _buttons(milestone, user, url_prefix, deps_done=deps_done),
        "waiting": waiting_for(milestone),
        "dependents": [{"name": m.name, "url": f"{url_prefix}{m.pk}/", "status": m.status,
                        "status_label": m.get_status_display()} for m in dependents],
        "subject_url": _subject_page(milestone), "billing": billing,
        "billed_url": invoice.get("url", ""),
        "late": milestone.status in LATE_STATES and milestone.planned_end is not None
        and milestone.planned_end < timezone.localdate(),
        "can_delete": user.has_perm("streams.delete_milestone")
        and milestone.status == MilestoneStatus.PLANNED and not dependents,
        "cancel_form": TransitionForm(auto_id="id_ms_cancel_%s"),
        "delay_form": TransitionForm(auto_id="id_ms_delay_%s"),
        "open_action": open_action,
    }


@require_http_methods(["GET", "POST"])
@staff_required("streams.view_milestone")
def milestone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The milestone's page; POST saves the edit form."""
    milestone = _milestone_or_404(request, pk)
    if request.method == "GET":
        return render(request, DETAIL, _detail_context(request, milestone))
    if not request.user.has_perm("streams.change_milestone"):
        raise PermissionDenied(_("Your role does not allow changing milestones."))
    billing = label_for_type(milestone.subject_type_id) in BILLING_SUBJECTS
    form = MilestoneForm(request.POST, billing=billing, milestone=milestone,
                         auto_id="id_milestone_%s")
    if form.is_valid():
        try:
            milestone_update(milestone=milestone, by=request.user, data=form.service_data())
        except MilestoneError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("streams:milestone_detail", pk=pk)
    return render(request, DETAIL, _detail_context(request, milestone, form=form), status=422)


@require_POST
@staff_required("streams.change_milestone")
def milestone_dependencies(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone_or_404(request, pk)
    form = DependenciesForm(request.POST, milestone=milestone, auto_id="id_deps_%s")
    if form.is_valid():
        try:
            milestone_dependencies_set(milestone=milestone, by=request.user,
                                       depends_on=list(form.cleaned_data["depends_on"]))
        except MilestoneError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Dependencies saved."))
            return redirect("streams:milestone_detail", pk=pk)
    milestone = _milestone_or_404(request, pk)
    return render(request, DETAIL, _detail_context(request, milestone, dependencies_form=form),
                  status=422)


@require_POST
@staff_required("streams.delete_milestone")
def milestone_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone_or_404(request, pk)
    try:
        milestone_delete(milestone=milestone, by=request.user)
    except MilestoneError as exc:
        messages.error(request, exc.message)
        return render(request, DETAIL, _detail_context(request, milestone), status=409)
    messages.success(request, _("Milestone “%(name)s” deleted.") % {"name": milestone.name})
    return redirect(_subject_page(milestone))


@require_POST
@staff_required("streams.view_milestone")
def milestone_transition_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One button (the service checks the state, the dependencies and the role; a refusal
    changes nothing and says why). From the section, or from the milestone's page."""
    if action not in ACTIONS:
        raise Http404
    milestone = _milestone_or_404(request, pk)
    form = TransitionForm(request.POST)
    form.is_valid()
    status = 200
    try:
        milestone = milestone_transition(milestone=milestone, action=action, by=request.user,
                                         message=form.cleaned_data.get("message", ""))
    except MilestoneTransitionForbidden as exc:
        messages.error(request, exc.message)
        status = 403
    except (MilestoneTransitionRefused, MilestoneBillingRefused) as exc:
        messages.error(request, exc.message)
        status = 409
    except MilestoneError as exc:
        messages.error(request, exc.message)
        status = 422
    else:
        messages.success(request, _("%(name)s: %(action)s — now %(state)s.") % {
            "name": milestone.name, "action": ACTIONS[action][0],
            "state": milestone.get_status_display().lower()})
        if milestone.billed_reference:
            messages.info(request, _("Invoice %(number)s issued for this instalment.")
                          % {"number": milestone.billed_reference})
    target = _target(request)
    if target and status == 200 and (target == "milestone-header" or milestone.billed_reference):
        # The whole page changed (the edit form's progress and dates; an order's invoices
        # card once the instalment is issued): reload it, the message waits in the session.
        return HttpResponseClientRefresh()
    if target == "milestones-section":
        subject = _subject_or_404(request, milestone.subject_type_id, milestone.subject_id)
        # HTMX swaps 2xx and 422 only: every refusal answers 422 with the reason shown.
        return _section_response(request, subject=subject, status=200 if status == 200 else 422)
    milestone = _milestone_or_404(request, pk)
    if target == "milestone-header":  # a refusal: the header says why
        context = _detail_context(request, milestone,
                                  open_action=action if status == 422 else "")
        return HttpResponse(render_to_string(f"{DETAIL}#milestone-header", context,
                                             request=request), status=422)
    if status == 200:
        return redirect(_next_url(request, reverse("streams:milestone_detail", args=[pk])))
    return render(request, DETAIL, _detail_context(request, milestone,
                                                   open_action=action if status == 422 else ""),
                  status=status)


urlpatterns: list = [
    path("milestones/new/<int:subject_type>/<int:subject_id>/", milestone_new,
         name="milestone_new"),
    path("milestones/<int:pk>/", milestone_detail, name="milestone_detail"),
    path("milestones/<int:pk>/dependencies/", milestone_dependencies,
         name="milestone_dependencies"),
    path("milestones/<int:pk>/delete/", milestone_delete_view, name="milestone_delete"),
    path("milestones/<int:pk>/<str:action>/", milestone_transition_view,
         name="milestone_transition"),
]
