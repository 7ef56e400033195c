"""Work: tasks, tickets and "My work" (see streams/urls_dashboard.py), and the customer's
tickets in their storefront account (`account_urlpatterns`, under /account/tickets/).

Every form posts normally and redirects (the page works without JavaScript); with HTMX the
answer is the part of the page that changed: the tasks section of a project's page
(`tasks-section`), a task's or ticket's header, a ticket's thread or facts, a list's table.
Refusals change nothing and say why: next to the field, or as a message.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from streams.errors import WorkConflict, WorkError, WorkForbidden
from streams.forms_work import (
    DUE_FILTERS,
    TASK_STATUS_FILTERS,
    TICKET_STATUS_FILTERS,
    AssignForm,
    CustomerTicketForm,
    MessageForm,
    PriorityForm,
    TaskFilterForm,
    TaskForm,
    TaskStatusForm,
    TicketFilterForm,
)
from streams.models import Priority, Task, TaskStatus, Ticket, TicketStatus
from streams.selectors_work import (
    OPEN_TASK_STATES,
    assignable_staff,
    milestones_for_subject,
    my_work_for,
    task_get,
    tasks_for_list,
    tasks_for_subject,
    ticket_get,
    ticket_get_for_customer,
    ticket_thread,
    tickets_for_customer,
    tickets_for_list,
    today,
)
from streams.services.work import (
    task_assign,
    task_create,
    task_delete,
    task_set_status,
    task_subject,
    task_update,
    ticket_assign,
    ticket_close,
    ticket_customer_reply,
    ticket_note,
    ticket_raise,
    ticket_reopen,
    ticket_reply,
    ticket_set_priority,
)
from streams.subjects import (
    content_type_id,
    customer_subject_for,
    customer_subject_kinds,
    customer_subject_lookup,
    subject_url,
    tracking_for_type,
)
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

SECTION = "tasks-section"


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


def _form_error(form, exc: WorkError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _refusal_status(exc: WorkError) -> int:
    if isinstance(exc, WorkForbidden):
        return 403
    return 409 if isinstance(exc, WorkConflict) else 422


def _swappable(request: HttpRequest, status: int) -> int:
    """htmx swaps 2xx and 422 answers only (base.html): a conflict shown in place is a 422."""
    return 422 if request.htmx and status == 409 else status


def _first_error(form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("Check the form.")


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _query_without(request: HttpRequest, **changes) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def _chips(request: HttpRequest, choices, current: str) -> list[dict]:
    return [{"label": label, "current": value == (current or ""),
             "url": _query_without(request, status=value or None)} for value, label in choices]


def _sort_headers(request: HttpRequest, columns, current: str) -> list[dict]:
    headers = []
    for key, label in columns:
        ascending, descending = current == key, current == f"-{key}"
        headers.append({
            "label": label,
            "url": _query_without(request, sort=f"-{key}" if ascending else key) if key else "",
            "indicator": "▲" if ascending else "▼" if descending else "",
            "aria_sort": "ascending" if ascending else "descending" if descending else "",
        })
    return headers


def _milestones_or_none(subject_type_id: int, subject_id: int):
    """The subject's milestones for a task form, or None when it has none (no empty field)."""
    milestones = milestones_for_subject(subject_type_id=subject_type_id, subject_id=subject_id)
    return milestones if milestones.exists() else None


def _staff_choices(staff) -> list[dict]:
    return [{"pk": user.pk, "name": user.get_full_name()} for user in staff]


def _assignee_filter_label(value, staff: list[dict]) -> str:
    if value == "me":
        return _("Me")
    if value == "none":
        return _("Nobody")
    for person in staff:
        if str(person["pk"]) == str(value):
            return person["name"]
    return ""


# ---------------------------------------------------------------------------------------------
# The tasks section of a project's (any object's) page: {% tasks_section project %}
# ---------------------------------------------------------------------------------------------
def task_row(task: Task, day: date, labels: dict, priorities: dict) -> dict:
    """What a task's line shows, as plain values (the template only prints)."""
    is_open = task.status in OPEN_TASK_STATES
    return {
        "task": task, "pk": task.pk, "title": task.title, "status": task.status,
        "status_label": labels.get(task.status, task.status),
        "priority": task.priority, "priority_label": priorities.get(task.priority, ""),
        "due_date": task.due_date,
        "overdue": bool(is_open and task.due_date and task.due_date < day),
        "assignee_id": task.assignee_id,
        "assignee": task.assignee.get_full_name() if task.assignee_id else "",
        "url": reverse("streams:task_detail", args=[task.pk]),
        "subject_label": task.subject_label,
        "subject_url": subject_url(task.subject_type_id, task.subject_id),
    }


def tasks_section_context(request: HttpRequest, *, subject_type_id: int, subject_id: int,
                          next_url: str, form: TaskForm | None = None) -> dict:
    """Three queries: the tasks, the staff to assign, the subject's milestones."""
    user = request.user
    can_add = user.has_perm("streams.add_task")
    can_change = user.has_perm("streams.change_task")
    day = today()
    labels, priorities = dict(TaskStatus.choices), dict(Priority.choices)
    rows = [task_row(task, day, labels, priorities)
            for task in tasks_for_subject(subject_type_id=subject_type_id,
                                          subject_id=subject_id)]
    staff = _staff_choices(assignable_staff()) if (can_add or can_change) else []
    if form is None and can_add:
        form = TaskForm(milestones=_milestones_or_none(subject_type_id, subject_id))
    return {
        "rows": rows, "staff": staff, "statuses": TaskStatus.choices, "form": form,
        "can_add": can_add, "can_change": can_change,
        "can_delete": user.has_perm("streams.delete_task"),
        "subject_type_id": subject_type_id, "subject_id": subject_id, "next": next_url,
        "open_count": sum(1 for row in rows if row["status"] in OPEN_TASK_STATES),
        "list_url": f"{reverse('streams:task_list')}?subject={subject_type_id}-{subject_id}",
        "request": request,
    }


def _section_response(request: HttpRequest, *, subject_type_id: int, subject_id: int,
                      form: TaskForm | None = None, status: int = 200) -> HttpResponse:
    context = tasks_section_context(request, subject_type_id=subject_type_id,
                                    subject_id=subject_id, form=form,
                                    next_url=_next_url(request, request.path))
    context["oob_messages"] = True
    return HttpResponse(render_to_string("streams/work/_tasks_section.html", context,
                                         request=request), status=status)


# ---------------------------------------------------------------------------------------------
# Tasks: list, new, detail (edit), status, assign, delete
# ---------------------------------------------------------------------------------------------
TASK_COLUMNS = [("title", gettext_lazy("Task")), (None, gettext_lazy("About")),
                (None, gettext_lazy("Assignee")), ("due", gettext_lazy("Due")),
                ("priority", gettext_lazy("Priority")), (None, gettext_lazy("Status"))]


def _subject_filter(raw: str) -> tuple[int, int] | None:
    """"12-34" (content type - id) from the URL; anything else: no filter."""
    first, _sep, second = (raw or "").partition("-")
    if first.isdigit() and second.isdigit():
        return int(first), int(second)
    return None


@require_GET
@staff_required("streams.view_task")
def task_list(request: HttpRequest) -> HttpResponse:
    values = TaskFilterForm(request.GET).values()
    sort = values.get("sort") or "due"
    subject = _subject_filter(request.GET.get("subject", ""))
    qs = tasks_for_list(status=values.get("status") or "", assignee=values.get("assignee"),
                        me=request.user, priority=values.get("priority"),
                        due=values.get("due") or "", q=(values.get("q") or "").strip(),
                        subject=subject, sort=sort)
    page = paginate(qs, page=values.get("page"), query=request.GET)
    day = today()
    labels, priorities = dict(TaskStatus.choices), dict(Priority.choices)
    staff = _staff_choices(assignable_staff())
    filtered = any(values.get(k) for k in ("q", "status", "assignee", "priority", "due")) or (
        subject is not None)
    context = {
        "page": page, "rows": [task_row(t, day, labels, priorities) for t in page.items],
        "values": values, "sort": sort, "status": values.get("status") or "",
        "chips": _chips(request, TASK_STATUS_FILTERS, values.get("status") or ""),
        "headers": _sort_headers(request, TASK_COLUMNS, sort), "staff": staff,
        "due_choices": DUE_FILTERS, "priorities": Priority.choices, "filtered": filtered,
        "subject": request.GET.get("subject", "") if subject else "",
        "subject_label": page.items[0].subject_label if subject and page.items else "",
        "clear_subject_url": _query_without(request, subject=None),
    }
    template = "streams/work/task_list.html"
    if _target(request) == "task-table":
        template += "#task-table"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@staff_required("streams.add_task")
def task_new(request: HttpRequest) -> HttpResponse:
    """A task on a subject named by its content type and id (hidden fields of the project
    page's form, or the query string of this page)."""
    source = request.POST if request.method == "POST" else request.GET
    raw_type, raw_id = source.get("subject_type", ""), source.get("subject_id", "")
    if not (raw_type.isdigit() and raw_id.isdigit()):
        raise Http404(_("Say what the task is about: open this page from a project or "
                        "an order."))
    subject_type_id, subject_id = int(raw_type), int(raw_id)
    try:
        subject = task_subject(subject_type_id=subject_type_id, subject_id=subject_id)
    except WorkError as exc:
        raise Http404(exc.message) from exc
    in_section = _target(request) == SECTION
    form = TaskForm(request.POST if request.method == "POST" else None,
                    milestones=_milestones_or_none(subject_type_id, subject_id))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = task_create(subject=subject, title=data["title"], by=request.user,
                                   description=data["description"],
                                   assignee=data.get("assignee"), due_date=data["due_date"],
                                   priority=data["priority"], milestone=data.get("milestone"))
            except WorkError as exc:
                _form_error(form, exc)
                status = _refusal_status(exc)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
                if in_section:
                    return _section_response(request, subject_type_id=subject_type_id,
                                             subject_id=subject_id)
                return redirect(_next_url(request, reverse("streams:task_detail",
                                                           args=[task.pk])))
        else:
            status = 422
        if in_section:
            return _section_response(request, subject_type_id=subject_type_id,
                                     subject_id=subject_id, form=form, status=status)
    context = {"form": form, "subject": subject, "subject_type_id": subject_type_id,
               "subject_id": subject_id, "subject_label": str(subject),
               "subject_url": subject_url(subject_type_id, subject_id),
               "next": _next_url(request, "")}
    tracking = tracking_for_type(subject_type_id)
    if tracking is not None:
        context["subject_label"] = tracking.label(subject)
    return render(request, "streams/work/task_new.html", context, status=status)


def _task_or_404(pk: int) -> Task:
    task = task_get(pk=pk)
    if task is None:
        raise Http404(_("No such task: it may have been deleted."))
    return task


def _task_context(request: HttpRequest, task: Task, *, form: TaskForm | None = None) -> dict:
    user = request.user
    if form is None and user.has_perm("streams.change_task"):
        form = TaskForm(initial={"title": task.title, "description": task.description,
                                 "due_date": task.due_date, "priority": task.priority,
                                 "milestone": task.milestone_id},
                        milestones=_milestones_or_none(task.subject_type_id, task.subject_id),
                        with_assignee=False)
    day = today()
    return {
        "task": task,
        "row": task_row(task, day, dict(TaskStatus.choices), dict(Priority.choices)),
        "form": form, "statuses": [c for c in TaskStatus.choices if c[0] != task.status],
        "staff": _staff_choices(assignable_staff()) if user.has_perm("streams.change_task")
        else [],
    }


@require_http_methods(["GET", "POST"])
@staff_required("streams.view_task")
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The task's page; posting its form edits it (title, description, due date, priority,
    milestone)."""
    task = _task_or_404(pk)
    form = None
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("streams.change_task"):
            raise PermissionDenied(_("Your role does not allow this."))
        form = TaskForm(request.POST,
                        milestones=_milestones_or_none(task.subject_type_id, task.subject_id),
                        with_assignee=False)
        if form.is_valid():
            try:
                task_update(task=task, by=request.user, data=form.edit_data())
            except WorkError as exc:
                _form_error(form, exc)
                status = _refusal_status(exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect("streams:task_detail", pk=task.pk)
        else:
            status = 422
    return render(request, "streams/work/task_detail.html",
                  _task_context(request, task, form=form), status=status)


def _task_action_answer(request: HttpRequest, task: Task, *, status: int) -> HttpResponse:
    """After a status change or an assignment: the project's section, the task's header, or
    (no JavaScript) back to the page the form was on."""
    target = _target(request)
    status = _swappable(request, status)
    if target == SECTION:
        return _section_response(request, subject_type_id=task.subject_type_id,
                                 subject_id=task.subject_id, status=status)
    if target == "task-header":
        task = _task_or_404(task.pk)
        return render(request, "streams/work/task_detail.html#task-header",
                      _task_context(request, task), status=status)
    return redirect(_next_url(request, reverse("streams:task_detail", args=[task.pk])))


@require_POST
@staff_required("streams.change_task")
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(pk)
    form = TaskStatusForm(request.POST)
    status = 200
    if not form.is_valid():
        messages.error(request, _first_error(form))
        status = 422
    else:
        try:
            task = task_set_status(task=task, status=form.cleaned_data["status"],
                                   by=request.user)
        except WorkError as exc:
            messages.error(request, exc.message)
            status = _refusal_status(exc)
        else:
            messages.success(request, _("“%(title)s” is now %(status)s.") % {
                "title": task.title, "status": task.get_status_display().lower()})
    return _task_action_answer(request, task, status=status)


@require_POST
@staff_required("streams.change_task")
def task_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(pk)
    form = AssignForm(request.POST)
    status = 200
    if not form.is_valid():
        messages.error(request, _first_error(form))
        status = 422
    else:
        assignee = form.cleaned_data["assignee"]
        try:
            task = task_assign(task=task, assignee=assignee, by=request.user)
        except WorkError as exc:
            messages.error(request, exc.message)
            status = _refusal_status(exc)
        else:
            if assignee is None:
                messages.success(request, _("“%(title)s” is no longer assigned.")
                                 % {"title": task.title})
            else:
                messages.success(request, _("“%(title)s” is assigned to %(name)s.") % {
                    "title": task.title, "name": assignee.get_full_name()})
    return _task_action_answer(request, task, status=status)


@require_POST
@staff_required("streams.delete_task")
def task_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(pk)
    subject_type_id, subject_id, title = task.subject_type_id, task.subject_id, task.title
    try:
        task_delete(task=task, by=request.user)
    except WorkError as exc:
        messages.error(request, exc.message)
        return redirect("streams:task_detail", pk=pk)
    messages.success(request, _("Task “%(title)s” deleted.") % {"title": title})
    if _target(request) == SECTION:
        return _section_response(request, subject_type_id=subject_type_id,
                                 subject_id=subject_id)
    default = subject_url(subject_type_id, subject_id) or reverse("streams:task_list")
    next_url = _next_url(request, default)
    if next_url == reverse("streams:task_detail", args=[pk]):
        next_url = default  # the task's own page is gone
    return redirect(next_url)


# ---------------------------------------------------------------------------------------------
# Tickets (staff): list, detail with the thread, reply, note, assign, priority, close, reopen
# ---------------------------------------------------------------------------------------------
TICKET_COLUMNS = [(None, gettext_lazy("Ticket")), (None, gettext_lazy("Customer")),
                  (None, gettext_lazy("Assignee")), ("priority", gettext_lazy("Priority")),
                  ("updated", gettext_lazy("Last change")), (None, gettext_lazy("Status"))]


@require_GET
@staff_required("streams.view_ticket")
def ticket_list(request: HttpRequest) -> HttpResponse:
    values = TicketFilterForm(request.GET).values()
    sort = values.get("sort") or "-updated"
    qs = tickets_for_list(status=values.get("status") or "", assignee=values.get("assignee"),
                          me=request.user, priority=values.get("priority"),
                          q=(values.get("q") or "").strip(), sort=sort)
    page = paginate(qs, page=values.get("page"), query=request.GET)
    labels, priorities = dict(TicketStatus.choices), dict(Priority.choices)
    url_prefix = reverse("streams:ticket_detail", args=[0])[:-2]
    rows = [{"pk": t.pk, "title": t.title, "url": f"{url_prefix}{t.pk}/",
             "subject_label": t.subject_label,
             "subject_url": subject_url(t.subject_type_id, t.subject_id),
             "customer": t.raised_by_name, "status": t.status,
             "status_label": labels.get(t.status, t.status),
             "priority": t.priority, "priority_label": priorities.get(t.priority, ""),
             "assignee": t.assignee.get_full_name() if t.assignee_id else "",
             "updated_at": t.updated_at} for t in page.items]
    context = {
        "page": page, "rows": rows, "values": values, "sort": sort,
        "status": values.get("status") or "",
        "chips": _chips(request, TICKET_STATUS_FILTERS, values.get("status") or ""),
        "headers": _sort_headers(request, TICKET_COLUMNS, sort),
        "staff": _staff_choices(assignable_staff()), "priorities": Priority.choices,
        "filtered": any(values.get(k) for k in ("q", "status", "assignee", "priority")),
    }
    template = "streams/work/ticket_list.html"
    if _target(request) == "ticket-table":
        template += "#ticket-table"
    return render(request, template, context)


def _ticket_or_404(pk: int) -> Ticket:
    ticket = ticket_get(pk=pk)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _ticket_context(request: HttpRequest, ticket: Ticket, **forms) -> dict:
    can_change = request.user.has_perm("streams.change_ticket")
    return {
        "ticket": ticket, "thread": list(ticket_thread(ticket, customer=False)),
        "subject_url": subject_url(ticket.subject_type_id, ticket.subject_id),
        "subject_type_id": content_type_id(Ticket), "subject_id": ticket.pk,
        "can_change": can_change,
        "staff": _staff_choices(assignable_staff()) if can_change else [],
        "priorities": Priority.choices,
        "reply_form": forms.get("reply_form") or MessageForm(prefix="reply"),
        "note_form": forms.get("note_form") or MessageForm(prefix="note"),
        "open_form": forms.get("open_form", ""),
    }


@require_GET
@staff_required("streams.view_ticket")
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    return render(request, "streams/work/ticket_detail.html", _ticket_context(request, ticket))


def _ticket_answer(request: HttpRequest, ticket: Ticket, *, part: str, status: int = 200,
                   **forms) -> HttpResponse:
    """HTMX: the part that changed (the thread also refreshes the header: the status moved);
    otherwise back to the ticket's page (or the page itself with the form's errors)."""
    status = _swappable(request, status)
    if request.htmx:
        ticket = _ticket_or_404(ticket.pk)
        context = _ticket_context(request, ticket, **forms)
        template = "streams/work/ticket_detail.html"
        html = render_to_string(f"{template}#{part}", context, request=request)
        if part == "ticket-thread":
            html += render_to_string(f"{template}#ticket-header", {**context, "oob": True},
                                     request=request)
        return HttpResponse(html, status=status)
    if status != 200:  # the page again, with the refusal (next to the field, or a message)
        return render(request, "streams/work/ticket_detail.html",
                      _ticket_context(request, _ticket_or_404(ticket.pk), **forms),
                      status=status)
    return redirect("streams:ticket_detail", pk=ticket.pk)


def _ticket_message(request: HttpRequest, pk: int, *, internal: bool) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    form = MessageForm(request.POST, prefix="note" if internal else "reply")
    status = 200
    if form.is_valid():
        try:
            if internal:
                ticket_note(ticket=ticket, body=form.cleaned_data["body"], by=request.user)
            else:
                ticket_reply(ticket=ticket, body=form.cleaned_data["body"], by=request.user,
                             base_url=request.build_absolute_uri("/")[:-1])
        except WorkError as exc:
            _form_error(form, exc)
            status = _refusal_status(exc)
        else:
            messages.success(request, _("Note added.") if internal
                             else _("Reply sent: the customer is emailed."))
            return _ticket_answer(request, ticket, part="ticket-thread")
    else:
        status = 422
    key = "note_form" if internal else "reply_form"
    return _ticket_answer(request, ticket, part="ticket-thread", status=status,
                          **{key: form, "open_form": "note" if internal else "reply"})


@require_POST
@staff_required("streams.change_ticket")
def ticket_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_message(request, pk, internal=False)


@require_POST
@staff_required("streams.change_ticket")
def ticket_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_message(request, pk, internal=True)


@require_POST
@staff_required("streams.change_ticket")
def ticket_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    form = AssignForm(request.POST)
    status = 200
    if not form.is_valid():
        messages.error(request, _first_error(form))
        status = 422
    else:
        assignee = form.cleaned_data["assignee"]
        try:
            ticket_assign(ticket=ticket, assignee=assignee, by=request.user)
        except WorkError as exc:
            messages.error(request, exc.message)
            status = _refusal_status(exc)
        else:
            messages.success(request, _("Ticket assigned to %(name)s.")
                             % {"name": assignee.get_full_name()} if assignee
                             else _("The ticket is no longer assigned."))
    return _ticket_answer(request, ticket, part="ticket-facts", status=status)


@require_POST
@staff_required("streams.change_ticket")
def ticket_priority_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    form = PriorityForm(request.POST)
    status = 200
    if not form.is_valid():
        messages.error(request, _("Choose a priority: low, normal, high or urgent."))
        status = 422
    else:
        try:
            ticket = ticket_set_priority(ticket=ticket, priority=form.cleaned_data["priority"],
                                         by=request.user)
        except WorkError as exc:
            messages.error(request, exc.message)
            status = _refusal_status(exc)
        else:
            messages.success(request, _("Priority set to %(priority)s.")
                             % {"priority": ticket.get_priority_display().lower()})
    return _ticket_answer(request, ticket, part="ticket-facts", status=status)


def _ticket_state(request: HttpRequest, pk: int, *, close: bool) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    status = 200
    try:
        if close:
            ticket_close(ticket=ticket, by=request.user)
        else:
            ticket_reopen(ticket=ticket, by=request.user)
    except WorkError as exc:
        messages.error(request, exc.message)
        status = _refusal_status(exc)
    else:
        messages.success(request, _("Ticket closed.") if close else _("Ticket reopened."))
    return _ticket_answer(request, ticket, part="ticket-header", status=status)


@require_POST
@staff_required("streams.change_ticket")
def ticket_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_state(request, pk, close=True)


@require_POST
@staff_required("streams.change_ticket")
def ticket_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_state(request, pk, close=False)


# ---------------------------------------------------------------------------------------------
# My work
# ---------------------------------------------------------------------------------------------
def _inbox_url() -> str:
    """The social area's inbox, once it exists (this page must not depend on it)."""
    try:
        return reverse("streams:inbox")
    except NoReverseMatch:
        return ""


@require_GET
@staff_required()
def my_work(request: HttpRequest) -> HttpResponse:
    work = my_work_for(request.user)
    day = today()
    labels, priorities = dict(TaskStatus.choices), dict(Priority.choices)
    ticket_labels = dict(TicketStatus.choices)
    ticket_prefix = reverse("streams:ticket_detail", args=[0])[:-2]
    followed = []
    for item in work.followed:
        follow, event = item.follow, item.event
        tracking = tracking_for_type(follow.subject_type_id)
        label = event.subject_label if event is not None else ""
        if not label:
            kind = str(tracking.name) if tracking is not None and tracking.name else _("Item")
            label = f"{kind} #{follow.subject_id}"
        verb = ""
        if event is not None:
            verbs = tracking.verbs if tracking is not None else {}
            verb = str(verbs.get(event.verb, "")) or event.verb.replace("_", " ").capitalize()
        followed.append({"label": label, "url": subject_url(follow.subject_type_id,
                                                           follow.subject_id),
                         "event": event, "verb": verb, "level": follow.get_level_display()})
    notifications = []
    for notification in work.notifications:
        event = notification.event
        tracking = tracking_for_type(event.subject_type_id)
        verbs = tracking.verbs if tracking is not None else {}
        notifications.append({
            "label": event.subject_label, "url": subject_url(event.subject_type_id,
                                                             event.subject_id),
            "verb": str(verbs.get(event.verb, "")) or event.verb.replace("_", " ").capitalize(),
            "who": event.actor_name, "at": event.at,
            "reason": notification.get_reason_display()})
    context = {
        "tasks": [task_row(task, day, labels, priorities) for task in work.tasks],
        "tickets": [{"pk": t.pk, "title": t.title, "url": f"{ticket_prefix}{t.pk}/",
                     "subject_label": t.subject_label, "customer": t.raised_by_name,
                     "status": t.status, "status_label": ticket_labels.get(t.status, ""),
                     "priority_label": priorities.get(t.priority, ""),
                     "updated_at": t.updated_at} for t in work.tickets],
        "milestones": [{"milestone": m, "subject_label": m.subject_label,
                        "url": subject_url(m.subject_type_id, m.subject_id),
                        "late": bool(m.planned_end and m.planned_end < day)}
                       for m in work.milestones],
        "followed": followed, "notifications": notifications, "unread": work.unread,
        "inbox_url": _inbox_url(),
        "tasks_url": f"{reverse('streams:task_list')}?assignee=me&status=open",
        "tickets_url": f"{reverse('streams:ticket_list')}?assignee=me&status=pending",
    }
    return render(request, "streams/work/my_work.html", context)


# ---------------------------------------------------------------------------------------------
# The customer's tickets (storefront account, /account/tickets/)
# ---------------------------------------------------------------------------------------------
def customer_only(view):
    """Account pages: a signed-in customer of this shop (staff work in the dashboard)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("sales_account:login"))
        if user.is_staff:
            raise PermissionDenied(_("This page is for the shop's customers."))
        return view(request, *args, **kwargs)

    return wrapper


def _about_choices(user) -> list[tuple[str, str]]:
    choices = []
    for kind in customer_subject_kinds():
        if kind.choices is not None:
            choices += [(f"{kind.name}:{reference}", label)
                        for reference, label in kind.choices(user)]
    return choices


def _about_from_query(request: HttpRequest) -> str:
    """?order=C-2026-00042 (any registered kind's name) as "order:C-2026-00042"."""
    for kind in customer_subject_kinds():
        reference = request.GET.get(kind.name, "").strip()
        if reference:
            return f"{kind.name}:{reference}"
    return ""


def _subject_for_customer(user, about: str):
    name, _sep, reference = (about or "").partition(":")
    return customer_subject_lookup(user, name=name, reference=reference.strip())


def _customer_label(subject) -> str:
    kind = customer_subject_for(subject)
    return str(kind.label(subject)) if kind is not None else str(subject)


@require_GET
@customer_only
def customer_tickets(request: HttpRequest) -> HttpResponse:
    page = paginate(tickets_for_customer(request.user), page=_page_number(request),
                    query=request.GET)
    context = {"page": page, "section": "tickets",
               "labels": dict(TicketStatus.choices)}
    return render(request, "streams/work/account/tickets.html", context)


@require_http_methods(["GET", "POST"])
@customer_only
def customer_ticket_new(request: HttpRequest) -> HttpResponse:
    """Opened from an order's page (?order=<number>): about that order, which must be the
    customer's (404 otherwise, whatever number is typed). Opened from the tickets list: the
    customer picks one of their orders."""
    user = request.user
    if request.method == "POST":
        fixed = request.POST.get("about", "") if request.POST.get("fixed") else ""
    else:
        fixed = _about_from_query(request)
    subject = None
    if fixed:
        subject = _subject_for_customer(user, fixed)
        if subject is None:
            raise Http404(_("No such order in your account."))
    form = CustomerTicketForm(request.POST if request.method == "POST" else None,
                              initial={"about": fixed})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if subject is None and data["about"]:
            # Typed or tampered: another customer's order is a 404, like its page.
            subject = _subject_for_customer(user, data["about"])
            if subject is None:
                raise Http404(_("No such order in your account."))
        if subject is None:
            form.add_error("about", _("Choose what your question is about."))
        else:
            try:
                ticket = ticket_raise(user=user, subject=subject, title=data["title"],
                                      body=data["body"])
            except WorkError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Thank you: your question is sent. We answer here "
                                            "and by email."))
                return redirect("streams_account:detail", pk=ticket.pk)
    context = {"form": form, "fixed": fixed, "section": "tickets",
               "subject_label": _customer_label(subject) if subject is not None else "",
               "choices": [] if fixed else _about_choices(user)}
    return render(request, "streams/work/account/ticket_new.html", context,
                  status=422 if form.errors else 200)


def _customer_ticket_or_404(request: HttpRequest, pk: int) -> Ticket:
    ticket = ticket_get_for_customer(user=request.user, pk=pk)
    if ticket is None:
        raise Http404(_("No such ticket in your account."))
    return ticket


def _customer_ticket_page(request: HttpRequest, ticket: Ticket, *, form=None,
                          status: int = 200) -> HttpResponse:
    subject = ticket.subject
    kind = customer_subject_for(subject) if subject is not None else None
    context = {
        "ticket": ticket, "thread": list(ticket_thread(ticket, customer=True)),
        "form": form or MessageForm(), "section": "tickets",
        "subject_url": kind.url(subject) if kind is not None and kind.url else "",
        "subject_label": kind.label(subject) if kind is not None else ticket.subject_label,
    }
    return render(request, "streams/work/account/ticket_detail.html", context, status=status)


@require_GET
@customer_only
def customer_ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _customer_ticket_page(request, _customer_ticket_or_404(request, pk))


@require_POST
@customer_only
def customer_ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _customer_ticket_or_404(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            ticket_customer_reply(ticket=ticket, body=form.cleaned_data["body"],
                                  user=request.user)
        except WorkError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Your message is sent."))
            return redirect("streams_account:detail", pk=ticket.pk)
    return _customer_ticket_page(request, ticket, form=form, status=422)


urlpatterns: list = [
    path("my-work/", my_work, name="my_work"),
    path("tasks/", task_list, name="task_list"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:pk>/", task_detail, name="task_detail"),
    path("tasks/<int:pk>/status/", task_status, name="task_status"),
    path("tasks/<int:pk>/assign/", task_assign_view, name="task_assign"),
    path("tasks/<int:pk>/delete/", task_delete_view, name="task_delete"),
    path("tickets/", ticket_list, name="ticket_list"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/reply/", ticket_reply_view, name="ticket_reply"),
    path("tickets/<int:pk>/note/", ticket_note_view, name="ticket_note"),
    path("tickets/<int:pk>/assign/", ticket_assign_view, name="ticket_assign"),
    path("tickets/<int:pk>/priority/", ticket_priority_view, name="ticket_priority"),
    path("tickets/<int:pk>/close/", ticket_close_view, name="ticket_close"),
    path("tickets/<int:pk>/reopen/", ticket_reopen_view, name="ticket_reopen"),
]
account_urlpatterns: list = [
    path("", customer_tickets, name="list"),
    path("new/", customer_ticket_new, name="new"),
    path("<int:pk>/", customer_ticket_detail, name="detail"),
    path("<int:pk>/reply/", customer_ticket_reply, name="reply"),
]
