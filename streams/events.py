"""The one small API domain apps use to put things on timelines.

- Transitions of tracked models are recorded by `on_transition` (django-fsm's post_transition,
  connected in StreamsConfig.ready()): services only say who acts, with `acting(...)`.
- Anything else (a payment, a stock adjustment, a comment) is `record(subject=..., verb=...)`.

Each event is written in the caller's transaction (it rolls back with the change it describes)
and its notifications with it: a follower never hears of something that did not happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from streams.models import (
    ActorKind,
    Event,
    Follow,
    FollowLevel,
    Importance,
    Notification,
    NotificationReason,
)
from streams.subjects import content_type_id, subject_label, tracking_for


@dataclass
class Acting:
    actor: Any = None  # a User, or None for the system
    customer: bool = False  # the customer acts (their signed link, their account)
    message: str = ""
    data: dict = field(default_factory=dict)
    importance: int | None = None


_ACTING: ContextVar[Acting | None] = ContextVar("streams_acting", default=None)


@contextmanager
def acting(actor=None, *, customer: bool = False, message: str = "", data: dict | None = None,
           importance: int | None = None) -> Iterator[Acting]:
    """Who does what happens inside the block, and what to say about it on the timeline."""
    token = _ACTING.set(Acting(actor=actor if actor is not None and actor.pk else None,
                               customer=customer, message=message, data=dict(data or {}),
                               importance=importance))
    try:
        yield _ACTING.get()
    finally:
        _ACTING.reset(token)


def _plain(value):
    """JSON-safe copies of transition arguments (dates, decimals, model rows)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def _actor_kind(actor, customer: bool) -> str:
    if customer or (actor is not None and not actor.is_staff):
        return ActorKind.CUSTOMER
    return ActorKind.STAFF if actor is not None else ActorKind.SYSTEM


def record(*, subject: Model, verb: str, actor: Any = ..., customer: bool | None = None,
           before: str = "", after: str = "", message: str = "", data: dict | None = None,
           importance: int | None = None, notify: bool = True) -> Event:
    """Write one event about `subject` and notify its followers. The actor defaults to the one
    set by `acting(...)` around the call, else the system."""
    context = _ACTING.get() or Acting()
    if actor is ...:
        actor = context.actor
    if actor is not None and not actor.pk:
        actor = None
    if customer is None:
        customer = context.customer
    tracking = tracking_for(type(subject))
    if importance is None:
        importance = context.importance or (tracking.importance.get(verb) if tracking else None)
    event = Event.objects.create(
        subject_type_id=content_type_id(subject), subject_id=subject.pk,
        subject_label=subject_label(subject), verb=verb, before=before or "",
        after=after or "", actor=actor, actor_kind=_actor_kind(actor, customer),
        actor_name=actor.get_full_name() if actor is not None else "",
        message=message or context.message, data=_plain({**context.data, **(data or {})}),
        importance=importance or Importance.NORMAL)
    if notify:
        notify_followers(event)
    return event


def on_transition(sender, instance, name, source, target, **kwargs) -> None:
    """post_transition receiver: one event per transition of a tracked model."""
    tracking = tracking_for(type(instance))
    if tracking is None or not tracking.transitions:
        return
    arguments = {key: value for key, value in (kwargs.get("method_kwargs") or {}).items()
                 if key not in {"by", "user", "today", "now"}}
    record(subject=instance, verb=name, before=source, after=target, data=arguments)


def notify_followers(event: Event) -> int:
    """Notify the staff who follow the event's subject (all, or important only), never the
    one who acted. Customers never follow: they are told by email and their account."""
    follows = (Follow.objects
               .filter(subject_type_id=event.subject_type_id, subject_id=event.subject_id,
                       user__is_staff=True, user__is_active=True)
               .exclude(level=FollowLevel.MUTE))
    if event.actor_id:
        follows = follows.exclude(user_id=event.actor_id)
    if event.importance < Importance.HIGH:
        follows = follows.exclude(level=FollowLevel.IMPORTANT)
    users = list(follows.values_list("user_id", flat=True))
    return notify(event, users, reason=NotificationReason.FOLLOW)


def notify(event: Event, user_ids: Iterable[int], *, reason: str) -> int:
    """Put `event` in these users' inboxes (once each, whatever the reason)."""
    rows = [Notification(recipient_id=pk, event=event, reason=reason)
            for pk in dict.fromkeys(user_ids)]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def follow(*, user, subject: Model, level: str = FollowLevel.ALL, replace: bool = True) -> Follow:
    """`user` follows `subject` (staff only). `replace=False` keeps an existing level: the
    automatic follows (creator, assignee) never override a choice the user made."""
    keys = {"user": user, "subject_type_id": content_type_id(subject), "subject_id": subject.pk}
    if replace:
        row, _created = Follow.objects.update_or_create(**keys, defaults={"level": level})
    else:
        row, _created = Follow.objects.get_or_create(**keys, defaults={"level": level})
    return row


def auto_follow(*, user, subject: Model) -> None:
    """What a staff member creates or is assigned to, they follow (unless they chose
    otherwise before)."""
    if user is not None and user.pk and user.is_staff:
        follow(user=user, subject=subject, replace=False)
