"""Activity events, follows, notifications, comments; milestones, tasks and tickets.

Everything here points at the object it is about through a generic relation (content type +
id), so streams knows no domain app: an order, a quote, a project or a product are all
"subjects". The subject's label is snapshotted on the rows that are listed (events, tasks,
tickets) so feeds render without fetching every subject.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

USER = settings.AUTH_USER_MODEL


class Importance(models.IntegerChoices):
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("Important")


class ActorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    CUSTOMER = "customer", _("Customer")
    SYSTEM = "system", _("Automatic")


class SubjectMixin(models.Model):
    """What a row is about: any model instance of the shop."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")

    class Meta:
        abstract = True


# ---------------------------------------------------------------------------------------------
# Events: one row per state transition, payment, refund, stock adjustment, comment, ...
# ---------------------------------------------------------------------------------------------
class Event(SubjectMixin):
    actor = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices,
                                  default=ActorKind.SYSTEM)
    # Kept when the user is deleted: the timeline still says who it was.
    actor_name = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=40)
    subject_label = models.CharField(max_length=200, blank=True)
    before = models.CharField(max_length=30, blank=True)
    after = models.CharField(max_length=30, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    importance = models.PositiveSmallIntegerField(choices=Importance.choices,
                                                  default=Importance.NORMAL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "-at", "-id"],
                         name="event_subject_at"),
            models.Index(fields=["-at", "-id"], name="event_at"),
            models.Index(fields=["actor", "-at"], name="event_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.subject_label}"

    @property
    def is_transition(self) -> bool:
        return bool(self.before or self.after)


# ---------------------------------------------------------------------------------------------
# Follows and notifications
# ---------------------------------------------------------------------------------------------
class FollowLevel(models.TextChoices):
    ALL = "all", _("Everything")
    IMPORTANT = "important", _("Important only")
    MUTE = "mute", _("Muted")


class Follow(SubjectMixin):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="follows")
    level = models.CharField(max_length=10, choices=FollowLevel.choices, default=FollowLevel.ALL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "subject_type", "subject_id"],
                                               name="one_follow_per_user_and_subject")]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="follow_subject")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.subject_type_id}:{self.subject_id} ({self.level})"


class NotificationReason(models.TextChoices):
    FOLLOW = "follow", _("You follow it")
    MENTION = "mention", _("You were mentioned")
    ASSIGNED = "assigned", _("Assigned to you")


class Notification(models.Model):
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    reason = models.CharField(max_length=10, choices=NotificationReason.choices,
                              default=NotificationReason.FOLLOW)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "event"],
                                               name="one_notification_per_event")]
        indexes = [models.Index(fields=["recipient", "-id"], name="notification_inbox"),
                   models.Index(fields=["recipient"], condition=Q(read_at__isnull=True),
                                name="notification_unread")]

    def __str__(self) -> str:
        return f"to {self.recipient_id}: {self.event_id}"


# ---------------------------------------------------------------------------------------------
# Comments: threaded, on any subject; edits keep history; deletion leaves a tombstone.
# ---------------------------------------------------------------------------------------------
class Comment(SubjectMixin):
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="replies")
    author = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    author_name = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    # Customers see only comments made visible to them (a ticket's replies); staff see all.
    customer_visible = models.BooleanField(default=False)
    mentions = models.ManyToManyField(USER, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "created_at"],
                                name="comment_subject")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.subject_type_id}:{self.subject_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CommentRevision(models.Model):
    """The text a comment had before an edit (newest edit last)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["edited_at", "id"]

    def __str__(self) -> str:
        return f"revision of comment {self.comment_id}"


# ---------------------------------------------------------------------------------------------
# Milestones (on a project or an order), with dependencies and an optional billing share
# ---------------------------------------------------------------------------------------------
class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    DELAYED = "delayed", _("Delayed")
    CANCELLED = "cancelled", _("Cancelled")


def _percent(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=5, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0")),
                                           MaxValueValidator(Decimal("100"))], **kwargs)


class Milestone(ConcurrentTransitionMixin, SubjectMixin):
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("owner"))
    status = FSMField(default=MilestoneStatus.PLANNED, choices=MilestoneStatus.choices,
                      protected=True)
    position = models.PositiveIntegerField(default=0)
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(
        _("progress %"), default=0, validators=[MaxValueValidator(100)])
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=Decimal(0))
    actual_cost = models.DecimalField(_("actual cost"), max_digits=14, decimal_places=2,
                                      default=Decimal(0))
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True,
                                        related_name="dependents",
                                        verbose_name=_("depends on"))
    # Billing schedule: completing this milestone bills this share of the subject (an order).
    bill_percent = _percent(verbose_name=_("share billed at completion %"), null=True,
                            blank=True)
    billed_at = models.DateTimeField(null=True, blank=True)
    billed_reference = models.CharField(max_length=40, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "planned_end", "id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "position"],
                                name="milestone_subject")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="milestone_progress_max"),
            models.CheckConstraint(
                condition=Q(bill_percent__isnull=True)
                | (Q(bill_percent__gt=0) & Q(bill_percent__lte=100)),
                name="milestone_bill_percent_range"),
        ]
        permissions = [("run_milestone", "Can start, complete, delay or cancel milestones")]

    def __str__(self) -> str:
        return self.name

    def dependencies_completed(self) -> bool:
        return not self.depends_on.exclude(
            status__in=[MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED]).exists()

    @transition(field=status, source=[MilestoneStatus.PLANNED, MilestoneStatus.DELAYED],
                target=MilestoneStatus.IN_PROGRESS, conditions=[dependencies_completed],
                permission="streams.run_milestone")
    def start(self, *, today) -> None:
        self.actual_start = self.actual_start or today

    @transition(field=status,
                source=[MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS,
                        MilestoneStatus.DELAYED],
                target=MilestoneStatus.COMPLETED, conditions=[dependencies_completed],
                permission="streams.run_milestone")
    def complete(self, *, today) -> None:
        self.actual_start = self.actual_start or today
        self.actual_end = today
        self.progress = 100

    @transition(field=status, source=[MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS],
                target=MilestoneStatus.DELAYED, permission="streams.run_milestone")
    def delay(self) -> None:
        pass

    @transition(field=status,
                source=[MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS,
                        MilestoneStatus.DELAYED],
                target=MilestoneStatus.CANCELLED, permission="streams.run_milestone")
    def cancel(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Tasks (staff work on a project or any object) and tickets (raised by customers)
# ---------------------------------------------------------------------------------------------
class Priority(models.IntegerChoices):
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("High")
    URGENT = 40, _("Urgent")


class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(SubjectMixin):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    milestone = models.ForeignKey(Milestone, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="tasks", verbose_name=_("milestone"))
    assignee = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("assignee"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices,
                              default=TaskStatus.TODO)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "due_date", "id"]
        indexes = [models.Index(fields=["assignee", "status"], name="task_assignee"),
                   models.Index(fields=["subject_type", "subject_id"], name="task_subject")]

    def __str__(self) -> str:
        return self.title


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Ticket(SubjectMixin):
    """A customer's question or problem about their order or lot. Replies are comments on the
    ticket (visible to the customer); staff notes are comments that are not."""

    title = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    subject_label = models.CharField(max_length=200, blank=True)
    raised_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    raised_by_name = models.CharField(max_length=150, blank=True)
    assignee = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("assignee"))
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices,
                              default=TicketStatus.OPEN)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["raised_by", "-updated_at"], name="ticket_raised_by"),
                   models.Index(fields=["status", "-updated_at"], name="ticket_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


# ---------------------------------------------------------------------------------------------
# Email digest of unread notifications: opt-in, per staff member
# ---------------------------------------------------------------------------------------------
class DigestSubscription(models.Model):
    """A staff member who wants the notifications they have not read by email, once a day
    (each notification is emailed once: Notification.emailed_at)."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"digest for {self.user_id}"
