"""Reads of the social side of streams: which subjects a staff member may follow or comment
on, their follow, their inbox, the comments of a subject. Views, the API and the template tags
share them; each costs a fixed number of queries whatever the amount of data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Model, Prefetch, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streams.errors import SocialForbidden, SocialNotFound
from streams.models import Comment, Follow, Importance, Notification, NotificationReason
from streams.subjects import Tracking, tracked, tracking_for_type, view_permission

if TYPE_CHECKING:
    from tenants.accounts.models import User

# The badge says "99+" beyond this: counting a backlog of thousands to print it is waste.
UNREAD_BADGE_LIMIT = 100

# `@` then a staff member's full email or the part of it before the `@` ("@marie.curie" or
# "@marie.curie@shop.fr"); not after a letter, digit or dot, so "a@b.fr" in a sentence is an
# email, not a mention. A trailing dot or hyphen ends the sentence, not the name.
MENTION_RE = re.compile(
    r"(?<![\w.@])@([A-Za-z0-9][A-Za-z0-9._%+-]*(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")

# Verbs streams writes itself (the domain verbs are named by their app's `track(verbs=...)`).
VERB_LABELS = {"commented": gettext_lazy("New comment")}


def mention_tokens(body: str) -> list[str]:
    """The names after `@` in a text, lower-cased, in order, each once."""
    tokens = (match.group(1).rstrip(".-_").lower() for match in MENTION_RE.finditer(body))
    return list(dict.fromkeys(token for token in tokens if token))


# ---------------------------------------------------------------------------------------------
# Subjects: what may be followed and commented on, by whom
# ---------------------------------------------------------------------------------------------
def subject_tracking(*, user: User, subject_type_id: int) -> Tracking:
    """The registration of a kind of subject this staff member may see, or a refusal."""
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        raise SocialForbidden(_("Only the shop's staff follow and comment."))
    tracking = tracking_for_type(subject_type_id)
    if tracking is None:
        raise SocialNotFound(_("This kind of thing cannot be followed or commented on."),
                             field="subject_type")
    if not user.has_perm(view_permission(tracking)):
        raise SocialForbidden(_("Your role does not allow you to see this."))
    return tracking


def subject_get(*, user: User, subject_type_id: int, subject_id: int) -> Model:
    """The subject (an order, a quote, a project...) if it exists in this shop, is a kind
    streams tracks and `user` may see it; otherwise SocialNotFound / SocialForbidden."""
    tracking = subject_tracking(user=user, subject_type_id=subject_type_id)
    subject = tracking.model._default_manager.filter(pk=subject_id).first()
    if subject is None:
        raise SocialNotFound(_("There is no such %(kind)s in this shop.")
                             % {"kind": str(tracking.name or tracking.model._meta.verbose_name)
                                .lower()}, field="subject_id")
    return subject


def subject_exists(*, user: User, subject_type_id: int, subject_id: int) -> None:
    """Like `subject_get`, without reading the row's columns (following needs only its id)."""
    tracking = subject_tracking(user=user, subject_type_id=subject_type_id)
    if not tracking.model._default_manager.filter(pk=subject_id).exists():
        raise SocialNotFound(_("There is no such %(kind)s in this shop.")
                             % {"kind": str(tracking.name or tracking.model._meta.verbose_name)
                                .lower()}, field="subject_id")


def subject_kinds() -> dict[str, Tracking]:
    """"sales.order" -> its registration: how API clients name kinds of subjects (content
    type ids differ from one shop to the next)."""
    return {tracking.model._meta.label_lower: tracking for tracking in tracked()}


# ---------------------------------------------------------------------------------------------
# Follows
# ---------------------------------------------------------------------------------------------
def follow_get(*, user: User, subject_type_id: int, subject_id: int) -> Follow | None:
    if user is None or not user.is_authenticated:
        return None
    return Follow.objects.filter(user=user, subject_type_id=subject_type_id,
                                 subject_id=subject_id).first()


def follows_for(*, user: User) -> QuerySet[Follow]:
    return Follow.objects.filter(user=user).order_by("-created_at", "-id")


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------
def notifications_for(*, user: User, unread: bool = False) -> QuerySet[Notification]:
    """The user's inbox, newest first, with each notification's event (one query a page)."""
    qs = Notification.objects.filter(recipient=user).select_related("event")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-id")


def unread_count(*, user: User, limit: int | None = None) -> int:
    """Unread notifications (a COUNT on the partial index of unread rows); with `limit`, it
    stops counting there."""
    if user is None or not (user.is_authenticated and user.is_staff):
        return 0
    qs = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if limit:
        qs = qs.values("pk")[:limit]
    return qs.count()


REASON_LABELS = dict(NotificationReason.choices)


def verb_label(tracking: Tracking | None, verb: str) -> str:
    if verb in VERB_LABELS:
        return str(VERB_LABELS[verb])
    label = tracking.verbs.get(verb) if tracking else None
    return str(label) if label else verb.replace("_", " ").capitalize()


def notification_row(notification: Notification, url_for) -> dict[str, Any]:
    """What the inbox and the API show of a notification (no query: the event is joined)."""
    event = notification.event
    tracking = tracking_for_type(event.subject_type_id)
    states = tracking.states if tracking else {}
    return {
        "id": notification.pk,
        "unread": notification.read_at is None,
        "reason": notification.reason,
        "reason_label": str(REASON_LABELS.get(notification.reason, "")),
        "what": verb_label(tracking, event.verb),
        "who": event.actor_name or (_("The customer") if event.actor_kind == "customer"
                                    else _("Automatic")),
        "subject": event.subject_label,
        "kind": str(tracking.name) if tracking and tracking.name else "",
        "before": str(states.get(event.before, event.before)) if event.before else "",
        "after": str(states.get(event.after, event.after)) if event.after else "",
        "message": event.message,
        "at": event.at,
        "important": event.importance >= Importance.HIGH,
        "open_url": url_for(notification),
    }


# ---------------------------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------------------------
@dataclass
class CommentNode:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


@dataclass
class Thread:
    roots: list[CommentNode]
    count: int  # comments that are not deleted

    def __iter__(self):
        return iter(self.roots)


def comments_for(*, subject_type_id: int, subject_id: int,
                 customer_visible_only: bool = False) -> QuerySet[Comment]:
    """A subject's comments, oldest first, with their mentions and earlier versions: three
    queries however many comments there are."""
    user_model = get_user_model()
    qs = (Comment.objects
          .filter(subject_type_id=subject_type_id, subject_id=subject_id)
          .prefetch_related(Prefetch("mentions",
                                     queryset=user_model.objects.only("id", "email")),
                            "revisions")
          .order_by("created_at", "id"))
    if customer_visible_only:
        qs = qs.filter(customer_visible=True)
    return qs


def comment_read(*, comment_id: int) -> Comment:
    """One comment with its mentions and earlier versions (after a write: it exists)."""
    return Comment.objects.prefetch_related("mentions", "revisions").get(pk=comment_id)


def comment_thread(*, subject_type_id: int, subject_id: int) -> Thread:
    """Top-level comments with their replies under them (one level: a reply to a reply is
    stored under the same top-level comment)."""
    comments = list(comments_for(subject_type_id=subject_type_id, subject_id=subject_id))
    nodes = {c.pk: CommentNode(c) for c in comments if c.parent_id is None}
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in nodes:
            nodes[comment.parent_id].replies.append(comment)
    return Thread(roots=list(nodes.values()),
                  count=sum(1 for c in comments if c.deleted_at is None))


def comment_get(*, user: User, comment_id: int, for_update: bool = False) -> Comment:
    """A comment on a subject `user` may see, or SocialNotFound / SocialForbidden."""
    qs = Comment.objects.select_for_update() if for_update else Comment.objects
    comment = qs.filter(pk=comment_id).first()
    if comment is None:
        raise SocialNotFound(_("There is no such comment."), field="comment")
    subject_tracking(user=user, subject_type_id=comment.subject_type_id)
    return comment


def comment_html(comment: Comment) -> SafeString:
    """The comment's text, escaped, with its line breaks and the mentions that reached
    someone highlighted (mentions prefetched: no query)."""
    names: set[str] = set()
    for user in comment.mentions.all():
        email = user.email.lower()
        names.update((email, email.split("@")[0]))
    parts: list[str] = []
    position = 0
    body = comment.body
    for match in MENTION_RE.finditer(body):
        token = match.group(1).rstrip(".-_")
        if token.lower() not in names:
            continue
        start, end = match.start(), match.start(1) + len(token)
        parts.append(escape(body[position:start]))
        parts.append(f'<span class="mention">@{escape(token)}</span>')
        position = end
    parts.append(escape(body[position:]))
    html = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>")
    return mark_safe(html)  # noqa: S308 - every piece of the text is escaped above
