"""Milestones of a programme or an order: created, edited and deleted, their dependencies (a
graph without cycles, inside one subject), their transitions, overdue detection, and the
billing schedule (shares of an order billed as milestones complete).

Locks, always in this order so two services never wait on each other:
1. the subject's schedule (a transaction advisory lock on the subject: it also covers a
   subject with no milestone yet), then its milestone rows in id order — taken by every
   service that changes the schedule or the dependency graph;
2. a transition locks only its own row; completing a billing milestone then lets the billing
   app lock the order and the invoice numbering (it never takes 1.).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from streams.errors import (
    MilestoneCycle,
    MilestoneError,
    MilestoneTransitionForbidden,
    MilestoneTransitionRefused,
)
from streams.events import acting, auto_follow, notify, record
from streams.models import (
    Event,
    Follow,
    Importance,
    Milestone,
    MilestoneStatus,
    NotificationReason,
)
from streams.selectors_milestones import (
    BILLING_SUBJECTS,
    HUNDRED,
    MILESTONE_SUBJECTS,
    ZERO,
    milestone_actions,
    schedule_total,
)
from streams.signals import milestone_completed
from streams.subjects import content_type_id, label_for_type, subject_label, tracking_for

if TYPE_CHECKING:
    from tenants.accounts.models import User

# What each transition is called on buttons and in refusals, and how it is styled (UI.md).
ACTIONS = {
    "start": (gettext_lazy("Start"), "primary"),
    "complete": (gettext_lazy("Mark completed"), "primary"),
    "delay": (gettext_lazy("Mark delayed"), "secondary"),
    "cancel": (gettext_lazy("Cancel milestone"), "danger"),
}
# What the timeline says happened (streams.tracking registers them for Milestone).
MILESTONE_VERBS = {
    "created": gettext_lazy("Milestone created"),
    "updated": gettext_lazy("Milestone updated"),
    "dependencies": gettext_lazy("Dependencies changed"),
    "deleted": gettext_lazy("Milestone deleted"),
    "start": gettext_lazy("Started"),
    "complete": gettext_lazy("Completed"),
    "delay": gettext_lazy("Delayed"),
    "cancel": gettext_lazy("Cancelled"),
    "billed": gettext_lazy("Instalment invoiced"),
}
MILESTONE_IMPORTANCE = {"delay": Importance.HIGH, "cancel": Importance.HIGH,
                        "complete": Importance.HIGH, "billed": Importance.HIGH}

FIELDS = ("name", "description", "owner", "planned_start", "planned_end", "actual_start",
          "actual_end", "progress", "budget", "actual_cost", "position", "bill_percent")
MONEY_LIMIT = Decimal("1000000000000")  # 14 digits, 2 of them decimals
CENT = Decimal("0.01")


def _state(milestone: Milestone) -> str:
    return str(milestone.get_status_display()).lower()


def _label(action: str) -> str:
    return str(ACTIONS.get(action, (action,))[0])


# ---------------------------------------------------------------------------------------------
# Input checks: each mistake named, next to its field
# ---------------------------------------------------------------------------------------------
def _text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise MilestoneError(_("Give the milestone a name."), field=field)
    if len(text) > max_length:
        raise MilestoneError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return text


def _day(value: Any, *, field: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        raise MilestoneError(_("Enter a date."), field=field)
    return value


def _decimal(value: Any, *, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if value not in (None, "") \
            else ZERO
    except InvalidOperation:
        raise MilestoneError(_("Enter an amount, e.g. 1500.00."), field=field) from None
    if not number.is_finite() or number < 0:
        raise MilestoneError(_("Enter an amount of 0 or more."), field=field)
    if number >= MONEY_LIMIT:
        raise MilestoneError(_("This amount is too large."), field=field)
    return number.quantize(CENT)


def _whole(value: Any, *, field: str, maximum: int | None = None) -> int:
    try:
        number = Decimal(str(value).strip()) if value not in (None, "") else ZERO
    except InvalidOperation:
        raise MilestoneError(_("Enter a whole number."), field=field) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise MilestoneError(_("Enter a whole number."), field=field)
    if number < 0 or (maximum is not None and number > maximum):
        raise MilestoneError(_("Enter a number between 0 and %(max)d.") % {"max": maximum}
                             if maximum is not None else _("Enter 0 or more."), field=field)
    return int(number)


def _share(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        share = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise MilestoneError(_("Enter a percentage, e.g. 35."), field="bill_percent") from None
    if not share.is_finite() or not ZERO < share <= HUNDRED:
        raise MilestoneError(_("A billed share is more than 0 and at most 100 %."),
                             field="bill_percent")
    if share != share.quantize(CENT):
        raise MilestoneError(_("At most two decimals, e.g. 12.5."), field="bill_percent")
    return share.quantize(CENT)


def _owner(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, Model) or not (value.is_staff and value.is_active):
        raise MilestoneError(_("The owner must be an active staff member of the shop."),
                             field="owner")
    return value


def _clean(data: dict, *, current: Milestone | None, billing: bool) -> dict:
    """The values to set, checked one by one and together (dates in order). `data` holds
    only the fields that change (all the required ones when creating)."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise MilestoneError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "name":
            values[name] = _text(value, field=name, max_length=150, required=True)
        elif name == "description":
            values[name] = _text(value, field=name, max_length=5000)
        elif name == "owner":
            values[name] = _owner(value)
        elif name in ("planned_start", "planned_end", "actual_start", "actual_end"):
            values[name] = _day(value, field=name)
        elif name == "progress":
            values[name] = _whole(value, field=name, maximum=100)
        elif name in ("budget", "actual_cost"):
            values[name] = _decimal(value, field=name)
        elif name == "position":
            values[name] = _whole(value, field=name)
        elif name == "bill_percent":
            values[name] = _share(value)
            if values[name] is not None and not billing:
                raise MilestoneError(_("Only a milestone of an order bills a share of it."),
                                     field="bill_percent")
    if current is None and "name" not in values:
        raise MilestoneError(_("Give the milestone a name."), field="name")

    def merged(name: str):
        return values[name] if name in values else getattr(current, name, None)

    if merged("planned_start") and merged("planned_end") \
            and merged("planned_end") < merged("planned_start"):
        raise MilestoneError(_("The planned end is before the planned start."),
                             field="planned_end")
    if merged("actual_start") and merged("actual_end") \
            and merged("actual_end") < merged("actual_start"):
        raise MilestoneError(_("The actual end is before the actual start."), field="actual_end")
    today = timezone.localdate()
    for name in ("actual_start", "actual_end"):
        if name in values and values[name] and values[name] > today:
            raise MilestoneError(_("An actual date cannot be in the future: it says what "
                                   "happened."), field=name)
    return values


# ---------------------------------------------------------------------------------------------
# Subjects and the schedule lock
# ---------------------------------------------------------------------------------------------
def _subject_kind(subject: Model) -> str:
    """The model label of a subject that may take milestones, or a refusal saying which do."""
    tracking = tracking_for(type(subject))
    kind = tracking.model._meta.label_lower if tracking else subject._meta.label_lower
    if tracking is None or kind not in MILESTONE_SUBJECTS or subject.pk is None:
        raise MilestoneError(_("Milestones go on a programme or an order."), field="subject")
    if not tracking.model._default_manager.filter(pk=subject.pk).exists():
        raise MilestoneError(_("This programme or order no longer exists."), field="subject")
    return kind


def _lock_schedule(subject_type_id: int, subject_id: int) -> None:
    """Serialise the changes to one subject's schedule and dependency graph (lock order: see
    the module's docstring). The advisory lock holds even while the subject has no milestone,
    where there is no row to lock."""
    key = f"{connection.schema_name}:milestones:{subject_type_id}:{subject_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
    list(Milestone.objects.select_for_update()
         .filter(subject_type_id=subject_type_id, subject_id=subject_id)
         .order_by("pk").values_list("pk", flat=True))


def _locked_with_schedule(milestone: Milestone) -> Milestone:
    keys = (Milestone.objects.filter(pk=milestone.pk)
            .values_list("subject_type_id", "subject_id").first())
    if keys is None:
        raise MilestoneError(_("This milestone no longer exists."))
    _lock_schedule(*keys)
    return Milestone.objects.select_related("owner").get(pk=milestone.pk)


def _check_schedule(milestone: Milestone | None, *, subject_type_id: int, subject_id: int,
                    share: Decimal | None, subject_name: str) -> None:
    """The subject's schedule never bills more than 100 % (cancelled milestones bill
    nothing). Called with the schedule locked."""
    if not share:
        return
    others = schedule_total(subject_type_id=subject_type_id, subject_id=subject_id,
                            excluding=milestone.pk if milestone else None)
    if others + share > HUNDRED:
        raise MilestoneError(
            _("The billing schedule of %(subject)s would reach %(total)s %%: it never bills "
              "more than 100 %%. At most %(left)s %% is left for this milestone.") % {
                "subject": subject_name, "total": _plain(others + share),
                "left": _plain(HUNDRED - others)}, field="bill_percent")


def _plain(number: Decimal) -> str:
    """35, 12.5: as written in a sentence (never 3.5E+1)."""
    return f"{number.normalize():f}"


def _follow_owner(milestone: Milestone, event: Event, *, by: User | None) -> None:
    """The owner follows their milestone and hears that it is theirs (not when they gave it
    to themselves)."""
    owner = milestone.owner
    if owner is None:
        return
    auto_follow(user=owner, subject=milestone)
    if by is None or owner.pk != by.pk:
        notify(event, [owner.pk], reason=NotificationReason.ASSIGNED)


# ---------------------------------------------------------------------------------------------
# Create, update, delete
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def milestone_create(*, subject: Model, by: User | None, data: dict) -> Milestone:
    """A milestone on a programme or an order (any tracked subject of a kind in
    MILESTONE_SUBJECTS). Its creator and its owner follow it."""
    kind = _subject_kind(subject)
    values = _clean(data, current=None, billing=kind in BILLING_SUBJECTS)
    subject_type_id = content_type_id(subject)
    _lock_schedule(subject_type_id, subject.pk)
    label = subject_label(subject)
    _check_schedule(None, subject_type_id=subject_type_id, subject_id=subject.pk,
                    share=values.get("bill_percent"), subject_name=label)
    if "position" not in values:
        last = (Milestone.objects.filter(subject_type_id=subject_type_id, subject_id=subject.pk)
                .order_by("-position").values_list("position", flat=True).first())
        values["position"] = 0 if last is None else last + 1
    milestone = Milestone.objects.create(
        subject_type_id=subject_type_id, subject_id=subject.pk, subject_label=label,
        created_by=by if by is not None and by.pk else None, **values)
    with acting(by):
        event = record(subject=milestone, verb="created",
                       data={"subject": label, "bill_percent": milestone.bill_percent})
    auto_follow(user=by, subject=milestone)
    _follow_owner(milestone, event, by=by)
    return milestone


def _shown(name: str, value: Any) -> Any:
    """A change as the timeline keeps it: owners by name, the rest JSON-safe."""
    if name == "owner":
        return value.get_full_name() if value is not None else ""
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@transaction.atomic
def milestone_update(*, milestone: Milestone, by: User | None, data: dict) -> Milestone:
    """Change some of a milestone's fields (`data` holds only those). One "updated" event
    lists what changed, before and after; nothing changed, no event. A cancelled milestone no
    longer changes; a completed one stays 100 % done and keeps its billed share."""
    milestone = _locked_with_schedule(milestone)
    kind = label_for_type(milestone.subject_type_id)
    if milestone.status == MilestoneStatus.CANCELLED:
        raise MilestoneError(_("“%(name)s” is cancelled: it can no longer change.")
                             % {"name": milestone.name})
    values = _clean(data, current=milestone, billing=kind in BILLING_SUBJECTS)
    changes = {name: (getattr(milestone, name), value) for name, value in values.items()
               if getattr(milestone, name) != value}
    if not changes:
        return milestone
    if "progress" in changes and milestone.status == MilestoneStatus.COMPLETED:
        raise MilestoneError(_("“%(name)s” is completed: its progress stays at 100 %%.")
                             % {"name": milestone.name}, field="progress")
    if "bill_percent" in changes:
        if milestone.status == MilestoneStatus.COMPLETED or milestone.billed_at:
            raise MilestoneError(_("“%(name)s” is completed: the share it billed can no "
                                   "longer change.") % {"name": milestone.name},
                                 field="bill_percent")
        _check_schedule(milestone, subject_type_id=milestone.subject_type_id,
                        subject_id=milestone.subject_id, share=values["bill_percent"],
                        subject_name=milestone.subject_label)
    for name, (_before, after) in changes.items():
        setattr(milestone, name, after)
    update_fields = list(changes)
    if "planned_end" in changes:
        # A new date is watched again: past it, the milestone is delayed (once more).
        milestone.overdue_notified_at = None
        update_fields.append("overdue_notified_at")
    milestone.save(update_fields=update_fields)
    # The description's text stays on the milestone: the timeline only says it changed.
    shown = {name: True if name == "description" else [_shown(name, before), _shown(name, after)]
             for name, (before, after) in changes.items()}
    with acting(by):
        event = record(subject=milestone, verb="updated", data={"changes": shown})
    if "owner" in changes:
        _follow_owner(milestone, event, by=by)
    return milestone


@transaction.atomic
def milestone_delete(*, milestone: Milestone, by: User | None) -> None:
    """Only a planned milestone that nothing depends on is deleted: one that has started,
    ended or billed stays on the schedule (cancel it instead: it is kept, struck through),
    and deleting one others wait for would silently unblock them. Its events stay in the
    shop's feed; the follows of it go."""
    milestone = _locked_with_schedule(milestone)
    if milestone.status != MilestoneStatus.PLANNED:
        raise MilestoneError(_("“%(name)s” is %(state)s: only a planned milestone can be "
                               "deleted. Cancel it instead: it stays on the schedule.")
                             % {"name": milestone.name, "state": _state(milestone)})
    dependents = list(milestone.dependents.order_by("position", "pk")
                      .values_list("name", flat=True))
    if dependents:
        raise MilestoneError(_("“%(name)s” cannot be deleted: %(others)s depend on it. Remove "
                               "it from their dependencies first.")
                             % {"name": milestone.name, "others": ", ".join(dependents)})
    with acting(by):
        record(subject=milestone, verb="deleted", data={"name": milestone.name,
                                                         "subject": milestone.subject_label})
    Follow.objects.filter(subject_type_id=content_type_id(Milestone),
                          subject_id=milestone.pk).delete()
    milestone.delete()


# ---------------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------------
def _find_cycle(start: int, edges: dict[int, set[int]]) -> list[int]:
    """A path start -> ... -> start along the edges (milestone -> what it waits for), or []."""
    stack: list[tuple[int, list[int]]] = [(dep, [start, dep]) for dep in sorted(edges[start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in sorted(edges.get(node, ())))
    return []


@transaction.atomic
def milestone_dependencies_set(*, milestone: Milestone, depends_on: Iterable[Milestone | int],
                               by: User | None) -> Milestone:
    """What `milestone` waits for: milestones of the same subject only, without a cycle
    (directly or through others; a milestone never waits for itself)."""
    ids: list[int] = []
    for item in depends_on:
        pk = item.pk if isinstance(item, Milestone) else item
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise MilestoneError(_("Dependencies are milestones, given by their id."),
                                 field="depends_on") from None
        if pk not in ids:
            ids.append(pk)
    milestone = _locked_with_schedule(milestone)
    if milestone.pk in ids:
        raise MilestoneCycle(_("“%(name)s” cannot depend on itself.") % {"name": milestone.name},
                             cycle=[milestone.name, milestone.name])
    if milestone.status in (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED):
        raise MilestoneError(_("“%(name)s” is %(state)s: its dependencies can no longer change.")
                             % {"name": milestone.name, "state": _state(milestone)},
                             field="depends_on")
    siblings = dict(Milestone.objects.filter(subject_type_id=milestone.subject_type_id,
                                             subject_id=milestone.subject_id)
                    .values_list("pk", "name"))
    strangers = [pk for pk in ids if pk not in siblings]
    if strangers:
        raise MilestoneError(
            _("Only milestones of %(subject)s can be dependencies of “%(name)s” (not #%(ids)s).")
            % {"subject": milestone.subject_label, "name": milestone.name,
               "ids": ", #".join(map(str, strangers))}, field="depends_on")
    edges: dict[int, set[int]] = {pk: set() for pk in siblings}
    through = Milestone.depends_on.through
    for source, target in through.objects.filter(from_milestone_id__in=list(siblings)) \
            .values_list("from_milestone_id", "to_milestone_id"):
        edges[source].add(target)
    before = sorted(edges[milestone.pk])
    edges[milestone.pk] = set(ids)
    cycle = _find_cycle(milestone.pk, edges)
    if cycle:
        names = [siblings[pk] for pk in cycle]
        raise MilestoneCycle(
            _("These dependencies would make a loop: %(cycle)s (each waits for the next). A "
              "milestone cannot wait, even indirectly, for itself.") % {"cycle": " → ".join(names)},
            cycle=names)
    if before == sorted(ids):
        return milestone
    milestone.depends_on.set(ids)
    with acting(by):
        record(subject=milestone, verb="dependencies",
               data={"depends_on": [siblings[pk] for pk in ids],
                     "before": [siblings[pk] for pk in before]})
    return milestone


# ---------------------------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------------------------
def _transition(*, milestone: Milestone, action: str, by: User | None, message: str = "",
                **kwargs) -> Milestone:
    """Check, run and save one transition on the locked row; the post_transition receiver
    records its one event, with the actor `acting` names."""
    milestone = (Milestone.objects.select_for_update(of=("self",)).select_related("owner")
                 .filter(pk=milestone.pk).first())
    if milestone is None:
        raise MilestoneError(_("This milestone no longer exists."))
    method = getattr(milestone, action, None)
    label = _label(action)
    if action not in ACTIONS or not can_proceed(method, check_conditions=False):
        allowed = milestone_actions(milestone, by)
        message = _("“%(name)s” is %(state)s: “%(action)s” is not possible now.") % {
            "name": milestone.name, "state": _state(milestone), "action": label}
        if allowed:
            message += " " + _("Possible now: %(actions)s.") % {
                "actions": ", ".join(f"“{_label(a)}”" for a in allowed)}
        raise MilestoneTransitionRefused(message, action=action, state=milestone.status,
                                         allowed=allowed)
    # django-fsm's has_transition_perm() also checks the conditions: the role is checked
    # alone here, so a manager waiting on dependencies is told that, not that they may not.
    if by is not None and not method._django_fsm.has_transition_perm(milestone,
                                                                     milestone.status, by):
        raise MilestoneTransitionForbidden(
            _("Your role does not allow “%(action)s”.") % {"action": label},
            action=action, state=milestone.status, allowed=milestone_actions(milestone, by))
    if not can_proceed(method):  # start and complete wait for the dependencies
        waiting = milestone.depends_on.exclude(
            status__in=[MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED]).order_by(
            "position", "pk")
        names = ", ".join(f"{m.name} ({_state(m)})" for m in waiting)
        raise MilestoneTransitionRefused(
            _("“%(name)s” waits for %(waiting)s: “%(action)s” is possible once they are "
              "completed (or cancelled).") % {"name": milestone.name, "waiting": names,
                                               "action": label},
            action=action, state=milestone.status, allowed=milestone_actions(milestone, by))
    data = {"bill_percent": milestone.bill_percent} if action == "complete" \
        and milestone.bill_percent else None
    with acting(by, message=message, data=data):
        method(**kwargs)
        milestone.save()
        if action == "complete":
            # In this transaction: if the billing app refuses (the order is fully invoiced,
            # the shop's legal identity is incomplete), the completion rolls back with it.
            milestone_completed.send(sender=Milestone, milestone=milestone, by=by)
    return milestone


@transaction.atomic
def milestone_start(*, milestone: Milestone, by: User | None) -> Milestone:
    return _transition(milestone=milestone, action="start", by=by,
                       today=timezone.localdate())


@transaction.atomic
def milestone_complete(*, milestone: Milestone, by: User | None) -> Milestone:
    """Completed (100 %); a milestone of an order with a share bills it, in this
    transaction (streams.signals.milestone_completed; the billing app issues the invoice).
    Completed twice at once: the second waits for the first's row lock, then finds it
    completed and is refused — one invoice."""
    return _transition(milestone=milestone, action="complete", by=by,
                       today=timezone.localdate())


@transaction.atomic
def milestone_delay(*, milestone: Milestone, by: User | None, message: str = "") -> Milestone:
    return _transition(milestone=milestone, action="delay", by=by, message=message.strip())


@transaction.atomic
def milestone_cancel(*, milestone: Milestone, by: User | None, reason: str) -> Milestone:
    reason = (reason or "").strip()
    if not reason:
        raise MilestoneError(_("Say why the milestone is cancelled."), field="reason")
    return _transition(milestone=milestone, action="cancel", by=by, message=reason)


def milestone_transition(*, milestone: Milestone, action: str, by: User | None,
                         message: str = "") -> Milestone:
    """One entry point for buttons and API actions: `message` is the reason of a
    cancellation, the note of a delay."""
    if action == "start":
        return milestone_start(milestone=milestone, by=by)
    if action == "complete":
        return milestone_complete(milestone=milestone, by=by)
    if action == "delay":
        return milestone_delay(milestone=milestone, by=by, message=message)
    if action == "cancel":
        return milestone_cancel(milestone=milestone, by=by, reason=message)
    raise MilestoneTransitionRefused(
        _("“%(action)s” is not something a milestone does.") % {"action": action},
        action=action, state=milestone.status, allowed=milestone_actions(milestone, by))


# ---------------------------------------------------------------------------------------------
# Overdue detection (periodic, streams.tasks)
# ---------------------------------------------------------------------------------------------
OVERDUE_SOURCES = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)


def milestones_mark_overdue(*, today: date | None = None) -> int:
    """Planned or started milestones past their planned end are marked delayed, once (a new
    planned end is watched again): followers hear of it (important), and so does the owner,
    following or not. One transaction per milestone, so one refusal stops nothing else."""
    today = today or timezone.localdate()
    ids = list(Milestone.objects.filter(status__in=OVERDUE_SOURCES, planned_end__lt=today,
                                        overdue_notified_at__isnull=True)
               .order_by("pk").values_list("pk", flat=True))
    return sum(1 for pk in ids if _mark_overdue(pk=pk, today=today))


@transaction.atomic
def _mark_overdue(*, pk: int, today: date) -> bool:
    milestone = (Milestone.objects.select_for_update(skip_locked=True)
                 .filter(pk=pk, status__in=OVERDUE_SOURCES, planned_end__lt=today,
                         overdue_notified_at__isnull=True).first())
    if milestone is None:  # changed (or being changed) meanwhile: the next run looks again
        return False
    with acting(None, importance=Importance.HIGH,
                data={"overdue": True, "planned_end": milestone.planned_end}):
        milestone.delay()
        milestone.overdue_notified_at = timezone.now()
        milestone.save()
    if milestone.owner_id:
        event = (Event.objects.filter(subject_type_id=content_type_id(Milestone),
                                      subject_id=milestone.pk, verb="delay")
                 .order_by("-id").first())
        notify(event, [milestone.owner_id], reason=NotificationReason.ASSIGNED)
    return True


# ---------------------------------------------------------------------------------------------
# Timeline lines (streams.tracking: describe)
# ---------------------------------------------------------------------------------------------
def _field_label(name: str) -> str:
    if name == "bill_percent":
        return _("Billed share")
    if name == "progress":
        return _("Progress")
    return str(Milestone._meta.get_field(name).verbose_name).capitalize()


def _value_text(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name in ("planned_start", "planned_end", "actual_start", "actual_end"):
        try:
            return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    if name in ("progress", "bill_percent"):
        return f"{formats.number_format(Decimal(str(value)).normalize(), use_l10n=True)} %"
    if name in ("budget", "actual_cost"):
        return formats.number_format(Decimal(str(value)), 2, use_l10n=True, force_grouping=True)
    return str(value)


def describe_milestone_event(event: Event) -> str:
    """The detail line of a milestone's event, in the reader's language."""
    data = event.data or {}
    if event.verb == "updated":
        parts = []
        for name, pair in (data.get("changes") or {}).items():
            if name == "description":
                parts.append(_("Description changed"))
            elif name in FIELDS and isinstance(pair, list) and len(pair) == 2:
                parts.append(f"{_field_label(name)}: {_value_text(name, pair[0])} → "
                             f"{_value_text(name, pair[1])}")
        return "; ".join(parts)
    if event.verb == "dependencies":
        names = data.get("depends_on") or []
        return (_("Waits for: %(names)s") % {"names": ", ".join(names)} if names
                else _("Waits for nothing"))
    if event.verb == "delay" and data.get("overdue"):
        return _("Past its planned end (%(day)s)") % {
            "day": _value_text("planned_end", data.get("planned_end"))}
    if event.verb == "billed" and data.get("invoice"):
        return _("Invoice %(number)s (%(share)s)") % {
            "number": data["invoice"], "share": _value_text("bill_percent", data.get("percent"))}
    if event.verb in ("created", "complete") and data.get("bill_percent"):
        return _("Bills %(share)s of the order") % {
            "share": _value_text("bill_percent", data["bill_percent"])}
    return ""

