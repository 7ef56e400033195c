"""Reads of the activity streams (timelines and the shop-wide feed), shared by the dashboard,
its template tags and the API.

Everything a row shows is on the event itself (actor's name and kind, subject's label, states,
data), and how verbs, states and details read comes from the subject's registration
(`streams.subjects.track`): a page of events is one query however many subjects it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from streams.models import ActorKind, Event, Importance
from streams.subjects import (
    Tracking,
    content_type_id,
    tracked,
    tracking_for_type,
    view_permission,
)

TIMELINE_PAGE = 20


# ---------------------------------------------------------------------------------------------
# Who may see what
# ---------------------------------------------------------------------------------------------
def kind_key(tracking: Tracking) -> str:
    """"sales.order": how filters and the API name a kind of subject."""
    return tracking.model._meta.label_lower


def viewable_kinds(user) -> dict[str, Tracking]:
    """The kinds of subject whose events `user` may read, by key, in registration order."""
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {kind_key(t): t for t in tracked() if user.has_perm(view_permission(t))}


def may_view_type(user, subject_type_id: int) -> bool:
    tracking = tracking_for_type(subject_type_id)
    return tracking is not None and kind_key(tracking) in viewable_kinds(user)


def subject_exists(tracking: Tracking, subject_id: int) -> bool:
    """Is there such a subject in this shop? (Another shop's rows are in another schema.)"""
    manager = tracking.model._base_manager
    return manager.filter(pk=subject_id).exists()


# ---------------------------------------------------------------------------------------------
# Querysets
# ---------------------------------------------------------------------------------------------
def events_of(subject: Model) -> QuerySet[Event]:
    """The events of one object, newest first (the timeline's index)."""
    return events_for(subject_type_id=content_type_id(subject), subject_id=subject.pk)


def events_for(*, subject_type_id: int, subject_id: int) -> QuerySet[Event]:
    return (Event.objects.filter(subject_type_id=subject_type_id, subject_id=subject_id)
            .order_by("-at", "-id"))


def last_message(subject: Model, *, verb: str) -> str:
    """The message of the latest `verb` event of `subject` ("" if none): e.g. what a customer
    wrote when asking for a quote."""
    return (events_of(subject).filter(verb=verb).values_list("message", flat=True).first()
            or "")


@dataclass(frozen=True)
class FeedFilters:
    """What the feed is narrowed to. `who` is "staff", "customer", "system" or a staff
    member's id; `kinds` are keys ("sales.order"); `importance` is a minimum."""

    who: str | int | None = None
    kinds: tuple[str, ...] = ()
    importance: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    # Days are the shop's days: an event at 00:30 in Paris belongs to that day, not the
    # previous UTC one. Bounds keep the (at) index usable, unlike a __date lookup.
    return timezone.make_aware(datetime.combine(day, time.min))


def feed_events(*, user, filters: FeedFilters = FeedFilters()) -> QuerySet[Event]:
    """The shop's events that `user` may read, newest first, narrowed by `filters`. Kinds the
    user may not view are never included, whatever the filters ask."""
    kinds = viewable_kinds(user)
    wanted = [key for key in filters.kinds if key in kinds] if filters.kinds else list(kinds)
    type_ids = [content_type_id(kinds[key].model) for key in wanted]
    events = Event.objects.filter(subject_type_id__in=type_ids)
    who = filters.who
    if who in (ActorKind.STAFF, ActorKind.CUSTOMER, ActorKind.SYSTEM):
        events = events.filter(actor_kind=who)
    elif who:
        events = events.filter(actor_id=int(who))
    if filters.importance:
        events = events.filter(importance__gte=filters.importance)
    if filters.date_from:
        events = events.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events.order_by("-at", "-id")


# ---------------------------------------------------------------------------------------------
# What a row says
# ---------------------------------------------------------------------------------------------
def _verb_label(tracking: Tracking | None, verb: str) -> str:
    label = tracking.verbs.get(verb) if tracking else None
    return str(label) if label else verb.replace("_", " ").capitalize()


def actor_label(event: Event) -> str:
    """Who did it: the staff member's name, "The customer" (named when they were signed in),
    or "Automatic" (a periodic task, a payment webhook)."""
    if event.actor_kind == ActorKind.CUSTOMER:
        if event.actor_name:
            return _("%(name)s (customer)") % {"name": event.actor_name}
        return _("The customer")
    if event.actor_kind == ActorKind.STAFF:
        return event.actor_name or _("A staff member")
    return _("Automatic")


def event_row(event: Event, *, with_subject: bool = False) -> dict:
    """Everything a timeline or feed row prints, as strings (the template only prints)."""
    tracking = tracking_for_type(event.subject_type_id)
    states = tracking.states if tracking else {}
    changed = bool(event.before or event.after) and event.before != event.after
    row = {
        "id": event.pk,
        "who": actor_label(event),
        "actor_kind": event.actor_kind,
        "what": _verb_label(tracking, event.verb),
        "verb": event.verb,
        "before": str(states.get(event.before, event.before)) if changed else "",
        "after": str(states.get(event.after, event.after)) if changed else "",
        "after_state": event.after if changed else "",
        "detail": (tracking.describe(event) if tracking and tracking.describe else "") or "",
        "message": event.message,
        "at": event.at,
        "important": event.importance >= Importance.HIGH,
    }
    if with_subject:
        row.update({
            "subject": event.subject_label,
            "kind": str(tracking.name) if tracking and tracking.name else "",
            "url": (tracking.url(event.subject_id) if tracking and tracking.url else ""),
        })
    return row


@dataclass
class TimelinePage:
    rows: list[dict]
    number: int
    has_more: bool


def timeline_page(*, subject_type_id: int, subject_id: int, page: int = 1,
                  per_page: int = TIMELINE_PAGE) -> TimelinePage:
    """One page of an object's timeline, newest first: one query (one row more than shown
    says whether there is an older page)."""
    page = max(int(page or 1), 1)
    start = (page - 1) * per_page
    events = list(events_for(subject_type_id=subject_type_id, subject_id=subject_id)
                  [start:start + per_page + 1])
    return TimelinePage(rows=[event_row(e) for e in events[:per_page]], number=page,
                        has_more=len(events) > per_page)
