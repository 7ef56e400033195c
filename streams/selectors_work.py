"""Reads of tasks, tickets and "my work", shared by the dashboard, the customer's account and
the API. Every list runs a fixed number of queries whatever its length (labels of subjects are
snapshotted on the rows; nothing is fetched per row).

Access goes through named fetchers: a customer's take the user and never return another
customer's ticket, whatever id is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from streams.models import (
    Comment,
    Event,
    Follow,
    Milestone,
    MilestoneStatus,
    Notification,
    Task,
    TaskStatus,
    Ticket,
    TicketStatus,
)
from streams.subjects import content_type_id

if TYPE_CHECKING:
    from tenants.accounts.models import User

OPEN_TASK_STATES = (TaskStatus.TODO, TaskStatus.IN_PROGRESS)
TASK_SORTS = {
    "due": (F("due_date").asc(nulls_last=True), "-priority", "id"),
    "-due": (F("due_date").desc(nulls_last=True), "-priority", "-id"),
    "priority": ("priority", F("due_date").asc(nulls_last=True), "id"),
    "-priority": ("-priority", F("due_date").asc(nulls_last=True), "id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
TICKET_SORTS = {
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "priority": ("priority", "-updated_at", "-id"),
    "-priority": ("-priority", "-updated_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
TASK_ROW_FIELDS = ("title", "status", "priority", "due_date", "subject_type_id", "subject_id",
                   "subject_label", "assignee_id", "assignee__email", "assignee__full_name",
                   "created_at", "completed_at")


def today() -> date:
    return timezone.localdate()


def _assignee_filter(qs: QuerySet, assignee: str | int | None, *, me: User | None) -> QuerySet:
    """`assignee`: "me", "none" (nobody yet) or a staff member's id; anything else: anyone."""
    if assignee == "me" and me is not None:
        return qs.filter(assignee=me)
    if assignee == "none":
        return qs.filter(assignee__isnull=True)
    if isinstance(assignee, int) or (isinstance(assignee, str) and assignee.isdigit()):
        return qs.filter(assignee_id=int(assignee))
    return qs


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------
def tasks_for_list(*, status: str = "", assignee: str | int | None = "", me: User | None = None,
                   priority: int | None = None, due: str = "", q: str = "",
                   subject: tuple[int, int] | None = None, sort: str = "due"
                   ) -> QuerySet[Task]:
    """Tasks filtered as the list's URL says. `status`: a task status or "open" (to do and in
    progress); `due`: "overdue" (open and past its date), "today", "week" (the next 7 days),
    "none" (no date)."""
    qs = Task.objects.select_related("assignee")
    if status == "open":
        qs = qs.filter(status__in=OPEN_TASK_STATES)
    elif status in TaskStatus.values:
        qs = qs.filter(status=status)
    qs = _assignee_filter(qs, assignee, me=me)
    if priority:
        qs = qs.filter(priority=priority)
    day = today()
    if due == "overdue":
        qs = qs.filter(due_date__lt=day, status__in=OPEN_TASK_STATES)
    elif due == "today":
        qs = qs.filter(due_date=day)
    elif due == "week":
        qs = qs.filter(due_date__gte=day, due_date__lte=day + timedelta(days=7))
    elif due == "none":
        qs = qs.filter(due_date__isnull=True)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subject_label__icontains=q))
    if subject is not None:
        qs = qs.filter(subject_type_id=subject[0], subject_id=subject[1])
    return qs.order_by(*TASK_SORTS.get(sort, TASK_SORTS["due"]))


def tasks_for_subject(*, subject_type_id: int, subject_id: int) -> QuerySet[Task]:
    """A project's (an order's) tasks: open ones first, then by due date and priority."""
    return (Task.objects.filter(subject_type_id=subject_type_id, subject_id=subject_id)
            .select_related("assignee")
            .annotate(closed=Case(When(status__in=OPEN_TASK_STATES, then=Value(False)),
                                  default=Value(True), output_field=BooleanField()))
            .order_by("closed", F("due_date").asc(nulls_last=True), "-priority", "id"))


def task_get(*, pk: int) -> Task | None:
    return (Task.objects.select_related("assignee", "created_by", "milestone")
            .filter(pk=pk).first())


def milestones_for_subject(*, subject_type_id: int, subject_id: int) -> QuerySet[Milestone]:
    """The milestones a task of this subject may belong to."""
    # `status` too: a milestone row without it reads it back, one query per row (django-fsm's
    # ConcurrentTransitionMixin keeps each row's initial state).
    return Milestone.objects.filter(subject_type_id=subject_type_id,
                                    subject_id=subject_id).only("pk", "name", "status")


def assignable_staff() -> QuerySet:
    """Active staff, for "assign to" choices (one query)."""
    return (get_user_model().objects.filter(is_staff=True, is_active=True)
            .only("pk", "email", "full_name").order_by("full_name", "email"))


# ---------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------
def tickets_for_list(*, status: str = "", assignee: str | int | None = "",
                     me: User | None = None, priority: int | None = None, q: str = "",
                     sort: str = "-updated") -> QuerySet[Ticket]:
    """`status`: a ticket status or "pending" (open or answered: not closed)."""
    qs = Ticket.objects.select_related("assignee")
    if status == "pending":
        qs = qs.exclude(status=TicketStatus.CLOSED)
    elif status in TicketStatus.values:
        qs = qs.filter(status=status)
    qs = _assignee_filter(qs, assignee, me=me)
    if priority:
        qs = qs.filter(priority=priority)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subject_label__icontains=q)
                       | Q(raised_by_name__icontains=q))
    return qs.order_by(*TICKET_SORTS.get(sort, TICKET_SORTS["-updated"]))


def ticket_get(*, pk: int) -> Ticket | None:
    """A ticket for staff."""
    return Ticket.objects.select_related("assignee", "raised_by").filter(pk=pk).first()


def tickets_for_customer(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(raised_by=user).order_by("-updated_at", "-id")


def ticket_get_for_customer(*, user: User, pk: int) -> Ticket | None:
    """One of this customer's tickets; None for anyone else's, whatever id is asked."""
    if user is None or not user.is_authenticated:
        return None
    return Ticket.objects.filter(raised_by=user, pk=pk).first()


def ticket_thread(ticket: Ticket, *, customer: bool) -> QuerySet[Comment]:
    """The replies after the customer's first message, oldest first. The customer sees the
    replies made for them; staff also see the internal notes."""
    qs = Comment.objects.filter(subject_type_id=content_type_id(Ticket), subject_id=ticket.pk)
    if customer:
        qs = qs.filter(customer_visible=True, deleted_at__isnull=True)
    return qs.select_related("author").order_by("created_at", "id")


# ---------------------------------------------------------------------------------------------
# My work
# ---------------------------------------------------------------------------------------------
@dataclass
class FollowedItem:
    follow: Follow
    event: Event | None


@dataclass
class MyWork:
    tasks: list[Task] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    followed: list[FollowedItem] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    unread: int = 0


MY_WORK_LIMIT = 20


def my_open_tasks(user: User, *, limit: int = MY_WORK_LIMIT) -> list[Task]:
    """The user's open tasks, overdue first, then by due date (undated last) and priority."""
    day = today()
    return list(Task.objects.filter(assignee=user, status__in=OPEN_TASK_STATES)
                .select_related("assignee")
                .annotate(late=Case(When(due_date__lt=day, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
                .order_by("late", F("due_date").asc(nulls_last=True), "-priority", "id")
                [:limit])


def followed_items(user: User, *, limit: int = MY_WORK_LIMIT) -> list[FollowedItem]:
    """What the user follows (not muted), each with its latest event, latest first: two
    queries (the latest event's id per follow comes from a subquery on the event index)."""
    latest = (Event.objects.filter(subject_type_id=OuterRef("subject_type_id"),
                                   subject_id=OuterRef("subject_id"))
              .order_by("-at", "-id"))
    follows = list(Follow.objects.filter(user=user).exclude(level="mute")
                   .annotate(latest_id=Subquery(latest.values("id")[:1]),
                             latest_at=Subquery(latest.values("at")[:1]))
                   .order_by(F("latest_at").desc(nulls_last=True), "-id")[:limit])
    events = Event.objects.in_bulk([f.latest_id for f in follows if f.latest_id])
    return [FollowedItem(follow=f, event=events.get(f.latest_id)) for f in follows]


def my_work_for(user: User, *, limit: int = MY_WORK_LIMIT) -> MyWork:
    """Everything the "My work" page shows: eight queries, whatever the amounts."""
    return MyWork(
        tasks=my_open_tasks(user, limit=limit),
        tickets=list(Ticket.objects.filter(assignee=user)
                     .exclude(status=TicketStatus.CLOSED)
                     .order_by(Case(When(status=TicketStatus.OPEN, then=Value(0)),
                                    default=Value(1), output_field=IntegerField()),
                               "-priority", "-updated_at", "-id")[:limit]),
        milestones=list(Milestone.objects.filter(owner=user)
                        .exclude(status__in=[MilestoneStatus.COMPLETED,
                                             MilestoneStatus.CANCELLED])
                        .order_by(F("planned_end").asc(nulls_last=True), "id")[:limit]),
        followed=followed_items(user, limit=limit),
        notifications=list(Notification.objects.filter(recipient=user, read_at__isnull=True)
                           .select_related("event").order_by("-id")[:10]),
        unread=Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    )
