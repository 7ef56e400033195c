"""Writes of the social side of streams: follows, the inbox, comments with mentions.

Who may do what:
- follow, unfollow and comment: active staff who may see the subject (its app's `view_`
  permission) — a subject of a kind streams tracks, in this shop;
- edit a comment: its author only (nobody puts words in someone else's mouth);
- delete a comment: its author, or staff with `streams.delete_comment` (owner and manager:
  moderation). Deleting leaves a tombstone: the replies stay, the words and their earlier
  versions go.

Mentions: `@` followed by a staff member's email, or by the part of it before the `@`
(`@marie.curie` for marie.curie@shop.fr) when only one active staff member has it. Only
active staff of this shop are found (users live in the shop's schema); anything else is
plain text. A mention reaches the person even if they muted the subject or do not follow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from streams.errors import SocialError, SocialForbidden, SocialNotFound
from streams.events import auto_follow, notify, notify_followers, record
from streams.models import (
    Comment,
    CommentRevision,
    DigestSubscription,
    Event,
    Follow,
    FollowLevel,
    Notification,
    NotificationReason,
)
from streams.selectors_social import (
    comment_get,
    mention_tokens,
    notification_row,
    subject_exists,
    subject_get,
)
from streams.subjects import content_type_id

if TYPE_CHECKING:
    from tenants.accounts.models import User

COMMENT_MAX_LENGTH = 5000
# More names than this in one comment is a list, not a conversation: the rest stay text.
MENTIONS_MAX = 20
EXCERPT_LENGTH = 140
COMMENTED = "commented"


# ---------------------------------------------------------------------------------------------
# Follows
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def follow_set(*, user: User, subject_type_id: int, subject_id: int, level: str) -> Follow:
    """Follow a subject at `level` (all / important / mute), or change the level."""
    if level not in FollowLevel.values:
        raise SocialError(_("Choose what to hear about: everything, important only, or "
                            "nothing (muted)."), field="level")
    subject_exists(user=user, subject_type_id=subject_type_id, subject_id=subject_id)
    row, _created = Follow.objects.update_or_create(
        user=user, subject_type_id=subject_type_id, subject_id=subject_id,
        defaults={"level": level})
    return row


@transaction.atomic
def follow_remove(*, user: User, subject_type_id: int, subject_id: int) -> bool:
    """Stop following (whatever the subject has become: a deleted one can be unfollowed).
    False if the user did not follow it."""
    deleted, _rows = Follow.objects.filter(user=user, subject_type_id=subject_type_id,
                                           subject_id=subject_id).delete()
    return bool(deleted)


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------
def _own_notification(user: User, notification_id: int) -> Notification:
    notification = (Notification.objects.select_related("event")
                    .filter(pk=notification_id, recipient_id=user.pk).first())
    if notification is None:  # someone else's is "no such", not "forbidden": ids say nothing
        raise SocialNotFound(_("There is no such notification in your inbox."))
    return notification


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again: harmless)."""
    notification = _own_notification(user, notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at)
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User, up_to: int | None = None) -> int:
    """Mark the user's unread notifications read; with `up_to`, only those up to that id
    (the newest one the user saw: what arrived since stays unread). Returns how many."""
    qs = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if up_to is not None:
        qs = qs.filter(pk__lte=up_to)
    return qs.update(read_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------------------------
def _clean_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise SocialError(_("Write something before posting."), field="body")
    if len(text) > COMMENT_MAX_LENGTH:
        raise SocialError(
            _("A comment has at most %(max)s characters; this one has %(length)s.")
            % {"max": f"{COMMENT_MAX_LENGTH:,}", "length": f"{len(text):,}"}, field="body")
    return text


def mentioned_staff(body: str) -> list[int]:
    """Ids of the active staff a text mentions (see the module's docstring for the rule)."""
    tokens = mention_tokens(body)[:MENTIONS_MAX]
    if not tokens:
        return []
    emails = [t for t in tokens if "@" in t]
    locals_ = [t for t in tokens if "@" not in t]
    match = Q(email__in=emails) if emails else Q()
    for local in locals_:
        match |= Q(email__istartswith=f"{local}@")
    staff = (get_user_model().objects.filter(match, is_staff=True, is_active=True)
             .values_list("pk", "email"))
    by_email: dict[str, int] = {}
    by_local: dict[str, list[int]] = {}
    for pk, email in staff:
        email = email.lower()
        by_email[email] = pk
        by_local.setdefault(email.split("@")[0], []).append(pk)
    found: list[int] = []
    for token in tokens:
        if "@" in token:
            pk = by_email.get(token)
        else:
            same = by_local.get(token, [])
            pk = same[0] if len(same) == 1 else None  # two marie@: say which one in full
        if pk is not None:
            found.append(pk)
    return list(dict.fromkeys(found))


def _excerpt(body: str) -> str:
    return Truncator(" ".join(body.split())).chars(EXCERPT_LENGTH)


def _comment_event(comment: Comment) -> Event | None:
    return (Event.objects.filter(subject_type_id=comment.subject_type_id,
                                 subject_id=comment.subject_id, verb=COMMENTED,
                                 data__comment=comment.pk)
            .order_by("id").first())


@transaction.atomic
def comment_create(*, by: User, subject_type_id: int, subject_id: int, body: str,
                   parent_id: int | None = None, customer_visible: bool = False) -> Comment:
    """Comment on a subject (or reply to one of its comments). The author follows the
    subject from then on; one "commented" event goes on its timeline; followers hear of it
    (never the author), and the mentioned staff too, once each, even if they do not follow."""
    text = _clean_body(body)
    subject = subject_get(user=by, subject_type_id=subject_type_id, subject_id=subject_id)
    root_id = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, subject_type_id=subject_type_id,
                                        subject_id=subject_id).first()
        if parent is None:
            raise SocialError(_("The comment you reply to is not on this page any more."),
                              field="parent")
        if parent.deleted_at is not None:
            raise SocialError(_("This comment was deleted: add a comment of your own "
                                "instead."), field="parent")
        # One level of replies: an answer to a reply goes under the same top-level comment.
        root_id = parent.parent_id or parent.pk
    comment = Comment.objects.create(
        subject_type_id=content_type_id(subject), subject_id=subject.pk, parent_id=root_id,
        author=by, author_name=by.get_full_name(), body=text,
        customer_visible=customer_visible)
    mentioned = mentioned_staff(text)
    if mentioned:
        comment.mentions.set(mentioned)
    auto_follow(user=by, subject=subject)
    event = record(subject=subject, verb=COMMENTED, actor=by, message=_excerpt(text),
                   data={"comment": comment.pk}, notify=False)
    # Mentions first: a mentioned follower keeps one notification, and it says why.
    notify(event, [pk for pk in mentioned if pk != by.pk], reason=NotificationReason.MENTION)
    notify_followers(event)
    return comment


@transaction.atomic
def comment_edit(*, by: User, comment_id: int, body: str) -> Comment:
    """Change the text of one's own comment; the previous text is kept as a revision. Staff
    mentioned for the first time are told (on the comment's event)."""
    text = _clean_body(body)
    comment = comment_get(user=by, comment_id=comment_id, for_update=True)
    if comment.deleted_at is not None:
        raise SocialError(_("This comment was deleted: it cannot be edited."))
    if comment.author_id != by.pk:
        raise SocialForbidden(_("Only its author can edit a comment."))
    if text == comment.body:
        return comment
    CommentRevision.objects.create(comment=comment, body=comment.body, edited_by=by)
    comment.body = text
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    before = set(comment.mentions.values_list("pk", flat=True))
    mentioned = mentioned_staff(text)
    comment.mentions.set(mentioned)
    event = _comment_event(comment)
    if event is not None:
        Event.objects.filter(pk=event.pk).update(message=_excerpt(text))
        notify(event, [pk for pk in mentioned if pk not in before and pk != by.pk],
               reason=NotificationReason.MENTION)
    return comment


def comment_may_delete(comment: Comment, user: User) -> bool:
    return comment.author_id == user.pk or user.has_perm("streams.delete_comment")


@transaction.atomic
def comment_delete(*, by: User, comment_id: int) -> Comment:
    """Delete a comment, leaving a tombstone ("This comment was deleted") so its replies keep
    their place. Its words go, with their earlier versions and the excerpt on the timeline."""
    comment = comment_get(user=by, comment_id=comment_id, for_update=True)
    if comment.deleted_at is not None:
        raise SocialError(_("This comment was already deleted."))
    if not comment_may_delete(comment, by):
        raise SocialForbidden(_("Only its author or a manager can delete a comment."))
    comment.deleted_at = timezone.now()
    comment.deleted_by = by
    comment.body = ""
    comment.save(update_fields=["deleted_at", "deleted_by", "body"])
    comment.revisions.all().delete()
    comment.mentions.clear()
    event = _comment_event(comment)
    if event is not None:
        Event.objects.filter(pk=event.pk).update(message="")
    return comment


# ---------------------------------------------------------------------------------------------
# Email digest (opt-in)
# ---------------------------------------------------------------------------------------------
DIGEST_LISTED = 20  # a digest lists the newest ones and says how many more wait in the inbox


@transaction.atomic
def digest_subscribe(*, user: User, enabled: bool) -> bool:
    """Opt in or out of the daily email of unread notifications. Returns the new choice."""
    if not (user.is_active and user.is_staff):
        raise SocialForbidden(_("Only the shop's staff get notifications."))
    if enabled:
        DigestSubscription.objects.get_or_create(user=user)
    else:
        DigestSubscription.objects.filter(user=user).delete()
    return enabled


def digest_subscribed(*, user: User) -> bool:
    return DigestSubscription.objects.filter(user=user).exists()


def digest_send(*, base_url: str, shop_name: str, language: str = "en") -> int:
    """Email each subscribed staff member the notifications they have neither read nor been
    emailed, once each (marked `emailed_at` in the same transaction; the email leaves after
    it commits). Returns how many emails went out."""
    sent = 0
    subscriptions = (DigestSubscription.objects
                     .filter(user__is_active=True, user__is_staff=True)
                     .select_related("user"))
    for subscription in subscriptions:
        with transaction.atomic():
            pending = (Notification.objects
                       .filter(recipient=subscription.user, read_at__isnull=True,
                               emailed_at__isnull=True))
            # Locked so a second beat run (or a slow first one) never emails the same rows.
            ids = list(pending.select_for_update(skip_locked=True)
                       .order_by("-id").values_list("pk", flat=True))
            if not ids:
                continue
            now = timezone.now()
            Notification.objects.filter(pk__in=ids).update(emailed_at=now)
            subscription.last_sent_at = now
            subscription.save(update_fields=["last_sent_at"])
            listed = list(Notification.objects.filter(pk__in=ids[:DIGEST_LISTED])
                          .select_related("event").order_by("-id"))
            with translation.override(language):
                rows = [notification_row(n, lambda n: base_url + reverse(
                    "streams:notification_open", args=[n.pk])) for n in listed]
                context = {"rows": rows, "total": len(ids), "more": len(ids) - len(rows),
                           "shop_name": shop_name, "inbox_url": base_url + reverse(
                               "streams:inbox")}
                subject = " ".join(render_to_string(
                    "streams/social/email/digest_subject.txt", context).split())
                body = render_to_string("streams/social/email/digest.txt", context)
            email = subscription.user.email
            transaction.on_commit(
                lambda s=subject, b=body, e=email: send_mail(s, b, None, [e]), robust=True)
            sent += 1
    return sent
