"""Tasks (staff work on a project, an order, any tracked object) and tickets (a customer's
question about their order or lot, answered in a thread).

Every change writes one event on the task or ticket (its timeline) in the same transaction.
A task's creation, status changes and deletion also write one event on the task's subject, so
the project's timeline says "Task “Pour the slab”: done" without the timeline having to know
tasks exist; the task is named in that event's data (`task`, `title`, `before`, `after`).
A deleted task's own events stay (the feed keeps what happened) but its follows go.

Who is told: assigning someone notifies them (reason "assigned", never when they assign
themselves) and makes them follow it; whoever creates a task or answers a ticket follows it;
followers hear of every change through streams.events. The customer who raised a ticket is
emailed when staff reply, after the commit: a mail server that is down never fails a reply.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streams.errors import WorkConflict, WorkError, WorkForbidden
from streams.events import auto_follow, notify, notify_followers, record
from streams.models import (
    Comment,
    Follow,
    Importance,
    Milestone,
    NotificationReason,
    Priority,
    Task,
    TaskStatus,
    Ticket,
    TicketStatus,
)
from streams.subjects import (
    content_type_id,
    subject_label,
    tracking_for,
    tracking_for_type,
    view_permission,
)
from tenants.models import Shop

if TYPE_CHECKING:
    from tenants.accounts.models import User

logger = logging.getLogger(__name__)

TITLE_MAX = 200
BODY_MAX = 10_000

# What each event on a task or ticket is called on timelines (streams.tracking registers them).
TASK_VERBS = {
    "created": gettext_lazy("Task created"),
    "edited": gettext_lazy("Task edited"),
    "status_changed": gettext_lazy("Status changed"),
    "assigned": gettext_lazy("Assigned"),
    "unassigned": gettext_lazy("Unassigned"),
}
TICKET_VERBS = {
    "raised": gettext_lazy("Ticket raised by the customer"),
    "replied": gettext_lazy("Answered the customer"),
    "noted": gettext_lazy("Internal note"),
    "customer_replied": gettext_lazy("The customer replied"),
    "assigned": gettext_lazy("Assigned"),
    "unassigned": gettext_lazy("Unassigned"),
    "priority_changed": gettext_lazy("Priority changed"),
    "closed": gettext_lazy("Closed"),
    "reopened": gettext_lazy("Reopened"),
}
TASK_IMPORTANCE = {"assigned": Importance.HIGH, "edited": Importance.LOW}
TICKET_IMPORTANCE = {"raised": Importance.HIGH, "customer_replied": Importance.HIGH,
                     "noted": Importance.LOW}
# Verbs of the events written on a task's or ticket's subject (a project, an order).
SUBJECT_VERBS = {
    "task_created": gettext_lazy("Task created"),
    "task_status_changed": gettext_lazy("Task status changed"),
    "task_deleted": gettext_lazy("Task deleted"),
    "ticket_raised": gettext_lazy("Ticket raised by the customer"),
}
OPEN_TASK_STATES = (TaskStatus.TODO, TaskStatus.IN_PROGRESS)


def describe_work_event(event) -> str:
    """The detail line of a task's or ticket's event on a timeline."""
    data = event.data or {}
    if event.verb == "assigned" and data.get("assignee_name"):
        return _("To %(name)s") % {"name": data["assignee_name"]}
    if event.verb == "priority_changed" and data.get("priority_label"):
        return _("Now %(priority)s") % {"priority": data["priority_label"]}
    if event.verb == "edited" and data.get("changed"):
        return _("Changed: %(fields)s") % {"fields": ", ".join(data["changed"])}
    return ""


# ---------------------------------------------------------------------------------------------
# Checks shared by tasks and tickets
# ---------------------------------------------------------------------------------------------
def _require(by: User | None, perm: str) -> None:
    """`by=None` is the system (nothing to check); staff need the role's permission."""
    if by is None:
        return
    if not (by.is_active and by.is_staff and by.has_perm(perm)):
        raise WorkForbidden(_("Your role does not allow this."))


def _text(value: str | None, *, field: str, required_message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkError(required_message, field=field)
    if len(value) > limit:
        raise WorkError(_("Keep it under %(limit)s characters (it has %(count)s).")
                        % {"limit": limit, "count": len(value)}, field=field)
    return value


def _optional_text(value: str | None, *, field: str, limit: int) -> str:
    """Like _text, but may be empty; too long is refused, never cut short in silence."""
    value = (value or "").strip()
    if len(value) > limit:
        raise WorkError(_("Keep it under %(limit)s characters (it has %(count)s).")
                        % {"limit": limit, "count": len(value)}, field=field)
    return value


def _staff_assignee(assignee: User | None) -> User | None:
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise WorkError(_("%(name)s is not active staff of this shop: choose someone else.")
                        % {"name": assignee.get_full_name()}, field="assignee")
    return assignee


def _priority(value: Any) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = None
    if value not in Priority.values:
        raise WorkError(_("Choose a priority: low, normal, high or urgent."), field="priority")
    return value


def _name(user: User | None) -> str:
    return user.get_full_name() if user is not None else ""


def _tell_assignee(event, *, assignee: User | None, by: User | None) -> None:
    """The assignee first, with the reason "assigned" (a notification per event: the later
    follower notification skips them), then the other followers."""
    if assignee is not None and (by is None or assignee.pk != by.pk):
        notify(event, [assignee.pk], reason=NotificationReason.ASSIGNED)
    notify_followers(event)


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------
def task_subject(*, subject_type_id: int, subject_id: int) -> Model:
    """The tracked object a task is about, from its content type and id (a form's hidden
    fields, an API body); WorkError if it is not something tasks can be about."""
    tracking = tracking_for_type(subject_type_id) if subject_type_id else None
    if tracking is None or tracking.model in (Task, Ticket):
        raise WorkError(_("Tasks can be added to projects, orders and other tracked objects "
                          "only."), field="subject")
    subject = tracking.model._default_manager.filter(pk=subject_id).first()
    if subject is None:
        raise WorkError(_("This object no longer exists."), field="subject")
    return subject


def _task_milestone(milestone: Milestone | None, *, subject_type_id: int, subject_id: int
                    ) -> Milestone | None:
    if milestone is not None and (milestone.subject_type_id, milestone.subject_id) != (
            subject_type_id, subject_id):
        raise WorkError(_("Choose a milestone of the same project or order as the task."),
                        field="milestone")
    return milestone


def _task_on_subject(task: Task, *, verb: str, by: User | None, message: str,
                     data: dict | None = None) -> None:
    """The event on the task's subject (its timeline), naming the task in its data."""
    subject = task.subject
    if subject is None:  # the project or order was deleted meanwhile: the task's own event
        return
    record(subject=subject, verb=verb, actor=by, message=message,
           data={"task": task.pk, "title": task.title, **(data or {})},
           importance=Importance.LOW if verb == "task_created" else None)


@transaction.atomic
def task_create(*, subject: Model, title: str, by: User | None, description: str = "",
                assignee: User | None = None, due_date: date | None = None,
                priority: int = Priority.NORMAL, milestone: Milestone | None = None) -> Task:
    """A task on `subject` (a tracked object). The creator follows it; an assignee is told."""
    _require(by, "streams.add_task")
    tracking = tracking_for(type(subject))
    if tracking is None or isinstance(subject, (Task, Ticket)):
        raise WorkError(_("Tasks can be added to projects, orders and other tracked objects "
                          "only."), field="subject")
    if by is not None and not by.has_perm(view_permission(tracking)):
        # Work on something the role may not even open (an accountant's invoice for the
        # warehouse) is refused: the task would show what the page hides.
        raise WorkForbidden(_("Your role cannot open this object, so it cannot get tasks "
                              "from you."), field="subject")
    ct_id = content_type_id(subject)
    task = Task.objects.create(
        subject_type_id=ct_id, subject_id=subject.pk, subject_label=subject_label(subject),
        title=_text(title, field="title", required_message=_("Give the task a title."),
                    limit=TITLE_MAX),
        description=_optional_text(description, field="description", limit=BODY_MAX),
        assignee=_staff_assignee(assignee), due_date=due_date, priority=_priority(priority),
        milestone=_task_milestone(milestone, subject_type_id=ct_id, subject_id=subject.pk),
        created_by=by if by is not None and by.pk else None)
    auto_follow(user=by, subject=task)
    if assignee is not None:
        auto_follow(user=assignee, subject=task)
    event = record(subject=task, verb="created", actor=by, after=task.status, notify=False,
                   data={"assignee": assignee.pk if assignee else None,
                         "assignee_name": _name(assignee)})
    _tell_assignee(event, assignee=assignee, by=by)
    task.subject = subject  # already fetched: the subject's event needs it
    _task_on_subject(task, verb="task_created", by=by,
                     message=_("Task “%(title)s” created") % {"title": task.title})
    return task


def _locked(task: Task) -> Task:
    locked = Task.objects.select_for_update().filter(pk=task.pk).first()
    if locked is None:
        raise WorkError(_("This task was deleted meanwhile."))
    return locked


TASK_EDITABLE = ("title", "description", "due_date", "priority", "milestone")
TASK_FIELD_LABELS = {"title": gettext_lazy("title"), "description": gettext_lazy("description"),
                     "due_date": gettext_lazy("due date"), "priority": gettext_lazy("priority"),
                     "milestone": gettext_lazy("milestone")}


@transaction.atomic
def task_update(*, task: Task, by: User | None, data: dict[str, Any]) -> Task:
    """Change the task's title, description, due date, priority or milestone (the keys of
    `data` that are given). One "edited" event naming what changed; none if nothing did."""
    _require(by, "streams.change_task")
    unknown = set(data) - set(TASK_EDITABLE)
    if unknown:
        raise WorkError(_("These fields cannot be changed here: %(fields)s.")
                        % {"fields": ", ".join(sorted(unknown))})
    task = _locked(task)
    clean = dict(data)
    if "title" in clean:
        clean["title"] = _text(clean["title"], field="title",
                               required_message=_("Give the task a title."), limit=TITLE_MAX)
    if "description" in clean:
        clean["description"] = _optional_text(clean["description"], field="description",
                                              limit=BODY_MAX)
    if "priority" in clean:
        clean["priority"] = _priority(clean["priority"])
    if "milestone" in clean:
        clean["milestone"] = _task_milestone(clean["milestone"],
                                             subject_type_id=task.subject_type_id,
                                             subject_id=task.subject_id)
    changed = []
    for field in TASK_EDITABLE:
        if field not in clean:
            continue
        current = task.milestone_id if field == "milestone" else getattr(task, field)
        new = clean[field].pk if field == "milestone" and clean[field] else clean[field]
        if current != new:
            setattr(task, field, clean[field])
            changed.append(field)
    if not changed:
        return task
    task.save(update_fields=changed)
    record(subject=task, verb="edited", actor=by,
           data={"changed": [str(TASK_FIELD_LABELS[f]) for f in changed], "fields": changed})
    return task


@transaction.atomic
def task_set_status(*, task: Task, status: str, by: User | None) -> Task:
    """To do, in progress, done or cancelled (any to any: work is reopened too). Done stamps
    completed_at; leaving done clears it."""
    _require(by, "streams.change_task")
    if status not in TaskStatus.values:
        raise WorkError(_("Choose a status: to do, in progress, done or cancelled."),
                        field="status")
    task = _locked(task)
    before = task.status
    if before == status:
        raise WorkConflict(_("The task is already “%(status)s”.")
                        % {"status": TaskStatus(status).label}, field="status")
    task.status = status
    task.completed_at = timezone.now() if status == TaskStatus.DONE else None
    task.save(update_fields=["status", "completed_at"])
    record(subject=task, verb="status_changed", actor=by, before=before, after=status,
           importance=Importance.HIGH if status == TaskStatus.DONE else None)
    _task_on_subject(task, verb="task_status_changed", by=by,
                     message=_("Task “%(title)s”: %(before)s → %(after)s") % {
                         "title": task.title, "before": TaskStatus(before).label,
                         "after": TaskStatus(status).label},
                     data={"before": before, "after": status})
    return task


@transaction.atomic
def task_assign(*, task: Task, assignee: User | None, by: User | None) -> Task:
    """Give the task to `assignee` (None: nobody). They follow it and are told, unless they
    assigned it to themselves."""
    _require(by, "streams.change_task")
    task = _locked(task)
    assignee = _staff_assignee(assignee)
    if (assignee.pk if assignee else None) == task.assignee_id:
        if assignee is None:
            raise WorkError(_("The task is not assigned to anyone."), field="assignee")
        raise WorkError(_("The task is already assigned to %(name)s.")
                        % {"name": assignee.get_full_name()}, field="assignee")
    previous = task.assignee_id
    task.assignee = assignee
    task.save(update_fields=["assignee"])
    if assignee is None:
        record(subject=task, verb="unassigned", actor=by, data={"previous": previous})
        return task
    auto_follow(user=assignee, subject=task)
    event = record(subject=task, verb="assigned", actor=by, notify=False,
                   data={"assignee": assignee.pk, "assignee_name": _name(assignee),
                         "previous": previous})
    _tell_assignee(event, assignee=assignee, by=by)
    return task


@transaction.atomic
def task_delete(*, task: Task, by: User | None) -> None:
    """Delete the task. Its subject's timeline says so; its own events stay in the feed."""
    _require(by, "streams.delete_task")
    task = _locked(task)
    Follow.objects.filter(subject_type_id=content_type_id(Task), subject_id=task.pk).delete()
    _task_on_subject(task, verb="task_deleted", by=by,
                     message=_("Task “%(title)s” deleted") % {"title": task.title},
                     data={"status": task.status})
    task.delete()


# ---------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------
def _ticket_locked(ticket: Ticket) -> Ticket:
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if locked is None:
        raise WorkError(_("This ticket no longer exists."))
    return locked


def _ticket_status(ticket: Ticket, status: str) -> str:
    """Set the status (and the time the ticket last moved); returns the one it had."""
    before = ticket.status
    ticket.status = status
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["status", "updated_at"])
    return before


def _comment(*, ticket: Ticket, author: User | None, body: str, customer_visible: bool
             ) -> Comment:
    return Comment.objects.create(
        subject_type_id=content_type_id(Ticket), subject_id=ticket.pk, author=author,
        author_name=_name(author), body=body, customer_visible=customer_visible)


def _body(body: str) -> str:
    return _text(body, field="body", required_message=_("Write your message."), limit=BODY_MAX)


@transaction.atomic
def ticket_raise(*, user: User, subject: Model, title: str, body: str) -> Ticket:
    """A customer's question about `subject`, one they own (the caller found it through
    streams.subjects.customer_subject_lookup, which only returns the customer's own). The
    subject's followers hear of it on its timeline."""
    if user is None or not user.is_authenticated or user.is_staff:
        raise WorkForbidden(_("Only the shop's customers raise tickets from their account."))
    ticket = Ticket.objects.create(
        subject_type_id=content_type_id(subject), subject_id=subject.pk,
        subject_label=subject_label(subject),
        title=_text(title, field="title", required_message=_("Say what it is about."),
                    limit=TITLE_MAX),
        body=_body(body), raised_by=user, raised_by_name=_name(user))
    record(subject=ticket, verb="raised", actor=user, customer=True, after=ticket.status)
    record(subject=subject, verb="ticket_raised", actor=user, customer=True,
           message=_("Ticket #%(number)s: %(title)s") % {"number": ticket.pk,
                                                         "title": ticket.title},
           data={"ticket": ticket.pk, "title": ticket.title},
           importance=Importance.HIGH)
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, body: str, by: User, base_url: str) -> Comment:
    """Staff answer the customer (they read it in their account and by email): the ticket
    becomes answered, and whoever answered follows it."""
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    comment = _comment(ticket=ticket, author=by, body=_body(body), customer_visible=True)
    before = _ticket_status(ticket, TicketStatus.ANSWERED)
    auto_follow(user=by, subject=ticket)
    record(subject=ticket, verb="replied", actor=by, before=before,
           after=TicketStatus.ANSWERED if before != TicketStatus.ANSWERED else "",
           data={"comment": comment.pk})
    if ticket.raised_by_id:
        ticket_id, comment_id = ticket.pk, comment.pk
        transaction.on_commit(
            lambda: ticket_reply_email(ticket_id=ticket_id, comment_id=comment_id,
                                       base_url=base_url),
            robust=True)
    return comment


@transaction.atomic
def ticket_note(*, ticket: Ticket, body: str, by: User) -> Comment:
    """An internal note: staff only, never shown to the customer, the status unchanged."""
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    comment = _comment(ticket=ticket, author=by, body=_body(body), customer_visible=False)
    auto_follow(user=by, subject=ticket)
    record(subject=ticket, verb="noted", actor=by, data={"comment": comment.pk})
    return comment


@transaction.atomic
def ticket_customer_reply(*, ticket: Ticket, body: str, user: User) -> Comment:
    """The customer writes again: an answered or closed ticket opens again (they still need
    help), and its followers (the assignee, who answered) are told."""
    ticket = _ticket_locked(ticket)
    if user is None or ticket.raised_by_id != user.pk:
        raise WorkForbidden(_("Only the customer who raised this ticket can reply here."))
    comment = _comment(ticket=ticket, author=user, body=_body(body), customer_visible=True)
    before = _ticket_status(ticket, TicketStatus.OPEN)
    record(subject=ticket, verb="customer_replied", actor=user, customer=True, before=before,
           after=TicketStatus.OPEN if before != TicketStatus.OPEN else "",
           data={"comment": comment.pk})
    return comment


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, by: User | None) -> Ticket:
    """Give the ticket to a staff member (None: nobody); they follow it and are told, unless
    they took it themselves."""
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    assignee = _staff_assignee(assignee)
    if (assignee.pk if assignee else None) == ticket.assignee_id:
        if assignee is None:
            raise WorkError(_("The ticket is not assigned to anyone."), field="assignee")
        raise WorkError(_("The ticket is already assigned to %(name)s.")
                        % {"name": assignee.get_full_name()}, field="assignee")
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["assignee", "updated_at"])
    if assignee is None:
        record(subject=ticket, verb="unassigned", actor=by, data={"previous": previous})
        return ticket
    auto_follow(user=assignee, subject=ticket)
    event = record(subject=ticket, verb="assigned", actor=by, notify=False,
                   data={"assignee": assignee.pk, "assignee_name": _name(assignee),
                         "previous": previous})
    _tell_assignee(event, assignee=assignee, by=by)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, priority: int, by: User | None) -> Ticket:
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    priority = _priority(priority)
    if priority == ticket.priority:
        raise WorkError(_("The ticket already has this priority."), field="priority")
    before = ticket.priority
    ticket.priority = priority
    ticket.save(update_fields=["priority"])
    record(subject=ticket, verb="priority_changed", actor=by,
           data={"before": before, "after": priority,
                 "priority_label": str(Priority(priority).label)})
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: User | None) -> Ticket:
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise WorkConflict(_("This ticket is already closed."), field="status")
    before = _ticket_status(ticket, TicketStatus.CLOSED)
    record(subject=ticket, verb="closed", actor=by, before=before, after=TicketStatus.CLOSED)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: User | None) -> Ticket:
    _require(by, "streams.change_ticket")
    ticket = _ticket_locked(ticket)
    if ticket.status != TicketStatus.CLOSED:
        raise WorkConflict(_("Only a closed ticket can be reopened."), field="status")
    before = _ticket_status(ticket, TicketStatus.OPEN)
    record(subject=ticket, verb="reopened", actor=by, before=before, after=TicketStatus.OPEN)
    return ticket


# ---------------------------------------------------------------------------------------------
# The customer's email when staff reply
# ---------------------------------------------------------------------------------------------
def _shop() -> Shop:
    shop = connection.tenant
    if not isinstance(shop, Shop):  # a task or a script in schema_context() has a stand-in
        shop = Shop.objects.get(schema_name=connection.schema_name)
    return shop


def ticket_reply_email(*, ticket_id: int, comment_id: int, base_url: str) -> bool:
    """Email the customer the staff reply, in the shop's language, with a link to the
    thread. Runs after the commit; a failure is logged, the reply stays saved. Returns
    whether a message was sent."""
    ticket = Ticket.objects.select_related("raised_by").filter(pk=ticket_id).first()
    comment = Comment.objects.filter(pk=comment_id).first()
    if ticket is None or comment is None or ticket.raised_by is None:
        return False
    customer = ticket.raised_by
    shop = _shop()
    context = {"ticket": ticket, "comment": comment, "shop_name": shop.name,
               "customer_name": customer.get_full_name(),
               "link": base_url + reverse("streams_account:detail", args=[ticket.pk])}
    with translation.override(getattr(shop, "locale", None) or "en"):
        subject = render_to_string("streams/work/email/ticket_reply_subject.txt", context)
        body = render_to_string("streams/work/email/ticket_reply.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [customer.email])
    except OSError:  # smtplib's errors are OSErrors: the server is down or refused
        logger.exception("ticket reply email not sent", extra={"ticket": ticket_id})
        return False
    return True
